import ArgumentParser
import Foundation
import Logging
import PatronAMQP
import PatronDomain
import PatronService
import PatronStorage

extension PatronBench {
    /// Issue "Patron foundation", item 11: the transport-only drain of N messages and patrond's
    /// end-to-end ingest of the same messages into the journal, on the same broker, in one run.
    /// Target: (b) ≥ 0.5 × (a).
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Transport-only drain vs end-to-end ingest into the journal.")

        @Option(help: "Number of events.")
        var events = 100_000

        @Option(help: "Broker URL (default: $PATRON_AMQP_URL).")
        var url: String?

        @Option(help: "Deliveries per batch, as ingest.batch_size.")
        var batchSize = 500

        @Option(help: "Prefetch, as amqp.prefetch.")
        var prefetch = 3000

        func validate() throws {
            guard events >= 1000 else { throw ValidationError("--events must be at least 1000") }
            guard batchSize >= 1, batchSize <= prefetch, prefetch <= 65535 else {
                throw ValidationError("need 1 ≤ --batch-size ≤ --prefetch ≤ 65535")
            }
        }

        func run() async throws {
            guard let urlText = url ?? ProcessInfo.processInfo.environment["PATRON_AMQP_URL"] else {
                throw ValidationError("give --url or set PATRON_AMQP_URL (scripts/bench starts a private broker)")
            }
            var logger = Logger(label: "patron-bench")
            logger.logLevel = .error
            let prefix = "bench\(UUID().uuidString.prefix(6).lowercased())"
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix)
            defer { try? FileManager.default.removeItem(at: directory) }
            var configuration = try ConfigurationLoader.parse(yaml: """
                amqp: {url: "\(urlText)", prefetch: \(prefetch)}
                ingest: {batch_size: \(batchSize)}
                storage: {data_dir: "\(directory.path)"}
                metrics: {listen: "off"}
                """)
            configuration.topology = .prefixed(prefix)
            let names = configuration.topology
            let drainQueue = "\(prefix).drain"

