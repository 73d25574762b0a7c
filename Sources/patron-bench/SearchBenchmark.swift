import ArgumentParser
import Foundation
import GRDB
import Histogram
import Logging
import PatronAMQP
import PatronDomain
import PatronPhone
import PatronService
import PatronStorage
import SearchWorkload

extension PatronBench {
    /// Issue "Customer Center", benchmark: a fixed set of searches on a database of 1,000,000
    /// customers and about 3,000,000 bookings, each through Patron's search, next to the same
    /// query written by hand in SQL on the same file, and (with a broker) as a command round trip.
    /// Targets: every query p95 ≤ 50 ms through the command interface and ≤ 2 × its hand SQL.
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Customer search at scale: Patron vs hand-written SQL vs command round trip.")

        @Option(help: "Customers to seed.") var customers = 1_000_000
        @Option(help: "Average bookings per customer.") var bookings = 3
        @Option(help: "Runs of each query (after one warm-up).") var runs = 15
        @Option(help: "Broker URL for the command round trip (default: $PATRON_AMQP_URL; none: skip it).") var url: String?
        @Option(help: "Keep the seeded database in this directory (reused when it exists).") var keep: String?
        @Option(help: "Generated searches after the fixed list (one to four filters, every sort, first and later pages).") var generated = 200
        @Option(help: "Seed of the generated searches (the same seed, the same searches).") var seed: UInt64 = 1
        @Option(help: "Instead, measure a patrond replica on this PostgreSQL database, already filled (patronctl migrate-storage from a --keep file): round trips only.")
        var postgres: String?

