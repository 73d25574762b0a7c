import ArgumentParser
import Foundation
import Logging
import PatronAMQP
import PatronDomain
import PatronService
import PatronPhone
import PatronStorage

extension PatronBench {
    /// Issue "Patron foundation", item 11: the transport-only drain of N messages and patrond's
    /// end-to-end ingest of the same messages into the journal, on the same broker, in one run.
    /// Target: (b) ≥ 0.5 × (a).
    /// Issue "Automatic customer records", benchmark: the transport-only drain of N messages,
    /// then patrond's end-to-end ingest of the same realistic mix into customer records, on an
    /// empty database and (with --customers) on one already holding that many customers, all
    /// on the same broker in one run. Targets: empty ≥ 0.5 × drain; seeded ≥ 0.8 × empty.
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Transport-only drain vs end-to-end ingest into customer records.")

        @Option(help: "Number of events.")
        var events = 100_000

        @Option(help: "Also ingest into a database pre-filled with this many customers (0: skip).")
        var customers = 0

        @Option(help: "Broker URL (default: $PATRON_AMQP_URL).")
        var url: String?

        @Option(help: "Deliveries per batch, as ingest.batch_size.")
        var batchSize = 500

        @Option(help: "Prefetch, as amqp.prefetch.")
        var prefetch = 3000

        @Flag(help: "Run the example configuration's dispatch rules (booking confirmations, reminders) while ingesting.")
        var dispatchRules = false

        @Option(help: "Also ingest into PostgreSQL: a fresh database on this server (postgres://user:password@host:port/database; the user creates databases).")
        var postgres: String?

        @Option(help: "sqlite, or postgres: also ingest into PostgreSQL, on --postgres, else $PATRON_DATABASE_URL, else scripts/postgres's server.")
        var storage = "sqlite"

        @Option(help: "With PostgreSQL: ingest with 1, 2, … replicas at once, one run per count (comma-separated).")
        var replicas = "1"

        /// The PostgreSQL server to create the bench's database on, if PostgreSQL is measured.
        var postgresServer: String? {
            if let postgres { return postgres }
            guard storage == "postgres" else { return nil }
            return ProcessInfo.processInfo.environment["PATRON_DATABASE_URL"] ?? "postgres://patron:patron@127.0.0.1:5433/patron"
        }

        func validate() throws {
            guard events >= 1000 else { throw ValidationError("--events must be at least 1000") }
            guard customers >= 0 else { throw ValidationError("--customers must not be negative") }
            guard batchSize >= 1, batchSize <= prefetch, prefetch <= 65535 else {
                throw ValidationError("need 1 ≤ --batch-size ≤ --prefetch ≤ 65535")
            }
            guard ["sqlite", "postgres"].contains(storage) else { throw ValidationError("--storage: sqlite or postgres") }
            if let postgresServer {
                do { _ = try PostgresLocation(url: postgresServer) } catch { throw ValidationError("--postgres: \(error)") }
            }
            guard let counts = Optional(replicaCounts), !counts.isEmpty, counts.allSatisfy({ (1...8).contains($0) }) else {
                throw ValidationError("--replicas: counts from 1 to 8, comma-separated")
            }
            // Each replica's consumer takes up to --prefetch messages at once: beyond the run's
            // share, the first replica to connect would take every message and the others none.
            if let most = replicaCounts.max(), most > 1, prefetch * most > events {
                throw ValidationError("--replicas \(most) needs --prefetch × \(most) ≤ --events (e.g. --prefetch \(max(1, events / (most * 4))) --batch-size \(max(1, events / (most * 12)))), or one replica takes every message")
            }
        }

        var replicaCounts: [Int] { replicas.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func run() async throws {
            let bench = try BrokerBench(url: url)
            let (urlText, logger, prefix, directory) = (bench.url, bench.logger, bench.prefix, bench.directory)
            defer { try? FileManager.default.removeItem(at: directory) }
            func configuration(_ name: String) throws -> PatronConfiguration {
                var configuration = try ConfigurationLoader.parse(yaml: """
                    amqp: {url: "\(urlText)", prefetch: \(prefetch)}
                    ingest: {batch_size: \(batchSize)}
                    storage: {data_dir: "\(directory.appendingPathComponent(name).path)"}
                    metrics: {listen: "off"}
                    records: {erasure_hash_key: "bench-key-bench-key-bench-key-bench-key"}
                    """)
                if dispatchRules {
                    configuration.dispatch = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:]).dispatch
                    // The mix's events are dated 2026-11-20: still recent enough to be sent.
                    configuration.dispatch.maximumLatenessSeconds = 400 * 86_400
                }
                // Both runs read their own queue, bound to one shared exchange.
                configuration.topology = .prefixed("\(prefix).\(name)")
                configuration.topology.eventsExchange = "\(prefix).events"
                return configuration
            }
            let runs = customers > 0 ? ["empty", "seeded"] : ["empty"]
            let postgresRuns = postgresServer == nil ? [] : replicaCounts.map { "postgres\($0)" }
            let configurations = try runs.map(configuration)
            let postgresConfigurations = try postgresRuns.map(configuration)
            let exchange = "\(prefix).events"
            let drainQueue = "\(prefix).drain"

