@testable import CoreMetrics
import MetricsTestKit
import PatronDomain
import Testing

extension BrokerBacked {
    @Suite struct IngestMetrics {
        /// Counters are created when Patron is built, so the test backend is installed first.
        /// `bootstrapInternal` may replace the backend, which the public `bootstrap` refuses.
        @Test func acceptedDuplicateAndRejectedEventsAreCounted() async throws {
            let metrics = TestMetrics()
            MetricsSystem.bootstrapInternal(metrics)
            defer { MetricsSystem.bootstrapInternal(NOOPMetricsHandler.instance) }
            try await withRunningPatron { setup, broker, patron in
                let exchange = setup.topology.eventsExchange
                try await broker.publish([
                    event("m-1", exchange: exchange), event("m-1", exchange: exchange),
                    event("m-2", occurredAt: "soon", exchange: exchange), event(nil, exchange: exchange),
                ])
                try await eventually("all four to be handled") {
                    let totals = patron.patron.pipeline.totalsSnapshot
                    return totals.accepted + totals.duplicates + totals.rejected == 4
                }
                #expect(try metrics.expectCounter("patron_events_accepted_total").totalValue == 1)
                #expect(try metrics.expectCounter("patron_events_duplicate_total").totalValue == 1)
                #expect(try metrics.expectCounter("patron_events_rejected_total", [("reason", Rejection.Reason.invalidValue.rawValue)]).totalValue == 1)
                #expect(try metrics.expectCounter("patron_events_rejected_total", [("reason", Rejection.Reason.missingField.rawValue)]).totalValue == 1)
                #expect(try metrics.expectTimer("patron_ingest_commit_seconds").values.count >= 1)
            }
        }
    }
}
