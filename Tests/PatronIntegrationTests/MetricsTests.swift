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
                // Each broker connection's state, for an alert on a dropped or blocked one.
                for connection in ["patrond-ingest", "patrond-commands", "patrond-dispatch"] {
                    #expect(try metrics.expectGauge("patron_amqp_connected", [("connection", connection)]).lastValue == 1, "\(connection)")
                    #expect(try metrics.expectGauge("patron_amqp_blocked", [("connection", connection)]).lastValue == 0, "\(connection)")
                }
            }
        }

        /// A command name that is not a command is neither logged nor a label as sent: it may be
        /// personal data, and label values must stay a bounded set.
        @Test func anUnknownCommandNameIsLoggedAndLabelledAsUnknown() async throws {
            let metrics = TestMetrics()
            MetricsSystem.bootstrapInternal(metrics)
            defer { MetricsSystem.bootstrapInternal(NOOPMetricsHandler.instance) }
            let log = CapturedLog()
            try await withRunningPatron(logger: log.logger) { setup, broker, patron in
                try await withCommands(setup) { commands in
                    let reply = try await commands.call("ana.garcia@example.com")
                    #expect(reply["error"]?["field"] == .string("command"))
                    _ = try await commands.call("status.get")
                }
                try await eventually("both commands to be timed") {
                    metrics.timers.contains { $0.label == "patron_command_seconds" && $0.dimensions.contains { $0.0 == "command" && $0.1 == "status.get" } }
                }
            }
            let labels = metrics.timers.filter { $0.label == "patron_command_seconds" }.flatMap(\.dimensions).map(\.1)
            #expect(Set(labels) == ["unknown", "status.get"])
            #expect(!log.text.contains("ana.garcia"), "\(log.text)")
            #expect(log.text.contains("command=unknown outcome=invalid_argument"), "\(log.text)")
        }
    }
}