            let client = AMQPClient(configuration: configurations[0].clientConfiguration(connectionName: "patron-bench"), logger: logger)
            let runner = Task { try await client.run() }
            try await client.waitUntilConnected(timeout: .seconds(20))
            try await client.withManagement { broker in
                for configuration in configurations + postgresConfigurations { try Topology.declare(configuration.topology, on: broker) }
                try broker.declareQueue(drainQueue, arguments: ["x-queue-type": .string("quorum")])
                try broker.bindQueue(drainQueue, to: exchange, routingKey: "#")
            }

            // With --customers, PostgreSQL's runs start from a copy of the same seeded records.
            var postgresSeed: PostgresLocation?
            if customers > 0 {
                let seedStart = ContinuousClock.now
                let database = try PatronDatabase.open(directory: configurations[1].storage.dataDirectory)
                try await BenchSeeder.seed(database, customers: customers)
                print("seeded \(customers) customers in \(format(ContinuousClock.now - seedStart))")
                if let postgresServer {
                    let copyStart = ContinuousClock.now
                    let seed = try await PatronPostgresDatabase.createDatabase(on: PostgresLocation(url: postgresServer),
                                                                               named: "patron_bench_seed_\(UInt32.random(in: 0...UInt32.max))", logger: logger)
                    let target = try await PatronPostgresDatabase.open(seed, otherSessions: 1, logger: logger)
                    _ = try await SQLiteToPostgres(source: database, target: target, pageSize: 10_000).run()
                    await target.close()
                    postgresSeed = seed
                    print("copied them into PostgreSQL in \(format(ContinuousClock.now - copyStart))")
                }
            }

            let messages = EventMix.messages(count: events, exchange: exchange)
            let size = messages.map(\.body.count).reduce(0, +) / messages.count
            if dispatchRules { print("with the example configuration's dispatch rules") }
            print("patron-bench ingest: \(events) events (60% bookings, 20% carts, 10% contact forms, 10% profile updates; a quarter reach a known customer by another identifier), ~\(size) bytes, batch \(batchSize), prefetch \(prefetch)")
            let publishStart = ContinuousClock.now
            for chunk in stride(from: 0, to: events, by: 1000) {
                try await client.publish(Array(messages[chunk..<min(chunk + 1000, events)]))
            }
            let published = ContinuousClock.now - publishStart
            print("publish with confirms   \(format(published))  \(Int(rate(events, published))) msg/s (into \(runs.count + postgresRuns.count + 1) queues)")

            // (a) Transport only: consume and ack the same messages, no processing.
            let drainCPU = processCPUSeconds()
            let drainStart = ContinuousClock.now
            let consumer = client.consume(queue: drainQueue, prefetch: UInt16(prefetch))
            var drained = 0
            while drained < events {
                let batch = await consumer.next(limit: batchSize)
                guard let last = batch.last else { break }
                try await client.ack(last, multiple: true)
                drained += batch.count
            }
            let drainTime = ContinuousClock.now - drainStart
            let drainRate = rate(events, drainTime)
            print("(a) transport drain     \(format(drainTime))  \(Int(drainRate)) msg/s  \(Self.cpu(since: drainCPU, events)) µs CPU/msg in this process")