            let client = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "patron-bench"), logger: logger)
            let runner = Task { try await client.run() }
            try await client.waitUntilConnected(timeout: .seconds(20))
            try await client.withManagement { broker in
                try Topology.declare(names, on: broker)
                try broker.declareQueue(drainQueue, arguments: ["x-queue-type": .string(names.ingestQueueType)])
                try broker.bindQueue(drainQueue, to: names.eventsExchange, routingKey: "#")
            }

            let messages = (0..<events).map { Self.event(index: $0, exchange: names.eventsExchange) }
            let size = messages[0].body.count
            print("patron-bench ingest: \(events) events of ~\(size) bytes, batch \(batchSize), prefetch \(prefetch)")
            let publishStart = ContinuousClock.now
            for chunk in stride(from: 0, to: events, by: 1000) {
                try await client.publish(Array(messages[chunk..<min(chunk + 1000, events)]))
            }
            let published = ContinuousClock.now - publishStart
            print("publish with confirms   \(format(published))  \(Int(rate(events, published))) msg/s (into both queues)")

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
            let ingestCPU = processCPUSeconds()
            let ingestStart = ContinuousClock.now
            let patron = try Patron(configuration: configuration, configurationPath: nil, logger: logger, handleSignals: false)
            let patronTask = Task { try await patron.run() }
            var firstCommit: Duration?
            while true {
                let recorded = try await patron.store.journalStatus().recorded
                if recorded > 0, firstCommit == nil { firstCommit = ContinuousClock.now - ingestStart }
                if recorded >= Int64(events) { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            let ingestTime = ContinuousClock.now - ingestStart
            let ingestRate = rate(events, ingestTime)
            print("(b) patrond ingest      \(format(ingestTime))  \(Int(ingestRate)) msg/s  \(Self.cpu(since: ingestCPU, events)) µs CPU/msg (start-up to first commit \(format(firstCommit ?? .zero)))")
            let batches = max(patron.pipeline.totalsSnapshot.batches, 1)
            let totals = patron.pipeline.totalsSnapshot
            print("    \(batches) transactions, \(events / batches) deliveries per batch; stages busy: decode \(format(totals.decoding)), commit \(format(totals.committing))")
            let ratio = ingestRate / drainRate
            print(String(format: "ratio (b)/(a)           %.2f  (target ≥ 0.50)  %@", ratio, ratio >= 0.5 ? "PASS" : "FAIL"))
            print(String(format: "peak resident memory    %.0f MiB (bench process: publisher, drain and Patron)", peakResidentMiB()))

            await patron.shutdown()
            _ = await patronTask.result
            try await Self.breakDown(messages, batchSize: batchSize, directory: directory)
            _ = try? await client.withManagement { broker in
                try? broker.deleteQueue(drainQueue)
                for queue in [names.ingestQueue, names.deadQueue, names.commandsQueue] { try? broker.deleteQueue(queue) }
                for exchange in [names.eventsExchange, names.deadExchange, names.commandsExchange, names.dispatchExchange, names.notificationsExchange] {
                    try? broker.deleteExchange(exchange)
                }
            }
            client.shutdown()
            _ = await runner.result
            if ratio < 0.5 { throw ExitCode(1) }
        }

        static func cpu(since start: Double, _ events: Int) -> String {
            String(format: "%.1f", (processCPUSeconds() - start) / Double(events) * 1e6)
        }

        /// Where (b)'s time goes: the decoder alone, and the store alone, on the same messages.
        static func breakDown(_ messages: [AMQPOutgoingMessage], batchSize: Int, directory: URL) async throws {
            let decoder = EnvelopeDecoder()
            let context = MessageContext(routingKey: "booking.created")
            var envelopes: [Envelope] = []
            envelopes.reserveCapacity(messages.count)
            let decodeStart = ContinuousClock.now
            for message in messages {
                envelopes.append(try decoder.decode(body: message.body, context: context).get())
            }
            let decodeTime = ContinuousClock.now - decodeStart
            print("  decode only           \(format(decodeTime))  \(Int(rate(messages.count, decodeTime))) msg/s")

            let database = try PatronDatabase.open(directory: directory.appendingPathComponent("breakdown").path)
            let store = SQLiteEventStore(database: database)
            let now = Timestamp.now
            let events = zip(envelopes, messages).map { AcceptedEvent(envelope: $0, routingKey: "booking.created", receivedAt: now, body: $1.body) }
            let commitStart = ContinuousClock.now
            for start in stride(from: 0, to: events.count, by: batchSize) {
                _ = try await store.record(Array(events[start..<min(start + batchSize, events.count)]))
            }
            let commitTime = ContinuousClock.now - commitStart
            print("  commit only           \(format(commitTime))  \(Int(rate(messages.count, commitTime))) msg/s (\(events.count / batchSize) transactions)")
        }

        /// A realistic ~500-byte booking event.
        static func event(index: Int, exchange: String) -> AMQPOutgoingMessage {
            let body = """
                {"id":"bench-\(index)","type":"booking.created","occurred_at":"2026-11-20T10:15:00+01:00","source":"booking-engine",\
                "data":{"customer":{"customer_no":"C-\(100000 + index)","title":"Mrs.","first_name":"Ana","last_name":"García",\
                "email":"ana.garcia\(index)@example.com","mobile":"+34 600 \(String(format: "%03d %03d", index / 1000 % 1000, index % 1000))",\
                "address":{"line1":"Calle Mayor 1","zip":"20001","city":"Donostia","country":"ES"},"language":"es","newsletter":true},\
                "booking":{"ref":"BK-\(index)","status":"confirmed","hotel":"Hotel Donostia","room_type":"Double",\
                "arrival":"2026-12-01","departure":"2026-12-04","guests":2,"amount":"412.50","currency":"EUR"}}}
                """
            return AMQPOutgoingMessage(exchange: exchange, routingKey: "booking.created", body: Array(body.utf8))
        }
    }
}
