import Foundation
import Logging
import PatronService
import Prometheus
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
}