            // (b) End to end: the real Patron, as patrond builds it, from start to the last commit.
            var rates: [Double] = []
            for (name, configuration) in zip(runs, configurations) {
                let ingestCPU = processCPUSeconds()
                let ingestStart = ContinuousClock.now
                let patron = try await Patron(configuration: configuration, configurationPath: nil, logger: logger, handleSignals: false)
                let patronTask = Task { try await patron.run() }
                while true {
                    let totals = patron.pipeline.totalsSnapshot
                    if totals.accepted + totals.rejected + totals.duplicates >= events { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                let ingestTime = ContinuousClock.now - ingestStart
                let ingestRate = rate(events, ingestTime)
                rates.append(ingestRate)
                let totals = patron.pipeline.totalsSnapshot
                print("(b) patrond, \(name) db".padding(toLength: 24, withPad: " ", startingAt: 0)
                      + "\(format(ingestTime))  \(Int(ingestRate)) msg/s  \(Self.cpu(since: ingestCPU, events)) µs CPU/msg; \(totals.rejected) rejected")
                print("    \(totals.batches) transactions; stages busy: decode \(format(totals.decoding)), apply + commit \(format(totals.committing))")
                if dispatchRules {
                    // The rules' jobs are composed after the commits that fired them: the run
                    // is done when no firing is due any more.
                    while try await !patron.dispatchOutbox.dueTimers(at: .now, limit: 1).isEmpty {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    let composedTime = ContinuousClock.now - ingestStart
                    print("    and the rules' jobs composed: \(format(composedTime))  \(Int(rate(events, composedTime))) msg/s  "
                          + "\(Self.cpu(since: ingestCPU, events)) µs CPU/msg")
                }
                await patron.shutdown()
                _ = await patronTask.result
            }
            for (count, configuration) in zip(replicaCounts, postgresConfigurations) {
                try await ingestIntoPostgres(replicas: count, seed: postgresSeed, configuration: configuration, logger: logger, drainRate: drainRate,
                                             sqliteRate: rates[postgresSeed == nil ? 0 : 1])
            }
            if let postgresSeed { try await PatronPostgresDatabase.dropDatabase(postgresSeed, logger: logger) }
            let ratio = rates[0] / drainRate
            print(String(format: "ratio empty/drain       %.2f  (target ≥ 0.50)  %@", ratio, ratio >= 0.5 ? "PASS" : "FAIL"))
            var seededRatio = 1.0
            if rates.count > 1 {
                seededRatio = rates[1] / rates[0]
                print(String(format: "ratio seeded/empty      %.2f  (target ≥ 0.80)  %@", seededRatio, seededRatio >= 0.8 ? "PASS" : "FAIL"))
            }
            print(String(format: "peak resident memory    %.0f MiB (bench process: publisher, drain, seeding and Patron)", peakResidentMiB()))

            try await Self.breakDown(messages, configuration: configurations[0], batchSize: batchSize, directory: directory)
            _ = try? await client.withManagement { broker in
                try? broker.deleteQueue(drainQueue)
                for configuration in configurations + postgresConfigurations {
                    let names = configuration.topology
                    for queue in [names.ingestQueue, names.deadQueue, names.commandsQueue] + DispatchChannel.allCases.map(names.dispatchQueue) {
                        try? broker.deleteQueue(queue)
                    }
                    for exchange in [names.eventsExchange, names.deadExchange, names.commandsExchange, names.dispatchExchange, names.notificationsExchange] {
                        try? broker.deleteExchange(exchange)
                    }
                }
            }
            client.shutdown()
            _ = await runner.result
            if ratio < 0.5 || seededRatio < 0.8 { throw ExitCode(1) }
        }

        /// The same messages into a fresh PostgreSQL database (a copy of `seed`, if given) by
        /// `replicas` ingest pipelines at once, each as a patrond replica runs it: its own broker
        /// connection on the shared queue, its own database connection and store.
        func ingestIntoPostgres(replicas: Int, seed: PostgresLocation?, configuration: PatronConfiguration, logger: Logger,
                                drainRate: Double, sqliteRate: Double) async throws {
            let server = try PostgresLocation(url: postgresServer!)
            let location = try await PatronPostgresDatabase.createDatabase(on: server, named: "patron_bench_\(UInt32.random(in: 0...UInt32.max))",
                                                                           template: seed?.database, logger: logger)
            var databases: [PatronPostgresDatabase] = []
            for _ in 0..<replicas { databases.append(try await PatronPostgresDatabase.open(location, logger: logger)) }
            let applier = RecordApplier(rules: configuration.records, hasher: HMACIdentityHasher(key: configuration.erasureHashKey))
            let pipelines = databases.enumerated().map { index, database in
                let client = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "patron-bench-replica-\(index + 1)"), logger: logger)
                return (client, IngestPipeline(client: client, store: PostgresEventStore(database: database, applier: applier),
                                               decoder: EventDecoder(rules: configuration.records, phones: LibPhoneNumberNormalizer()),
                                               topology: configuration.topology, prefetch: configuration.broker.prefetch,
                                               batchSize: configuration.ingest.batchSize, logger: logger))
            }
            let backend = try await databases[0].serverProcessID()
            let serverCPU = postgresServerCPUSeconds(backend: backend)
            let cpu = processCPUSeconds()
            let start = ContinuousClock.now
            let clients = pipelines.map { client, _ in Task { try await client.run() } }
            let consumers = pipelines.map { _, pipeline in Task { try await pipeline.run() } }
            // The journal, not the pipelines' totals: a batch retried after a conflict counts its
            // parts already committed as duplicates.
            let journal = PostgresEventStore(database: databases[0], applier: applier)
            while try await journal.journalStatus().recorded < events {
                try await Task.sleep(for: .milliseconds(50))
            }
            let time = ContinuousClock.now - start
            let stored = try await journal.journalStatus()
            let serverCPUPerEvent = serverCPU.flatMap { before in postgresServerCPUSeconds(backend: backend).map { ($0 - before) / Double(events) * 1e6 } }
            try await Task.sleep(for: .milliseconds(600))  // the server's statistics lag behind the last commit
            let (commits, rollbacks) = try await databases[0].transactionCounts()
            print("(c) postgres, \(seed == nil ? "" : "seeded, ")\(replicas) replica\(replicas == 1 ? "" : "s")".padding(toLength: 34, withPad: " ", startingAt: 0)
                  + "\(format(time))  \(Int(rate(events, time))) msg/s  \(Self.cpu(since: cpu, events)) µs CPU/msg in this process; "
                  + String(format: "%.2f × drain, %.2f × SQLite; journal %d recorded, %d duplicates; %d commits, %d rollbacks (conflicts)",
                           rate(events, time) / drainRate, rate(events, time) / sqliteRate, stored.recorded, stored.duplicates, commits, rollbacks))
            // The sizing model's inputs (README, "Sizing"): the server's CPU per event, and the
            // events per second one of its cores can take.
            print("    server CPU          " + (serverCPUPerEvent.map { String(format: "%.1f µs/msg, %.0f msg/s per server core", $0, 1e6 / $0) }
                                                 ?? "not measured: the server is not on this host"))
            for consumer in consumers {
                consumer.cancel()
                _ = await consumer.result
            }
            for (client, _) in pipelines { client.shutdown() }
            for task in clients { _ = await task.result }
            for database in databases { await database.close() }
            // The bench's database, on what may be someone's own server.
            try await PatronPostgresDatabase.dropDatabase(location, logger: logger)
        }

