import Foundation
import GRDB
import Logging
import PatronAMQP
import PatronDomain
import PatronService
@testable import PatronStorage
import Synchronization
import Testing

/// Every broker-backed test runs in this one serialized suite: they share one broker (started
/// once per run by scripts/test), and some of them stop and start it.
@Suite(.serialized) struct BrokerBacked {}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum TestEnvironment {
    /// A test that cannot reach its broker must fail, never skip: a missing variable is an error.
    static func require(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw HarnessError("\(name) is not set: run the tests with scripts/test, which starts the test broker")
        }
        return value
    }

    static var amqpURL: String { get throws { try require("PATRON_TEST_AMQP_URL") } }
    /// The three nodes of the test cluster (scripts/cluster, started by scripts/test).
    static var clusterURLs: [String] { get throws { try require("PATRON_TEST_CLUSTER_URLS").split(separator: ",").map(String.init) } }

    /// Runs `scripts/cluster ARGS…` against the test cluster (e.g. `node 3 stop`), on a thread of
    /// its own. Spawned and reaped by hand: Foundation's `Process.waitUntilExit` was seen never
    /// to return for `node 3 start`, whose script leaves a daemon behind (its zombie unreaped).
    static func clusterControl(_ arguments: String...) async throws {
        let script = try require("PATRON_TEST_CLUSTER_SCRIPT")
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                var pid: pid_t = 0
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                let argv: [UnsafeMutablePointer<CChar>?] = ([script] + arguments).map { strdup($0) } + [nil]
                defer { argv.forEach { free($0) } }
                var status: Int32 = 0
                if posix_spawn(&pid, script, &actions, nil, argv, environ) != 0 {
                    status = -1
                } else {
                    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                }
                posix_spawn_file_actions_destroy(&actions)
                continuation.resume(returning: status)
            }
        }
        guard status == 0 else { throw HarnessError("scripts/cluster \(arguments.joined(separator: " ")) failed (\(status))") }
    }

    static var binDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["PATRON_TEST_BIN_DIR"] {
            return URL(fileURLWithPath: directory)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `scripts/broker ctl …` against the test broker (e.g. stop_app / start_app).
    static func brokerControl(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try require("PATRON_TEST_BROKER_SCRIPT"))
        process.arguments = ["ctl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("scripts/broker ctl \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}

/// Polls `condition` until it holds, or fails naming what it waited for.
func eventually(_ what: String, timeout: Duration = .seconds(30),
                _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now > deadline { throw HarnessError("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// One test's private world: broker object names with a unique prefix, a temporary data
/// directory, and a configuration file pointing at both.
struct TestSetup {
    let prefix: String
    let directory: URL
    let configurationPath: String
    let yaml: String
    let topology: PatronConfiguration.Topology
    /// The PostgreSQL database patrond uses instead of SQLite, opened here too so the test can look.
    let postgres: PatronPostgresDatabase?

    /// A setup on `engine`; PostgreSQL's is a fresh database on the test server.
    static func on(_ engine: TestEngine, roles: [String: String] = ["patron": "admin"]) async throws -> TestSetup {
        switch engine {
        case .sqlite: return try TestSetup(roles: roles)
        case .postgres:
            let (url, database) = try await freshPostgres()
            return try TestSetup(roles: roles, databaseURL: url, postgres: database)
        }
    }

    /// A fresh database on the test PostgreSQL: its URL for patrond, and the test's own connection to it.
    static func freshPostgres() async throws -> (url: String, database: PatronPostgresDatabase) {
        let url = try TestEnvironment.require("PATRON_TEST_DATABASE_URL")
        let name = "patron_test_" + UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: "")
        let location = try await PatronPostgresDatabase.createDatabase(on: PostgresLocation(url: url), named: name, logger: Logger(label: "test"))
        let database = try await PatronPostgresDatabase.open(location, otherSessions: 1, logger: Logger(label: "test"))
        let credentials = try #require(URLComponents(string: url))
        return ("postgres://\(credentials.user ?? ""):\(credentials.password ?? "")@\(location.host):\(location.port)/\(location.database)", database)
    }

    init(batchSize: Int = 100, prefetch: Int = 500, roles: [String: String] = ["patron": "admin"],
         url: String? = nil, heartbeatSeconds: Int = 10, connectTimeoutSeconds: Int = 10, extraYAML: String = "",
         databaseURL: String? = nil, postgres: PatronPostgresDatabase? = nil,
         prefix: String? = nil, moreURLs: [String] = [], topologyYAML: String = "") throws {
        self.postgres = postgres
        let url = try url ?? TestEnvironment.amqpURL
        let prefix = prefix ?? "t\(UUID().uuidString.prefix(8).lowercased())"
        self.prefix = prefix
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-\(prefix)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = PatronConfiguration.Topology.prefixed(prefix)
        topology = names
        let roleLines = roles.map { "  \($0.key): \($0.value)" }.sorted().joined(separator: "\n")
        yaml = """
            amqp:
              url: \(url)
              urls: [\(moreURLs.joined(separator: ", "))]
              prefetch: \(prefetch)
              heartbeat_seconds: \(heartbeatSeconds)
              connect_timeout_seconds: \(connectTimeoutSeconds)
              reconnect:
                initial_delay_ms: 100
                max_delay_seconds: 2
            topology:
              events_exchange: \(names.eventsExchange)
              ingest_queue: \(names.ingestQueue)
              dead_exchange: \(names.deadExchange)
              dead_queue: \(names.deadQueue)
              commands_exchange: \(names.commandsExchange)
              commands_queue: \(names.commandsQueue)
              dispatch_exchange: \(names.dispatchExchange)
              notifications_exchange: \(names.notificationsExchange)\(topologyYAML)
            ingest:
              batch_size: \(batchSize)
            storage:
              data_dir: \(directory.path)\(databaseURL.map { "\n  database_url: \($0)" } ?? "")
            metrics:
              listen: off
            logging:
              level: warning
            roles:
            \(roleLines)
            shutdown:
              grace_seconds: 10
            records:
              erasure_hash_key: test-key-test-key-test-key-test-key
            """ + (extraYAML.isEmpty ? "" : "\n" + extraYAML)
        configurationPath = directory.appendingPathComponent("patrond.yaml").path
        try yaml.write(toFile: configurationPath, atomically: true, encoding: .utf8)
    }

    /// The example configuration's templates, for dispatch tests.
    static let exampleTemplates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/templates").path

    func configuration() throws -> PatronConfiguration {
        try ConfigurationLoader.parse(yaml: yaml)
    }


    var databasePath: String { directory.appendingPathComponent("patron.sqlite").path }

    /// A read-only connection beside the running writer. It waits out locks (patrond holds one
    /// while it creates and migrates the file) rather than failing the test on them.
    func readOnlyDatabase() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: databasePath, configuration: configuration)
    }

    /// Event ids in the journal, in commit order (read-only, beside a running writer).
    func journalIDs() throws -> [String] {
        guard FileManager.default.fileExists(atPath: databasePath) else { return [] }
        return try readOnlyDatabase().read { db in
            guard try db.tableExists("event_journal") else { return [] }
            return try String.fetchAll(db, sql: "SELECT event_id FROM event_journal ORDER BY seq")
        }
    }

    /// The database patrond uses, opened by the test: SQLite's file (created if patrond has not
    /// yet), or the test's own connection to PostgreSQL.
    func storage() throws -> Storage {
        if let postgres { return .postgres(postgres) }
        return .sqlite(try PatronDatabase.open(directory: directory.path))
    }

    /// The first column of a query's rows as text, on either engine.
    func texts(_ sql: String) async throws -> [String] {
        if let postgres {
            return try await postgres.writer.perform { try $0.all(sql) { $0.text(0) } }
        }
        return try await readOnlyDatabase().read { db in try String.fetchAll(db, sql: sql) }
    }

    /// Number of journal rows; cheap enough to poll while patrond writes.
    func journalCount() async throws -> Int {
        if let postgres {
            return try await postgres.writer.perform { try $0.first("SELECT count(*) FROM event_journal") { Int($0.integer(0)) } ?? 0 }
        }
        guard FileManager.default.fileExists(atPath: databasePath) else { return 0 }
        return try await readOnlyDatabase().read { db in
            guard try db.tableExists("event_journal") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM event_journal") ?? 0
        }
    }

    func journalRows() throws -> [Row] {
        return try readOnlyDatabase().read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM event_journal ORDER BY seq")
        }
    }

    /// Removes the test's broker objects and files.
    func tearDown(_ broker: TestBroker) async {
        let names = topology
        _ = try? await broker.client.withManagement { management in
            for queue in [names.ingestQueue, names.deadQueue, names.commandsQueue] + DispatchChannel.allCases.map(names.dispatchQueue) {
                try? management.deleteQueue(queue)
            }
            for exchange in [names.eventsExchange, names.deadExchange, names.commandsExchange, names.dispatchExchange, names.notificationsExchange] {
                try? management.deleteExchange(exchange)
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The test's own broker connection: publishes events, inspects and drains queues.
final class TestBroker: Sendable {
    let client: AMQPClient
    private let runner: Task<Void, any Error>

    /// Connected to the test broker, or to the first of `urls` that answers.
    init(urls: [String]? = nil) async throws {
        client = AMQPClient(configuration: AMQPClient.Configuration(
            urls: try (urls ?? [try TestEnvironment.amqpURL]).map { try AMQPURL(parsing: $0) }, heartbeatSeconds: 10,
            reconnectInitialDelay: .milliseconds(100), reconnectMaximumDelay: .seconds(1), connectionName: "test-harness"),
            logger: TestEnvironment.quietLogger)
        let client = self.client
        runner = Task { try await client.run() }
        try await client.waitUntilConnected(timeout: .seconds(20))
    }

    func close() async {
        client.shutdown()
        _ = await runner.result
    }

    /// Publishes with confirms, in chunks, retrying a chunk the broker could not confirm.
    func publish(_ messages: [AMQPOutgoingMessage]) async throws {
        var index = 0
        while index < messages.count {
            let chunk = Array(messages[index..<min(index + 500, messages.count)])
            do {
                try await client.publish(chunk)
                index += chunk.count
            } catch let error as AMQPError where error.isTransient {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func queueDepth(_ queue: String) async throws -> Int {
        try await client.withManagement { try $0.queueInfo(queue).messageCount }
    }

    func consumerCount(_ queue: String) async throws -> Int {
        try await client.withManagement { try $0.queueInfo(queue).consumerCount }
    }

    /// Takes every message from `queue` (acknowledged: they are gone afterwards).
    func drain(_ queue: String) async throws -> [AMQPDelivery] {
        let deliveries = try await client.withManagement { management -> [AMQPDelivery] in
            var taken: [AMQPDelivery] = []
            while let delivery = try management.get(from: queue) { taken.append(delivery) }
            return taken
        }
        for delivery in deliveries { try await client.ack(delivery) }
        return deliveries
    }
}

/// Builds an event message as publishers send it.
func event(_ id: String?, type: String? = "booking.created", occurredAt: String = "2026-11-20T10:15:00+01:00",
           routingKey: String? = nil, exchange: String, extra: String = "", properties: AMQPProperties = .persistentJSON()) -> AMQPOutgoingMessage {
    var fields: [String] = []
    if let id { fields.append(#""id":"\#(id)""#) }
    if let type { fields.append(#""type":"\#(type)""#) }
    fields.append(#""occurred_at":"\#(occurredAt)""#)
    fields.append(#""source":"test""#)
    // Valid data for the type the message will be taken as (body type, else AMQP type, else key).
    let kind = type ?? properties.type ?? routingKey ?? "booking.created"
    let ref = (id ?? properties.messageID ?? "none").replacingOccurrences(of: "\"", with: "")
    // One customer per event id, as a stream of different guests would be.
    var data = #""customer":{"email":"guest-\#(ref)@example.com"}"#
    if kind.hasPrefix("booking.") { data += #","booking":{"ref":"BK-\#(ref)","amount":"100.00"}"# }
    if kind.hasPrefix("payment.") { data += #","payment":{"reference":"PAY-\#(ref)","amount":"10.00"}"# }
    if kind.hasPrefix("cart.") { data += #","cart":{"id":"CART-\#(ref)","status":"active"}"# }
    fields.append(#""data":{\#(data)\#(extra)}"#)
    return AMQPOutgoingMessage(exchange: exchange, routingKey: routingKey ?? type ?? "booking.created",
                               properties: properties, body: Array("{\(fields.joined(separator: ","))}".utf8))
}

/// Runs `body` with a test broker connection and an in-process Patron on a fresh setup, and always
/// stops Patron and removes the setup's broker objects and files, also when `body` fails, so one
/// failing test cannot leave a consumer behind for the next.
func withRunningPatron(_ setup: TestSetup? = nil, logger: Logger = TestEnvironment.quietLogger,
                       _ body: (TestSetup, TestBroker, RunningPatron) async throws -> Void) async throws {
    let setup = try setup ?? TestSetup()
    let broker = try await TestBroker()
    let outcome: Result<Void, any Error>
    do {
        let patron = try await RunningPatron(setup, broker: broker, logger: logger)
        do {
            try await body(setup, broker, patron)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try? await patron.stop()
    } catch {
        outcome = .failure(error)
    }
    await setup.tearDown(broker)
    await setup.postgres?.close()
    await broker.close()
    try outcome.get()
}

/// A Patron running in this process, built exactly as patrond builds it.
final class RunningPatron: Sendable {
    let patron: Patron
    private let task: Task<Void, any Error>

    init(_ setup: TestSetup, broker: TestBroker, logger: Logger = TestEnvironment.quietLogger) async throws {
        patron = try await Patron(configuration: try setup.configuration(), configurationPath: nil,
                            logger: logger, handleSignals: false)
        let patron = self.patron
        task = Task { try await patron.run() }
        let names = setup.topology
        try await eventually("patron to consume its queues") {
            guard patron.ingestClient.state.isConnected, patron.commandClient.state.isConnected else { return false }
            let ingestConsumers = try? await broker.consumerCount(names.ingestQueue)
            let commandConsumers = try? await broker.consumerCount(names.commandsQueue)
            return ingestConsumers == 1 && commandConsumers == 1
        }
    }

    func stop() async throws {
        await patron.shutdown()
        try await task.value
    }
}

/// Keeps every log line a logger writes, with its metadata, for tests of what reaches the journal.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    var logger: Logger {
        Logger(label: "captured") { label in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = "\(event.level) \(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.lines.withLock { $0.append(line) }
        }
    }
}

/// A patrond child process, for what only a real process shows: signals, exit codes, kill -9.
final class ChildPatrond: @unchecked Sendable {
    // @unchecked: Process is not Sendable; this wrapper only reads it after launch.
    let process = Process()
    let logPath: String

    init(configurationPath: String, environment: [String: String] = [:], logName: String = "patrond.log") throws {
        logPath = URL(fileURLWithPath: configurationPath).deletingLastPathComponent().appendingPathComponent(logName).path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = TestEnvironment.binDirectory.appendingPathComponent("patrond")
        process.arguments = ["--config", configurationPath]
        var merged = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "PATRON_AMQP_URL", "PATRON_DATA_DIR", "PATRON_DATABASE_URL", "PATRON_LOG_LEVEL",
                    "PATRON_METRICS_LISTEN"] {
            merged[key] = nil
        }
        merged.merge(environment) { $1 }
        process.environment = merged
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// A test that fails before stopping its child must not leave it running.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually("patrond to exit", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A real AF_UNIX datagram socket standing in for systemd's notify socket.
final class NotifyListener {
    let path: String
    private let descriptor: Int32
    private(set) var received: [String] = []

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw HarnessError("socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw HarnessError("bind \(path): errno \(errno)") }
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Every datagram that arrives within `duration`. Earlier ones, read or still queued in the
    /// socket, are discarded first.
    func collect(for duration: Duration) -> [String] {
        received.removeAll()
        var scratch = [UInt8](repeating: 0, count: 4096)
        while recv(descriptor, &scratch, scratch.count, Int32(MSG_DONTWAIT)) > 0 {}
        let deadline = ContinuousClock.now + duration
        var messages: [String] = []
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        return messages
    }

    /// Waits for a datagram whose lines include `line`; returns that datagram.
    @discardableResult
    func waitFor(_ line: String, timeout: Duration = .seconds(30)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        if let earlier = received.first(where: { $0.split(separator: "\n").contains(Substring(line)) }) {
            received.removeAll { $0 == earlier }
            return earlier
        }
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            if message.split(separator: "\n").contains(Substring(line)) { return message }
            received.append(message)
        }
        throw HarnessError("no notify message with \(line) within \(timeout); got \(received)")
    }
}

/// scripts/test-support/cuttable-proxy: a TCP path to the broker that a test can cut silently.
final class CuttableProxy {
    let process = Process()
    let port: Int

    init(port: Int, targetPort: Int) throws {
        self.port = port
        process.executableURL = URL(fileURLWithPath: "scripts/test-support/cuttable-proxy")
        process.arguments = [String(port), String(targetPort)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).contains("ready") else {
            throw HarnessError("cuttable-proxy did not start")
        }
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    /// No byte moves either way from now on; connections stay open.
    func cut() { kill(process.processIdentifier, SIGUSR1) }
    func restore() { kill(process.processIdentifier, SIGUSR2) }
}

/// The engines the command suites run on.
enum TestEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}
