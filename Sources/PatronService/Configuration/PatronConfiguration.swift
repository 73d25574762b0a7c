import Foundation
import PatronAMQP
import PatronDomain

/// Everything `patrond` reads from its configuration file and environment, validated.
///
/// Keys and their meaning are documented in `config/patrond.example.yaml`.
public struct PatronConfiguration: Sendable, Equatable {
    public enum Role: String, Sendable, Comparable, CaseIterable {
        case viewer, `operator`, admin
        var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    }

    public struct Broker: Sendable, Equatable {
        public var urls: [AMQPURL]
        public var tls: AMQPClient.TLSOptions
        public var heartbeatSeconds: Int
        public var prefetch: UInt16
        public var connectTimeoutSeconds: Int
        public var reconnectInitialDelayMilliseconds: Int
        public var reconnectMaximumDelaySeconds: Int
    }

    public struct Topology: Sendable, Equatable {
        public var eventsExchange = "patron.events"
        public var ingestQueue = "patron.ingest"
        public var ingestQueueType = "quorum"
        /// Quorum queues only: after this many redeliveries the broker dead-letters a message, so a
        /// message that crashes patrond every time cannot stop ingest for good.
        public var deliveryLimit = 20
        public var deadExchange = "patron.dead"
        public var deadQueue = "patron.dead"
        public var commandsExchange = "patron.commands"
        public var commandsQueue = "patron.commands"
        public var dispatchExchange = "patron.dispatch"
        public var notificationsExchange = "patron.notifications"

        /// Every object under `prefix.` (`prefix.events`, `prefix.ingest`, …): an isolated set
        /// on a shared broker, as the tests and the benchmark use.
        public static func prefixed(_ prefix: String) -> Topology {
            var names = Topology()
            names.eventsExchange = "\(prefix).events"
            names.ingestQueue = "\(prefix).ingest"
            names.deadExchange = "\(prefix).dead"
            names.deadQueue = "\(prefix).dead"
            names.commandsExchange = "\(prefix).commands"
            names.commandsQueue = "\(prefix).commands"
            names.dispatchExchange = "\(prefix).dispatch"
            names.notificationsExchange = "\(prefix).notifications"
            return names
        }
    }

    public struct Ingest: Sendable, Equatable {
        public var batchSize = 500
    }

    public struct Storage: Sendable, Equatable {
        public var dataDirectory = "./var"
        public var databaseFile = "patron.sqlite"
    }

    public struct Exports: Sendable, Equatable {
        /// Nil: `exports` under the data directory.
        public var directory: String?
        /// Export files older than this are deleted (their log entries stay).
        public var retentionDays = 30
        /// The TrueType font PDF exports embed; `-Bold` beside it is used for headers if present.
        public var pdfFont = Self.defaultPDFFont
        public static let defaultPDFFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    }

    public struct Schedules: Sendable, Equatable {
        /// A run planned while patrond was down runs once at start-up; false: it is recorded as missed.
        public var catchUpMissed = true
    }

    public struct Metrics: Sendable, Equatable {
        /// `host:port` on loopback, or nil for no endpoint.
        public var listenHost: String? = "127.0.0.1"
        public var listenPort = 9464
    }

    public var broker: Broker
    public var topology = Topology()
    public var ingest = Ingest()
    public var storage = Storage()
    public var exports = Exports()
    public var schedules = Schedules()
    public var logLevel = "info"
    public var metrics = Metrics()
    /// Broker user name → role, for commands (EVENTS.md, "Commands").
    public var roles: [String: Role] = [:]
    public var shutdownGraceSeconds = 20
    /// The record rules (`records:`): default country and currency, titles, tags, blocklist.
    public var records = RecordRules()
    /// `records.default_language`: for customers who never stated one (dispatch templates).
    public var defaultLanguage = "es"
    /// The HMAC key for the hashes kept of erased identities (`records.erasure_hash_key` or
    /// PATRON_ERASURE_HASH_KEY). Changing it forgets every erasure suppression.
    public var erasureHashKey = ""

    public init(broker: Broker) {
        self.broker = broker
    }

    /// Where export files are written.
    public var exportsDirectory: String {
        exports.directory ?? (storage.dataDirectory as NSString).appendingPathComponent("exports")
    }

    /// The AMQP client settings for one of patrond's connections.
    public func clientConfiguration(connectionName: String) -> AMQPClient.Configuration {
        AMQPClient.Configuration(
            urls: broker.urls, tls: broker.tls, heartbeatSeconds: broker.heartbeatSeconds,
            connectTimeout: .seconds(broker.connectTimeoutSeconds),
            reconnectInitialDelay: .milliseconds(broker.reconnectInitialDelayMilliseconds),
            reconnectMaximumDelay: .seconds(broker.reconnectMaximumDelaySeconds),
            connectionName: connectionName)
    }
}
