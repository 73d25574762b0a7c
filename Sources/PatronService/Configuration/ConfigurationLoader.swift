import Foundation
import PatronAMQP
import PatronDomain
import PatronPhone
import PatronStorage
import Yams

/// A configuration problem, named by its key (or environment variable) and the reason.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }

    /// sysexits.h EX_CONFIG: systemd's `RestartPreventExitStatus=` stops restart loops on it.
    public static let exitCode: Int32 = 78
}

/// Reads the YAML file, applies environment overrides and validates every value.
///
/// Unknown keys are errors, not ignored: a misspelt `prefech:` silently falling back to the
/// default is the kind of mistake found only in production.
public enum ConfigurationLoader {
    public static let environmentOverrides = ["PATRON_AMQP_URL", "PATRON_DATA_DIR", "PATRON_DATABASE_URL", "PATRON_LOG_LEVEL", "PATRON_METRICS_LISTEN",
                                               "PATRON_ERASURE_HASH_KEY", "PATRON_ROLES"]

    /// Who reads the file. patronctl reads it for the broker and the object names only, so it
    /// never needs (nor checks) the daemon's secrets: an operator's shell should not hold them.
    public enum Reader: Sendable {
        case daemon
        case client
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            reader: Reader = .daemon) throws -> PatronConfiguration {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(key: path, reason: "no such configuration file")
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: path, reason: "cannot read the configuration file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, environment: environment, reader: reader)
    }

