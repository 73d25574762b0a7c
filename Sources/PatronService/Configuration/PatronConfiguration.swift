import Foundation
import PatronAMQP
import PatronDomain
import PatronStorage

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
        /// `patron.dead` and `patron.commands`: classic by default, as brokers from before these
        /// settings have them (a broker refuses to redeclare a queue as another type). On a
        /// cluster they must be quorum: a classic queue lives on one node, and while that node is
        /// down no replica can declare it, so none could reconnect.
        public var deadQueueType = "classic"
        public var commandsQueueType = "classic"
        public var dispatchExchange = "patron.dispatch"
        /// Declare `<dispatch exchange>.email` and `.sms`, bound by routing key, so jobs confirmed
        /// while no gateway is connected wait in a queue instead of being dropped as unroutable.
        public var dispatchQueues = true
        public var notificationsExchange = "patron.notifications"

        public func dispatchQueue(_ channel: DispatchChannel) -> String { "\(dispatchExchange).\(channel.rawValue)" }

        /// The queues on-call watches, by label: what patrond consumes, what it set aside, what
        /// staff ask it, and the dispatch queues the gateways drain (when patrond declares them).
        public var watchedQueues: [(label: String, name: String)] {
            [("ingest", ingestQueue), ("dead", deadQueue), ("commands", commandsQueue)]
                + (dispatchQueues ? DispatchChannel.allCases.map { ("dispatch \($0.rawValue)", dispatchQueue($0)) } : [])
        }

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
        /// SQLite's directory, and exports' unless `exports.directory` says otherwise.
        public var dataDirectory = "./var"
        public var databaseFile = "patron.sqlite"
        /// A `postgres://` URL: the database is PostgreSQL (several replicas may share it), not
        /// the SQLite file. Checked when loaded.
        public var databaseURL: String?

        /// Where the database is.
        public func location() throws -> StorageLocation {
            guard let databaseURL else { return .sqlite(directory: dataDirectory, file: databaseFile) }
            return .postgres(try PostgresLocation(url: databaseURL))
        }
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

    /// `dispatch:`: what the email and SMS jobs are made of and when they go.
    public struct Dispatch: Sendable, Equatable {
        /// Nil: no templates, so no rules and `dispatch.send` is refused.
        public var templatesDirectory: String?
        /// The `hotel` section of the templates' variables (name, phone, email, url).
        public var hotel: [String: String] = [:]
        /// Rules' dates and quiet hours are reckoned on this zone's clock.
        public var timeZone = TimeZone(identifier: "Europe/Madrid")!
        /// Marketing emails link here; `{token}` is replaced by the recipient's unsubscribe token.
        public var unsubscribeURL: String?
        /// Ends every marketing SMS.
        public var smsOptOut = "STOP"
        public var quietHours: QuietHours? = QuietHours(start: 21 * 60, end: 9 * 60)
        /// Jobs per second handed to the broker per channel; absent: as fast as it confirms.
        public var rateLimits: [DispatchChannel: Int] = [:]
        /// A rule's moment older than this is not sent (replays, backlogs).
        public var maximumLatenessSeconds: Int64 = 48 * 3600
        /// `dispatch.send` without an idempotency key skips whoever was sent the same template on
        /// the same channel this recently, unless asked to `resend`; 0 turns the check off.
        public var resendWindowSeconds: Int64 = 24 * 3600
        public var rules: [DispatchRule] = []
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
    public var dispatch = Dispatch()
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
