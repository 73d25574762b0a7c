import Foundation
import Logging
@testable import PatronService
import Prometheus
import CoreMetrics
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct MetricsServerTests {
    @Test func servesThePrometheusTextFormatOnLoopback() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "patron", metricName: "test", unitName: "total", helpText: "A test counter")).increment(by: Int64(3))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = MetricsServer(host: "127.0.0.1", port: 0, registry: registry, logger: logger)
        let running = Task { try await server.run() }
        defer { running.cancel() }
        var port: Int?
        for _ in 0..<200 where port == nil {
            port = server.boundPort
            try await Task.sleep(for: .milliseconds(10))
        }
        let bound = try #require(port)

        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(bound)/metrics")!)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect((http.value(forHTTPHeaderField: "Content-Type") ?? "").hasPrefix("text/plain; version=0.0.4"))
        #expect(String(decoding: body, as: UTF8.self).contains("patron_test_total 3"))

        let (_, missing) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(bound)/other")!)
        #expect((missing as? HTTPURLResponse)?.statusCode == 404)
    }

    /// Each metric patrond records through swift-metrics is served with a `# HELP` line saying
    /// what it means; a line the registry already wrote is kept, and the rest of the text is
    /// unchanged.
    @Test func everyMetricIsServedWithItsHelpText() throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let counter = factory.makeCounter(label: "patron_events_accepted_total", dimensions: [])
        counter.increment(by: 2)
        let gauge = factory.makeMeter(label: "patron_amqp_connected", dimensions: [("connection", "patrond-ingest")])
        gauge.set(1.0)
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "patron", metricName: "test", unitName: "total", helpText: "A test counter"))
            .increment(by: Int64(1))
        let plain = registry.emitToBuffer()
        let served = String(decoding: MetricHelp.annotate(plain), as: UTF8.self)
        #expect(served.contains("# HELP patron_events_accepted_total Events recorded"), "\(served)")
        #expect(served.contains("# HELP patron_amqp_connected 1 while"), "\(served)")
        #expect(served.components(separatedBy: "# HELP patron_test_total").count == 2, "an existing HELP line stays single")
        let withoutHelp = served.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("# HELP patron_events") && !$0.hasPrefix("# HELP patron_amqp") }
        #expect(withoutHelp.joined(separator: "\n") == String(decoding: plain, as: UTF8.self))

        // Every metric name the sources record has its text (the tests run from the package's root).
        let sources = try FileManager.default.subpathsOfDirectory(atPath: "Sources").filter { $0.hasSuffix(".swift") }
        var names = Set<String>()
        for path in sources {
            let text = try String(contentsOfFile: "Sources/" + path, encoding: .utf8)
            for match in text.matches(of: /(?:Counter|Gauge|Recorder|Timer|Meter)\(label: "(patron_[a-z_]+)"/) { names.insert(String(match.1)) }
        }
        #expect(names.count > 10)
        #expect(names.subtracting(MetricHelp.texts.keys).isEmpty, "no help text: \(names.subtracting(MetricHelp.texts.keys).sorted())")
    }
}