    public static func parse(yaml: String, environment: [String: String] = [:], reader: Reader = .daemon) throws -> PatronConfiguration {
        let root: Node
        do {
            root = try Yams.compose(yaml: yaml) ?? Node.mapping(Node.Mapping([]))
        } catch {
            throw ConfigurationError(key: "(file)", reason: "not valid YAML: \(error)")
        }
        let document = ConfigNode(node: root, path: "")
        try document.onlyKeys(["amqp", "topology", "ingest", "storage", "exports", "schedules", "logging", "metrics", "roles", "shutdown", "records", "dispatch"])

        let amqp = try document.section("amqp")
        try amqp.onlyKeys(["url", "urls", "tls", "heartbeat_seconds", "prefetch", "connect_timeout_seconds", "reconnect"])
        var urlTexts = try amqp.stringList("urls") ?? []
        if let single = try amqp.string("url") { urlTexts.insert(single, at: 0) }
        var urlKey = "amqp.url"
        if let fromEnvironment = environment["PATRON_AMQP_URL"], !fromEnvironment.isEmpty {
            urlTexts = fromEnvironment.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            urlKey = "PATRON_AMQP_URL"
        }
        if urlTexts.isEmpty { urlTexts = ["amqp://guest:guest@127.0.0.1:5672/"] }
        let urls = try urlTexts.map { text -> AMQPURL in
            do { return try AMQPURL(parsing: text) } catch let error as AMQPError {
                if case .invalidArgument(let reason) = error.kind { throw ConfigurationError(key: urlKey, reason: reason) }
                throw error
            }
        }
        let tlsNode = try amqp.section("tls")
        try tlsNode.onlyKeys(["ca_file", "cert_file", "key_file", "verify_peer", "verify_hostname"])
        let tls = AMQPClient.TLSOptions(
            caFile: try tlsNode.string("ca_file"), certificateFile: try tlsNode.string("cert_file"),
            keyFile: try tlsNode.string("key_file"), verifyPeer: try tlsNode.bool("verify_peer") ?? true,
            verifyHostname: try tlsNode.bool("verify_hostname") ?? true)
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw ConfigurationError(key: "amqp.tls.cert_file", reason: "cert_file and key_file go together")
        }
        for (key, file) in [("ca_file", tls.caFile), ("cert_file", tls.certificateFile), ("key_file", tls.keyFile)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) {
                throw ConfigurationError(key: "amqp.tls.\(key)", reason: "file '\(file)' is not readable")
            }
        }
        let reconnect = try amqp.section("reconnect")
        try reconnect.onlyKeys(["initial_delay_ms", "max_delay_seconds"])
        let broker = PatronConfiguration.Broker(
            urls: urls, tls: tls,
            heartbeatSeconds: try amqp.int("heartbeat_seconds", in: 0...600) ?? 30,
            prefetch: UInt16(try amqp.int("prefetch", in: 1...65535) ?? 3000),
            connectTimeoutSeconds: try amqp.int("connect_timeout_seconds", in: 1...300) ?? 10,
            reconnectInitialDelayMilliseconds: try reconnect.int("initial_delay_ms", in: 10...60_000) ?? 250,
            reconnectMaximumDelaySeconds: try reconnect.int("max_delay_seconds", in: 1...3600) ?? 30)
        var configuration = PatronConfiguration(broker: broker)

        let topology = try document.section("topology")
        let names: [(String, WritableKeyPath<PatronConfiguration.Topology, String>)] = [
            ("events_exchange", \.eventsExchange), ("ingest_queue", \.ingestQueue), ("dead_exchange", \.deadExchange),
            ("dead_queue", \.deadQueue), ("commands_exchange", \.commandsExchange), ("commands_queue", \.commandsQueue),
            ("dispatch_exchange", \.dispatchExchange), ("notifications_exchange", \.notificationsExchange),
        ]
        try topology.onlyKeys(Set(names.map(\.0) + ["ingest_queue_type", "dead_queue_type", "commands_queue_type", "delivery_limit",
                                                      "dispatch_queues"]))
        configuration.topology.dispatchQueues = try topology.bool("dispatch_queues") ?? true
        for (key, path) in names {
            if let value = try topology.string(key) {
                guard !value.isEmpty, value.utf8.count <= 255, !value.hasPrefix("amq.") else {
                    throw ConfigurationError(key: "topology.\(key)", reason: "must be 1–255 bytes and not start with 'amq.'")
                }
                configuration.topology[keyPath: path] = value
            }
        }
        for (key, path) in [("ingest_queue_type", \PatronConfiguration.Topology.ingestQueueType), ("dead_queue_type", \.deadQueueType),
                            ("commands_queue_type", \.commandsQueueType)] {
            guard let type = try topology.string(key) else { continue }
            guard ["quorum", "classic"].contains(type) else {
                throw ConfigurationError(key: "topology.\(key)", reason: "must be quorum or classic")
            }
            configuration.topology[keyPath: path] = type
        }
        configuration.topology.deliveryLimit = try topology.int("delivery_limit", in: 1...1000) ?? 20

        let ingest = try document.section("ingest")
        try ingest.onlyKeys(["batch_size"])
        configuration.ingest.batchSize = try ingest.int("batch_size", in: 1...10_000) ?? 500
        if configuration.ingest.batchSize > Int(broker.prefetch) {
            throw ConfigurationError(key: "ingest.batch_size", reason: "must not exceed amqp.prefetch (\(broker.prefetch))")
        }

        let storage = try document.section("storage")
        try storage.onlyKeys(["data_dir", "database_file", "database_url"])
        if let directory = environment["PATRON_DATA_DIR"], !directory.isEmpty {
            configuration.storage.dataDirectory = directory
        } else if let directory = try storage.string("data_dir") {
            guard !directory.isEmpty else { throw ConfigurationError(key: "storage.data_dir", reason: "must not be empty") }
            configuration.storage.dataDirectory = directory
        }
        if let file = try storage.string("database_file") {
            guard !file.isEmpty, !file.contains("/") else {
                throw ConfigurationError(key: "storage.database_file", reason: "must be a file name without '/'")
            }
            configuration.storage.databaseFile = file
        }
        var databaseURLKey = "storage.database_url"
        var url = try storage.string("database_url")
        if let override = environment["PATRON_DATABASE_URL"], !override.isEmpty {
            (databaseURLKey, url) = ("PATRON_DATABASE_URL", override)
        }
        if let url, !url.isEmpty {
            do {
                _ = try PostgresLocation(url: url)
            } catch {
                throw ConfigurationError(key: databaseURLKey, reason: "\(error)")
            }
            configuration.storage.databaseURL = url
        }
        // Set by patrond@.service: replicas on SQLite would each keep records of their own.
        if let replica = environment["PATRON_REPLICA"], !replica.isEmpty, configuration.storage.databaseURL == nil {
            throw ConfigurationError(key: "storage.database_url",
                                     reason: "required for a replica (PATRON_REPLICA=\(replica)): replicas share a PostgreSQL database; on SQLite each would have its own")
        }

        let exports = try document.section("exports")
        try exports.onlyKeys(["directory", "retention_days", "pdf_font"])
        if let font = try exports.string("pdf_font") {
            guard FileManager.default.isReadableFile(atPath: font) else {
                throw ConfigurationError(key: "exports.pdf_font", reason: "file '\(font)' is not readable")
            }
            configuration.exports.pdfFont = font
        }
        if let directory = try exports.string("directory") {
            guard !directory.isEmpty else { throw ConfigurationError(key: "exports.directory", reason: "must not be empty") }
            configuration.exports.directory = directory
        }
        configuration.exports.retentionDays = try exports.int("retention_days", in: 1...3650) ?? 30

        let schedules = try document.section("schedules")
        try schedules.onlyKeys(["catch_up_missed"])
        configuration.schedules.catchUpMissed = try schedules.bool("catch_up_missed") ?? true

        configuration.dispatch = try dispatchSettings(try document.section("dispatch"))

        let logging = try document.section("logging")
        try logging.onlyKeys(["level"])
        let levelKey = environment["PATRON_LOG_LEVEL"].map { _ in "PATRON_LOG_LEVEL" } ?? "logging.level"
        let level = try environment["PATRON_LOG_LEVEL"] ?? logging.string("level") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw ConfigurationError(key: levelKey, reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        configuration.logLevel = level

        let metrics = try document.section("metrics")
        try metrics.onlyKeys(["listen"])
        let listenKey = environment["PATRON_METRICS_LISTEN"].map { _ in "PATRON_METRICS_LISTEN" } ?? "metrics.listen"
        let listen = try environment["PATRON_METRICS_LISTEN"] ?? metrics.string("listen") ?? "127.0.0.1:9464"
        if listen.isEmpty || listen == "off" {
            configuration.metrics.listenHost = nil
        } else {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                  (0...65535).contains(port) else {
                throw ConfigurationError(key: listenKey, reason: "must be host:port (e.g. 127.0.0.1:9464) or off")
            }
            configuration.metrics.listenHost = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            configuration.metrics.listenPort = port
        }

        let roles = try document.section("roles")
        for (user, node) in try roles.entries() {
            guard let text = node.node?.string, let role = PatronConfiguration.Role(rawValue: text) else {
                throw ConfigurationError(key: node.path, reason: "must be viewer, operator or admin")
            }
            configuration.roles[user] = role
        }
        // For deployments configured by environment: `alice=admin,bob=viewer`, per user over the file's.
        if let text = environment["PATRON_ROLES"], !text.isEmpty {
            for entry in text.split(separator: ",", omittingEmptySubsequences: true) {
                let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ConfigurationError(key: "PATRON_ROLES", reason: "'\(entry)': expected user=role, entries separated by commas")
                }
                guard let role = PatronConfiguration.Role(rawValue: parts[1]) else {
                    throw ConfigurationError(key: "PATRON_ROLES", reason: "'\(entry)': role must be viewer, operator or admin")
                }
                configuration.roles[parts[0]] = role
            }
        }

        let shutdown = try document.section("shutdown")
        try shutdown.onlyKeys(["grace_seconds"])
        configuration.shutdownGraceSeconds = try shutdown.int("grace_seconds", in: 1...600) ?? 20
        try parseRecords(document.section("records"), into: &configuration, environment: environment, reader: reader)
        // One clock for the business: the days of search and selection periods are the dispatch rules' days.
        configuration.records.businessZone = configuration.dispatch.timeZone
        return configuration
    }
}