        static func cpu(since start: Double, _ events: Int) -> String {
            String(format: "%.1f", (processCPUSeconds() - start) / Double(events) * 1e6)
        }

        /// Where (b)'s time goes: the decoder alone, and the store alone, on the same messages.
        static func breakDown(_ messages: [AMQPOutgoingMessage], configuration: PatronConfiguration, batchSize: Int,
                              directory: URL) async throws {
            let decoder = EventDecoder(rules: configuration.records, phones: LibPhoneNumberNormalizer())
            var decoded: [DecodedEvent] = []
            decoded.reserveCapacity(messages.count)
            let decodeStart = ContinuousClock.now
            for message in messages {
                decoded.append(try decoder.decode(body: message.body, context: MessageContext(routingKey: message.routingKey)).get())
            }
            let decodeTime = ContinuousClock.now - decodeStart
            print("  decode only           \(format(decodeTime))  \(Int(rate(messages.count, decodeTime))) msg/s (one core)")

            let database = try PatronDatabase.open(directory: directory.appendingPathComponent("breakdown").path)
            let store = SQLiteEventStore(database: database, applier: RecordApplier(rules: configuration.records, hasher: HMACIdentityHasher(key: configuration.erasureHashKey)))
            let now = Timestamp.now
            let events = zip(decoded, messages).map { AcceptedEvent(event: $0, routingKey: $1.routingKey, receivedAt: now, body: $1.body) }
            let commitStart = ContinuousClock.now
            for start in stride(from: 0, to: events.count, by: batchSize) {
                _ = try await store.record(Array(events[start..<min(start + batchSize, events.count)]))
            }
            let commitTime = ContinuousClock.now - commitStart
            print("  apply + commit only   \(format(commitTime))  \(Int(rate(messages.count, commitTime))) msg/s (\(events.count / batchSize) transactions)")
        }
    }
}
