import ArgumentParser
import Foundation
import PatronService

extension PatronBench {
    /// The two stages of ingest without the broker: the decoder alone and the store alone, on
    /// the same realistic mix as `ingest`. For profiling one stage at a time.
    struct Stages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode only and apply + commit only, without a broker.")

        @Option(help: "Number of events.")
        var events = 100_000

        @Option(help: "Events per transaction, as ingest.batch_size.")
        var batchSize = 500

        func run() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-stages-\(UUID().uuidString.prefix(6))")
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = try ConfigurationLoader.parse(yaml: """
                amqp: {url: "amqp://localhost"}
                storage: {data_dir: "\(directory.path)"}
                metrics: {listen: "off"}
                records: {erasure_hash_key: "bench-key-bench-key-bench-key-bench-key"}
                """)
            let messages = EventMix.messages(count: events, exchange: "bench")
            try await Ingest.breakDown(messages, configuration: configuration, batchSize: batchSize, directory: directory)
        }
    }
}
