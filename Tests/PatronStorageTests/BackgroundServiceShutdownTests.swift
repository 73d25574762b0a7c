import Foundation
import Logging
import PatronDomain
@testable import PatronService
import PatronStorage
import ServiceLifecycleTestKit
import Testing

/// The scheduler and export retention sleep between rounds (up to an hour); a graceful shutdown
/// must end the sleep, not wait for the shutdown cap and cancellation (patrond's SIGTERM took
/// the whole grace period before this was fixed).
struct BackgroundServiceShutdownTests {
    /// Runs `service` until a graceful shutdown, which must end it within `limit`.
    static func returnsOnGracefulShutdown(_ name: String, limit: Duration = .seconds(10),
                                          _ run: @escaping @Sendable () async throws -> Void) async throws {
        try await testGracefulShutdown { trigger in
            let service = Task { try await run() }
            try await Task.sleep(for: .milliseconds(300))
            trigger.triggerGracefulShutdown()
            let deadline = ContinuousClock.now + limit
            let watchdog = Task {
                try await Task.sleep(until: deadline)
                service.cancel()
            }
            try await service.value
            #expect(ContinuousClock.now < deadline, "\(name) returned only when cancelled, not on the graceful shutdown")
            watchdog.cancel()
        }
    }

    @Test func theSchedulerAndExportRetentionStopOnAGracefulShutdown() async throws {
        let fixture = try RecordsFixture()
        let exporter = CustomerExporter(stores: fixture.stores, directory: fixture.directory.appendingPathComponent("exports").path, currency: "EUR", zone: .utc)
        let scheduler = Scheduler(store: fixture.stores.schedules,
                                  actions: ScheduleActions(exporter: exporter, phones: RecordsFixture.phones, rules: RecordRules(), defaultLanguage: "en", sender: fixture.dispatchSender(), outbox: fixture.stores.fileDeliveries),
                                  catchUpMissed: true, logger: Logger(label: "test"), pollInterval: .seconds(3600))
        try await Self.returnsOnGracefulShutdown("the scheduler") { try await scheduler.run() }
        let retention = ExportRetention(log: fixture.stores.exportLog, directory: fixture.directory.path, retentionDays: 30,
                                        logger: Logger(label: "test"))
        try await Self.returnsOnGracefulShutdown("export retention") { try await retention.run() }
    }
}