extension ConfigurationLoader {
    static let minimumHashKeyLength = 32

    fileprivate static func parseRecords(_ node: ConfigNode, into configuration: inout PatronConfiguration,
                                         environment: [String: String], reader: Reader) throws {
        try node.onlyKeys(["default_country", "default_currency", "default_language", "titles", "tags", "regular_after_stays",
                           "max_merge_records", "business_emails", "business_phones", "blocked_emails", "blocked_phones",
                           "erasure_hash_key"])
        var rules = RecordRules()
        if let country = try node.string("default_country") {
            guard country.count == 2, CountryNormalization.normalize(country) == country.uppercased() else {
                throw ConfigurationError(key: "records.default_country", reason: "must be an ISO 3166-1 alpha-2 code such as ES")
            }
            rules.defaultCountry = country.uppercased()
        }
        if let currency = try node.string("default_currency") {
            guard currency.count == 3, Currency.isKnown(currency) else {
                throw ConfigurationError(key: "records.default_currency", reason: "must be an ISO 4217 code such as EUR")
            }
            rules.defaultCurrency = currency
        }
        if let language = try node.string("default_language") {
            guard let normalized = LanguageNormalization.normalize(language) else {
                throw ConfigurationError(key: "records.default_language", reason: "must be a language tag such as es")
            }
            configuration.defaultLanguage = normalized
        }
        if let titles = try node.stringList("titles") {
            guard !titles.isEmpty else { throw ConfigurationError(key: "records.titles", reason: "must list at least one title") }
            rules.titles = titles
        }
        if let tags = try node.stringList("tags") {
            guard tags.count <= rules.maximumTags * 4 else { throw ConfigurationError(key: "records.tags", reason: "too many tags") }
            rules.tags = tags
        }
        rules.regularAfterStays = try node.int("regular_after_stays", in: 1...1000) ?? rules.regularAfterStays
        rules.maximumMergeRecords = try node.int("max_merge_records", in: 2...100) ?? rules.maximumMergeRecords
        let normalizer = LibPhoneNumberNormalizer(cacheCapacity: 64)
        for (key, emails) in [("business_emails", try node.stringList("business_emails")), ("blocked_emails", try node.stringList("blocked_emails"))] {
            for (index, email) in (emails ?? []).enumerated() {
                guard let normalized = EmailNormalization.key(email.trimmingCharacters(in: .whitespaces)) else {
                    throw ConfigurationError(key: "records.\(key)[\(index)]", reason: "not an email address")
                }
                rules.blockedEmails.insert(normalized)
            }
        }
        for (index, phone) in (try node.stringList("business_phones") ?? []).enumerated() {
            guard let e164 = normalizer.e164(phone, defaultRegion: rules.defaultCountry) else {
                throw ConfigurationError(key: "records.business_phones[\(index)]", reason: "not a valid phone number for \(rules.defaultCountry)")
            }
            rules.blockedPhones.insert(e164)
        }
        for phone in try node.stringList("blocked_phones") ?? [] {
            rules.blockedPhones.insert(normalizer.e164(phone, defaultRegion: rules.defaultCountry) ?? phone)
        }
        configuration.records = rules

        guard reader == .daemon else { return }
        let keyName = environment["PATRON_ERASURE_HASH_KEY"].map { _ in "PATRON_ERASURE_HASH_KEY" } ?? "records.erasure_hash_key"
        let hashKey = try environment["PATRON_ERASURE_HASH_KEY"] ?? node.string("erasure_hash_key") ?? ""
        guard hashKey.utf8.count >= minimumHashKeyLength else {
            throw ConfigurationError(key: keyName, reason: "required: at least \(minimumHashKeyLength) characters of secret (e.g. openssl rand -hex 32)")
        }
        configuration.erasureHashKey = hashKey
    }
}