        func run() async throws {
            if let postgres { return try await runOnPostgres(postgres) }
            let directory = keep.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-search-\(UUID().uuidString.prefix(6))")
            defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
            let existing = FileManager.default.fileExists(atPath: directory.appendingPathComponent("patron.sqlite").path)
            let database = try PatronDatabase.open(directory: directory.path)
            if !existing {
                let clock = ContinuousClock()
                let seeding = try await clock.measure {
                    try await SearchSeeder.seed(database, customers: customers, bookingsPerCustomer: bookings)
                }
                print("seeded \(customers) customers in \(format(seeding))")
            }
            let counts = try await database.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM customers")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM bookings")!)
            }
            print("database: \(counts.0) customers, \(counts.1) bookings")
            let (residentBefore, heapBefore) = (currentResidentMiB(), anonymousResidentMiB())
            let loading = try await ContinuousClock().measure { try await database.updateSearchIndex() }
            print(String(format: "search index loaded in %.2f s; resident memory %.0f → %.0f MiB (heap %.0f → %.0f, peak %.0f)", loading.inSeconds,
                         residentBefore, currentResidentMiB(), heapBefore, anonymousResidentMiB(), peakResidentMiB()))
            let rules = RecordRules()
            let phones = LibPhoneNumberNormalizer()
            let search = SQLiteCustomerSearch(database: database)
            var queries = SearchQueries.all
            queries.append(try await SearchQueries.deepPage(search, phones: phones, rules: rules))

            var generator = SearchQueryGenerator(values: SearchSeeder.searchValues(customers: counts.0), seed: seed)
            let generatedQueries = (0..<generated).map { _ in generator.next() }
            var roundTrips: [String: Histogram<UInt64>] = [:]
            var generatedRoundTrips: [GeneratedSearches.Sample] = []
            if let urlText = url ?? ProcessInfo.processInfo.environment["PATRON_AMQP_URL"] {
                try await withPatron(urlText: urlText, directory: directory) { commands in
                    roundTrips = try await commandRoundTrips(queries, commands: commands)
                    generatedRoundTrips = try await GeneratedSearches.roundTrips(generatedQueries, commands: commands)
                }
            }
            print("")
            func row(_ cells: [String]) -> String {
                zip(cells, [30, 8, 24, 24, 24, 0]).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " | ")
            }
            print(row(["query", "total", "patron p50/p95/p99 ms", "hand SQL p50/p95/p99", "round trip p50/p95/p99", "verdict"]))
            var failures = 0
            for query in queries {
                let request = try CustomerSearch.parse(CommandArguments(query.args), phones: phones, rules: rules)
                var patron = Histogram<UInt64>(highestTrackableValue: 60_000_000)
                var hand = Histogram<UInt64>(highestTrackableValue: 60_000_000)
                var total = 0
                var handTotal = 0
                for run in 0...runs {
                    let start = ContinuousClock.now
                    total = try await search.search(request).total
                    let patronTime = ContinuousClock.now - start
                    let handStart = ContinuousClock.now
                    handTotal = try await database.read { db in try query.hand.run(db) }
                    let handTime = ContinuousClock.now - handStart
                    if run > 0 {
                        _ = patron.record(UInt64(patronTime.inSeconds * 1e6))
                        _ = hand.record(UInt64(handTime.inSeconds * 1e6))
                    }
                }
                let roundTrip = roundTrips[query.name]
                let p95 = max(patron.valueAtPercentile(95), roundTrip?.valueAtPercentile(95) ?? 0)
                let ok = p95 <= 50_000 && Double(patron.valueAtPercentile(95)) <= 2 * Double(max(hand.valueAtPercentile(95), 1_000)) && total == handTotal
                if !ok { failures += 1 }
                print(row([query.name, String(total), Self.percentiles(patron), Self.percentiles(hand), roundTrip.map(Self.percentiles) ?? "-",
                           total != handTotal ? "FAIL (hand SQL counts \(handTotal))" : ok ? "PASS" : "FAIL"]))
            }
            print("\n\(queries.count) queries, \(failures) over target (p95 ≤ 50 ms and ≤ 2 × hand SQL; hand SQL under 1 ms counts as 1 ms)")
            let inProcess = try await GeneratedSearches.inProcess(generatedQueries, search: search, phones: phones, rules: rules)
            GeneratedSearches.report(seed: seed, queries: generatedQueries.count, inProcess: inProcess, roundTrips: generatedRoundTrips)
        }

        static func percentiles(_ histogram: Histogram<UInt64>) -> String {
            [50.0, 95, 99].map { String(format: "%.1f", Double(histogram.valueAtPercentile($0)) / 1000) }.joined(separator: " / ")
        }

        /// Each query as `customers.search` over the broker, answered by a Patron on the seeded file.
        private func commandRoundTrips(_ queries: [SearchQuery], commands: CommandClient) async throws -> [String: Histogram<UInt64>] {
            var results: [String: Histogram<UInt64>] = [:]
            for query in queries {
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000)
                for run in 0...runs {
                    let start = ContinuousClock.now
                    let reply = try await commands.call("customers.search", args: query.args, timeout: .seconds(30))
                    guard reply["ok"] == .bool(true) else { throw ValidationError("\(query.name): \(reply)") }
                    if run > 0 { _ = histogram.record(UInt64((ContinuousClock.now - start).inSeconds * 1e6)) }
                }
                results[query.name] = histogram
            }
            return results
        }

        /// The fixed list and the generated searches as `customers.search` round trips to a Patron
        /// on PostgreSQL; the generated values come from its customer count as from the file's.
        private func runOnPostgres(_ url: String) async throws {
            guard let urlText = self.url ?? ProcessInfo.processInfo.environment["PATRON_AMQP_URL"] else {
                throw ValidationError("--postgres needs a broker: --url or PATRON_AMQP_URL")
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-search-pg-\(UUID().uuidString.prefix(6))")
            defer { try? FileManager.default.removeItem(at: directory) }
            try await withPatron(urlText: urlText, directory: directory, databaseURL: url) { commands in
                let count = try await commands.call("stats.get", timeout: .seconds(60))["result"]?["customers"]?["total"]?.intValue ?? 0
                print("PostgreSQL database: \(count) customers")
                let queries = SearchQueries.all
                let roundTrips = try await commandRoundTrips(queries, commands: commands)
                print("")
                for query in queries {
                    guard let histogram = roundTrips[query.name] else { continue }
                    let verdict = histogram.valueAtPercentile(95) <= 50_000 ? "PASS" : "FAIL"
                    print(query.name.padding(toLength: 30, withPad: " ", startingAt: 0) + " | round trip " + Self.percentiles(histogram) + " | " + verdict)
                }
                var generator = SearchQueryGenerator(values: SearchSeeder.searchValues(customers: Int(count)), seed: seed)
                let generatedQueries = (0..<generated).map { _ in generator.next() }
                let samples = try await GeneratedSearches.roundTrips(generatedQueries, commands: commands)
                GeneratedSearches.report(seed: seed, queries: generatedQueries.count, inProcess: [], roundTrips: samples)
            }
        }

        /// Runs `body` with a command client of a Patron that serves the seeded file over the
        /// broker, or the PostgreSQL database at `databaseURL`.
        private func withPatron<T>(urlText: String, directory: URL, databaseURL: String? = nil, _ body: (CommandClient) async throws -> T) async throws -> T {
            var logger = Logger(label: "patron-bench")
            logger.logLevel = .error
            let prefix = "benchsearch\(UUID().uuidString.prefix(6).lowercased())"
            let configuration = try ConfigurationLoader.parse(yaml: """
                amqp: {url: "\(urlText)"}
                storage: {data_dir: "\(directory.path)"\(databaseURL.map { ", database_url: \"\($0)\"" } ?? "")}
                metrics: {listen: "off"}
                roles: {patron: viewer}
                records: {erasure_hash_key: "bench-key-bench-key-bench-key-bench-key"}
                topology: {events_exchange: \(prefix).events, ingest_queue: \(prefix).ingest, dead_exchange: \(prefix).dead,
                           dead_queue: \(prefix).dead, commands_exchange: \(prefix).commands, commands_queue: \(prefix).commands,
                           dispatch_exchange: \(prefix).dispatch, notifications_exchange: \(prefix).notifications}
                """)
            let patron = try await Patron(configuration: configuration, configurationPath: nil, logger: logger, handleSignals: false)
            let running = Task { try await patron.run() }
            let client = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "bench-search"), logger: logger)
            let commands = CommandClient(client: client, exchange: configuration.topology.commandsExchange, routingKey: configuration.topology.commandsQueue)
            let clientTask = Task { try await client.run() }
            defer {
                commands.stop()
                client.shutdown()
                clientTask.cancel()
            }
            try await client.waitUntilConnected(timeout: .seconds(20))
            commands.start()
            // Until patrond has declared its command queue and consumes it, requests are lost.
            var last = "no reply"
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                do {
                    let reply = try await commands.call("status.get", timeout: .seconds(1))
                    if reply["ok"] == .bool(true) { break }
                    last = "\(reply)"
                } catch {
                    last = "\(error)"
                }
                guard ContinuousClock.now < deadline else { throw ValidationError("patrond did not answer status.get with ok within a minute: \(last)") }
                try await Task.sleep(for: .milliseconds(500))
            }
            let result = try await body(commands)
            await patron.shutdown()
            _ = try await running.value
            return result
        }
    }
}
