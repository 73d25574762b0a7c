import ArgumentParser
import Foundation
import Logging
import PatronAMQP
import PatronDomain
import PatronService
import PatronStorage

extension PatronBench {
    /// Issue "Email and SMS dispatch", benchmark: N jobs through the outbox and the relay to the
    /// broker with publisher confirms, next to a raw publish-with-confirms of the same bodies on
    /// the same broker in the same run. Target: relay ≥ 0.5 × raw.
    struct Dispatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Outbox and relay vs raw publish with confirms, same bodies.")

        @Option(help: "Number of jobs.") var jobs = 100_000
        @Option(help: "Broker URL (default: $PATRON_AMQP_URL).") var url: String?
        @Option(help: "The templates the bodies are rendered from.") var templates = "config/templates"

        func validate() throws {
            guard jobs >= 1000 else { throw ValidationError("--jobs must be at least 1000") }
        }

        func run() async throws {
            let bench = try BrokerBench(url: url)
            let (urlText, logger, prefix, directory) = (bench.url, bench.logger, bench.prefix, bench.directory)
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try PatronDatabase.open(directory: directory.path)
            let store = SQLiteEventStore(database: database, applier: RecordApplier(rules: RecordRules(), hasher: HMACIdentityHasher(key: prefix)))
            let library = try TemplateLibrary.load(directory: templates, defaultLanguage: "es")

            // The outbox, filled as sends fill it: rendered newsletters, one transaction per 500.
            let writeStart = ContinuousClock.now
            for start in stride(from: 0, to: jobs, by: 500) {
                let batch = (start..<min(start + 500, jobs)).map { Self.job(number: $0, library: library) }
                try await store.change { _, records in
                    for (index, job) in batch.enumerated() {
                        _ = try records.enqueueDispatch(job, customer: Int64(start + index + 1), trigger: "bench", notBefore: job.createdAt)
                    }
                }
            }
            let written = ContinuousClock.now - writeStart
            let outbox = try Storage.sqlite(database).stores().dispatchOutbox
            let bodies = try await outbox.pending(channel: .email, readyAt: .now, after: 0, limit: jobs).map(\.body)
            let bytes = bodies.reduce(0) { $0 + $1.count }

            let client = AMQPClient(configuration: .init(urls: [try AMQPURL(parsing: urlText)], connectionName: "patron-bench-dispatch"), logger: logger)
            let runner = Task { try await client.run() }
            try await client.waitUntilConnected(timeout: .seconds(20))
            let rawExchange = "\(prefix).raw", relayExchange = "\(prefix).dispatch"
            try await client.withManagement { broker in
                for exchange in [rawExchange, relayExchange] {
                    try broker.declareExchange(exchange, type: "topic")
                    try broker.declareQueue(exchange + ".email", arguments: ["x-queue-type": .string("quorum")])
                    try broker.bindQueue(exchange + ".email", to: exchange, routingKey: "email")
                }
            }

            // Raw: the same bodies and properties, batches of 500 (the relay's), with confirms.
            let rawStart = ContinuousClock.now
            for start in stride(from: 0, to: bodies.count, by: DispatchRelay.batchSize) {
                try await client.publish(bodies[start..<min(start + DispatchRelay.batchSize, bodies.count)].enumerated().map { offset, body in
                    var properties = AMQPProperties.persistentJSON()
                    properties.messageID = "raw-\(start + offset)"
                    properties.type = "dispatch.email"
                    return AMQPOutgoingMessage(exchange: rawExchange, routingKey: "email", properties: properties, body: body)
                })
            }
            let raw = ContinuousClock.now - rawStart

            // The relay as patrond runs it, without a rate limit, until the outbox is empty.
            let relay = DispatchRelay(outbox: outbox, client: client, exchange: relayExchange, rateLimits: [:], logger: logger,
                                      idleInterval: .milliseconds(5))
            let relayStart = ContinuousClock.now
            let relayTask = Task { try await relay.run() }
            while try await database.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM dispatch_outbox WHERE published_at IS NULL") }) ?? 1 > 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            let relayed = ContinuousClock.now - relayStart
            relayTask.cancel()
            _ = await relayTask.result
            let delivered = try await client.withManagement { try $0.queueInfo(relayExchange + ".email").messageCount }

            print("jobs                    \(jobs) newsletters, \(bytes / jobs) bytes of JSON each on average")
            print("outbox writes           \(format(written))  \(Int(rate(jobs, written))) jobs/s (500 per transaction)")
            print("raw publish w/ confirms \(format(raw))  \(Int(rate(jobs, raw))) msg/s")
            print("outbox → relay → broker \(format(relayed))  \(Int(rate(jobs, relayed))) jobs/s (confirmed and marked sent)")
            print("in the relay's queue    \(delivered)")
            let ratio = rate(jobs, relayed) / rate(jobs, raw)
            print(String(format: "relay / raw             %.2f × (target ≥ 0.50: %@)", ratio, ratio >= 0.5 ? "PASS" : "FAIL"))
            print(String(format: "peak resident memory    %.0f MiB", peakResidentMiB()))

            _ = try? await client.withManagement { broker in
                for exchange in [rawExchange, relayExchange] {
                    try? broker.deleteQueue(exchange + ".email")
                    try? broker.deleteExchange(exchange)
                }
            }
            client.shutdown()
            _ = await runner.result
        }

        static func job(number: Int, library: TemplateLibrary) -> DispatchJob {
            var variables = DispatchVariables()
            variables.set("customer", ["customer_no": "C-\(number)", "first_name": "Guest \(number)"])
            variables.set("hotel", ["name": "Hotel Donostia", "url": "https://hotel-donostia.example"])
            variables.values["unsubscribe_url"] = "https://hotel-donostia.example/baja?token=C-\(number)"
            let message = library.render("newsletter", language: number % 2 == 0 ? "es" : "en", channel: .email, variables: variables)!
            return DispatchJob(jobID: UUID().uuidString.lowercased(), channel: .email, to: "guest\(number)@example.com", customerNo: "C-\(number)",
                               language: message.language, template: "newsletter", subject: message.subject, body: message.text, html: message.html,
                               purpose: .marketing, createdAt: .now, segmentation: nil, unsubscribeURL: variables.values["unsubscribe_url"])
        }
    }
}