extension ConfigurationLoader {
    fileprivate static func dispatchSettings(_ node: ConfigNode) throws -> PatronConfiguration.Dispatch {
        var settings = PatronConfiguration.Dispatch()
        try node.onlyKeys(["templates", "hotel", "timezone", "unsubscribe_url", "sms_opt_out", "quiet_hours", "rate_limits",
                           "maximum_lateness_hours", "resend_window", "rules"])
        settings.templatesDirectory = try node.string("templates")
        let hotel = try node.section("hotel")
        try hotel.onlyKeys(["name", "phone", "email", "url"])
        for field in ["name", "phone", "email", "url"] {
            if let value = try hotel.string(field) { settings.hotel[field] = value }
        }
        if let zoneName = try node.string("timezone") {
            guard let zone = TimeZone.iana(zoneName) else {
                throw ConfigurationError(key: "dispatch.timezone", reason: "an IANA time zone such as Europe/Madrid")
            }
            settings.timeZone = zone
        }
        if let url = try node.string("unsubscribe_url") {
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.contains("{token}") else {
                throw ConfigurationError(key: "dispatch.unsubscribe_url", reason: "an http(s) URL containing {token}")
            }
            settings.unsubscribeURL = url
        }
        if let optOut = try node.string("sms_opt_out") {
            guard !optOut.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigurationError(key: "dispatch.sms_opt_out", reason: "must not be empty: marketing SMS must say how to opt out")
            }
            settings.smsOptOut = optOut
        }
        let quiet = try node.section("quiet_hours")
        try quiet.onlyKeys(["from", "to"])
        if quiet.node != nil {
            guard let fromText = try quiet.string("from"), let from = QuietHours.minutes(fromText) else {
                throw ConfigurationError(key: "dispatch.quiet_hours.from", reason: "required: a local time HH:MM")
            }
            guard let toText = try quiet.string("to"), let to = QuietHours.minutes(toText) else {
                throw ConfigurationError(key: "dispatch.quiet_hours.to", reason: "required: a local time HH:MM")
            }
            settings.quietHours = from == to ? nil : QuietHours(start: from, end: to)
        }
        let rates = try node.section("rate_limits")
        try rates.onlyKeys(Set(DispatchChannel.allCases.map(\.rawValue)))
        for channel in DispatchChannel.allCases {
            if let rate = try rates.int(channel.rawValue, in: 1...100_000) { settings.rateLimits[channel] = rate }
        }
        if let hours = try node.int("maximum_lateness_hours", in: 1...24 * 365) { settings.maximumLatenessSeconds = Int64(hours) * 3600 }
        if let window = try node.string("resend_window") {
            guard let seconds = durationSeconds(window) else {
                throw ConfigurationError(key: "dispatch.resend_window", reason: "a duration such as 24h, 90m or 7d (0 turns the check off)")
            }
            settings.resendWindowSeconds = seconds
        }
        let rules = try node.section("rules")
        for (name, ruleNode) in try rules.entries().sorted(by: { $0.0 < $1.0 }) {
            settings.rules.append(try dispatchRule(name, ruleNode))
        }
        if settings.templatesDirectory == nil, !settings.rules.isEmpty {
            throw ConfigurationError(key: "dispatch.templates", reason: "required when rules are configured")
        }
        return settings
    }

    private static func dispatchRule(_ name: String, _ node: ConfigNode) throws -> DispatchRule {
        guard node.node?.mapping != nil else { throw ConfigurationError(key: node.path, reason: "must be a mapping of keys") }
        try node.onlyKeys(["when", "channel", "template", "purpose", "delay", "send_at"])
        func oneOf<Value: RawRepresentable & CaseIterable>(_ key: String, _: Value.Type) throws -> Value where Value.RawValue == String {
            guard let text = try node.string(key), let value = Value(rawValue: text) else {
                throw ConfigurationError(key: "\(node.path).\(key)", reason: "required: one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        let trigger = try oneOf("when", DispatchRule.Trigger.self)
        let channel = try oneOf("channel", DispatchChannel.self)
        let purpose = try oneOf("purpose", DispatchPurpose.self)
        guard let template = try node.string("template"), !template.isEmpty else {
            throw ConfigurationError(key: "\(node.path).template", reason: "required: a template name")
        }
        var rule = DispatchRule(name: name, trigger: trigger, channel: channel, template: template, purpose: purpose)
        if let delay = try node.string("delay") {
            guard let seconds = durationSeconds(delay) else {
                throw ConfigurationError(key: "\(node.path).delay", reason: "a duration such as 0, 30m, 4h or 3d")
            }
            guard !trigger.countsDays || seconds % 86_400 == 0 else {
                throw ConfigurationError(key: "\(node.path).delay", reason: "whole days (e.g. 3d) for \(trigger.rawValue)")
            }
            rule.delaySeconds = seconds
        } else if trigger.countsDays || trigger == .cartAbandoned {
            throw ConfigurationError(key: "\(node.path).delay", reason: "required for \(trigger.rawValue)")
        }
        if let sendAt = try node.string("send_at") {
            guard trigger.countsDays else {
                throw ConfigurationError(key: "\(node.path).send_at", reason: "only for before_arrival and after_departure")
            }
            guard let minutes = QuietHours.minutes(sendAt) else {
                throw ConfigurationError(key: "\(node.path).send_at", reason: "a local time HH:MM")
            }
            rule.sendAt = minutes
        }
        return rule
    }

    /// `0`, or a whole number of seconds, minutes, hours or days: `45s`, `30m`, `4h`, `3d`.
    static func durationSeconds(_ text: String) -> Int64? {
        if text == "0" { return 0 }
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 0, count <= 400 * 86_400 else { return nil }
        switch unit {
        case "s": return count
        case "m": return count * 60
        case "h": return count * 3600
        case "d": return count * 86_400
        default: return nil
        }
    }
}

/// A YAML node with its dotted path, so every error can name the key.
fileprivate struct ConfigNode {
    let node: Node?
    let path: String

    private func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private var mapping: Node.Mapping? {
        if case .mapping(let mapping)? = node { return mapping }
        return nil
    }

    func child(_ name: String) -> ConfigNode {
        ConfigNode(node: mapping?[name].flatMap { $0.null != nil ? nil : $0 }, path: key(name))
    }

    /// A nested mapping; absent means all defaults.
    func section(_ name: String) throws -> ConfigNode {
        let nested = child(name)
        if let node = nested.node, node.mapping == nil {
            throw ConfigurationError(key: nested.path, reason: "must be a mapping of keys")
        }
        return nested
    }

    func onlyKeys(_ allowed: Set<String>) throws {
        guard let mapping else { return }
        for (keyNode, _) in mapping {
            let name = keyNode.string ?? "\(keyNode)"
            if !allowed.contains(name) {
                throw ConfigurationError(key: key(name), reason: "unknown key (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    func entries() throws -> [(String, ConfigNode)] {
        guard let mapping else { return [] }
        return mapping.map { (keyNode, value) in
            let name = keyNode.string ?? "\(keyNode)"
            return (name, ConfigNode(node: value, path: key(name)))
        }
    }

    func string(_ name: String) throws -> String? {
        let value = child(name)
        guard let node = value.node else { return nil }
        guard case .scalar(let scalar) = node else {
            throw ConfigurationError(key: value.path, reason: "must be a string")
        }
        return scalar.string
    }

    func stringList(_ name: String) throws -> [String]? {
        let value = child(name)
        guard let node = value.node else { return nil }
        guard case .sequence(let sequence) = node else {
            throw ConfigurationError(key: value.path, reason: "must be a list of strings")
        }
        return try sequence.enumerated().map { index, item in
            guard case .scalar(let scalar) = item else {
                throw ConfigurationError(key: "\(value.path)[\(index)]", reason: "must be a string")
            }
            return scalar.string
        }
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        let value = child(name)
        guard let node = value.node else { return nil }
        guard case .scalar = node, let number = node.int else {
            throw ConfigurationError(key: value.path, reason: "must be an integer")
        }
        guard range.contains(number) else {
            throw ConfigurationError(key: value.path, reason: "must be \(range.lowerBound)–\(range.upperBound), got \(number)")
        }
        return number
    }

    func bool(_ name: String) throws -> Bool? {
        let value = child(name)
        guard let node = value.node else { return nil }
        guard case .scalar = node, let flag = node.bool else {
            throw ConfigurationError(key: value.path, reason: "must be true or false")
        }
        return flag
    }
}
