/// A header or argument value as AMQP 0-9-1 field tables carry it (RabbitMQ's type set).
public indirect enum AMQPFieldValue: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(UInt64)
    case decimal(scale: UInt8, value: UInt32)
    case table(AMQPTable)
    case array([AMQPFieldValue])
    case void
}

/// An ordered AMQP field table. Order is kept so that re-published headers look like the originals.
public struct AMQPTable: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: AMQPFieldValue
        public init(key: String, value: AMQPFieldValue) {
            self.key = key
            self.value = value
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        entries = elements.map { Entry(key: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The value for `key`; setting replaces it in place, or appends a new entry.
    public subscript(key: String) -> AMQPFieldValue? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }
}

/// The basic properties of a message; `nil` means the property is not set.
public struct AMQPProperties: Sendable, Equatable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable
    /// 2 = persistent.
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable = AMQPTable(),
                deliveryMode: UInt8? = nil, priority: UInt8? = nil, correlationID: String? = nil,
                replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
                timestamp: UInt64? = nil, type: String? = nil, userID: String? = nil, appID: String? = nil) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }

    /// JSON, persistent: what every Patron message is on the wire.
    public static func persistentJSON(headers: AMQPTable = AMQPTable()) -> AMQPProperties {
        AMQPProperties(contentType: "application/json", headers: headers, deliveryMode: 2)
    }
}

/// A message received from a consumer or `basic.get`, copied out of rabbitmq-c's buffers.
public struct AMQPDelivery: Sendable {
    public let deliveryTag: UInt64
    public let redelivered: Bool
    public let exchange: String
    public let routingKey: String
    public let properties: AMQPProperties
    public let body: [UInt8]
    /// Which channel and which connection generation the tag belongs to: a tag is meaningless
    /// on any other channel or after a reconnect.
    let channel: UInt16
    let generation: UInt64

    /// A delivery that belongs to no connection, for unit tests of code that reads deliveries.
    public static func forTesting(exchange: String = "", routingKey: String, properties: AMQPProperties = AMQPProperties(),
                                  body: [UInt8]) -> AMQPDelivery {
        AMQPDelivery(deliveryTag: 0, redelivered: false, exchange: exchange, routingKey: routingKey,
                     properties: properties, body: body, channel: 0, generation: .max)
    }
}

/// A message to publish.
public struct AMQPOutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(exchange: String, routingKey: String, properties: AMQPProperties = .persistentJSON(), body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}
