/// An inbound event that passed the envelope rules, ready for the journal and its handler.
public struct Envelope: Sendable, Equatable {
    /// The event's identity: the same id twice must have the effect of one delivery.
    public let id: String
    public let type: EventType
    public let occurredAt: Timestamp
    /// Provenance, kept as given.
    public let source: String?

    public init(id: String, type: EventType, occurredAt: Timestamp, source: String?) {
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.source = source
    }
}

/// What the AMQP transport knew about a message besides its body; the fallbacks EVENTS.md names.
public struct MessageContext: Sendable, Equatable {
    public var messageID: String?
    public var type: String?
    public var routingKey: String
    public var contentType: String?
    public var contentEncoding: String?

    public init(messageID: String? = nil, type: String? = nil, routingKey: String,
                contentType: String? = nil, contentEncoding: String? = nil) {
        self.messageID = messageID
        self.type = type
        self.routingKey = routingKey
        self.contentType = contentType
        self.contentEncoding = contentEncoding
    }
}

/// Why a message was refused, as publishers read it in the `x-patron-error` header:
/// the field path and the reason, e.g. `occurred_at: not an RFC 3339 date-time with offset`.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, low-cardinality label for metrics (never contains message content).
    public enum Reason: String, Sendable, CaseIterable {
        case invalidJSON = "invalid_json"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case invalidValue = "invalid_value"
        case unknownType = "unknown_type"
        case unsupportedEncoding = "unsupported_encoding"
        /// Valid, but applying it failed for a reason that retrying will not fix.
        case unprocessable = "unprocessable"
    }

    public let reason: Reason
    /// Dotted path of the offending field (`id`, `data.customer.email`), or `body`/`properties.x`.
    public let field: String
    public let message: String

    public init(_ reason: Reason, field: String, _ message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
