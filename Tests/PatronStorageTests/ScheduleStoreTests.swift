import Foundation
import GRDB
import Logging
import PatronDomain
import PatronPhone
@testable import PatronService
import PatronStorage
import Testing

/// Schedules on a real database (both engines): a run is claimed once, even by two claimers at the same
/// moment; a run cut short is reported and not repeated; a scheduler runs what is due.
struct ScheduleStoreTests {
    static func daily(next: Timestamp?) throws -> Schedule {
        Schedule(name: "daily list", cron: try CronExpression("0 7 * * *"), timeZone: TimeZone(identifier: "Europe/Madrid")!,
                 action: .export, arguments: ["format": .string("csv"), "filter": .object(["city": .string("Donostia")])], nextRun: next)
    }

    static let planned = Timestamp(rfc3339: "2026-11-24T07:00:00+01:00")!
    static let following = Timestamp(rfc3339: "2026-11-25T07:00:00+01:00")!

    @Test(arguments: Engine.allCases) func aPlannedRunIsClaimedOnceByConcurrentClaimers(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let store = fixture.stores.schedules
        try await store.create(try Self.daily(next: Self.planned), by: "alice", at: Self.planned)
        await #expect(throws: ScheduleNameTaken.self) {
            try await store.create(try Self.daily(next: Self.planned), by: "bob", at: Self.planned)
        }
        let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { try await store.claim("daily list", planned: Self.planned, next: Self.following, at: .now) } }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(claims.filter { $0 }.count == 1)
        #expect(try await store.due(at: Self.following).isEmpty, "running: not due again until finished")
        #expect(try await store.claimNow("daily list", at: .now) == false, "running: run_now refused")
        try await store.finish("daily list", result: "ok")
        let after = try #require(try await store.schedule(named: "daily list"))
        let arguments = try Self.daily(next: nil).arguments
        #expect(after.nextRun == Self.following && after.lastResult == "ok" && after.arguments == arguments)
        #expect(try await store.claim("daily list", planned: Self.planned, next: Self.following, at: .now) == false, "that run is gone")
    }

    @Test(arguments: Engine.allCases) func aRunCutShortIsReportedAndNotRepeated(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let store = fixture.stores.schedules
        try await store.create(try Self.daily(next: Self.planned), by: "alice", at: Self.planned)
        #expect(try await store.claim("daily list", planned: Self.planned, next: Self.following, at: Self.planned))
        // patrond stops here; at the next start:
        #expect(try await store.closeInterrupted(startedBefore: .now) == ["daily list"])
        let after = try #require(try await store.schedule(named: "daily list"))
        #expect(after.lastResult?.hasPrefix("interrupted") == true && after.nextRun == Self.following)
        #expect(try await store.due(at: Self.planned).isEmpty)
    }

    @Test func theSchedulerRunsAMissedExportOnceAndPlansTheNextTime() async throws {
        let fixture = try await CustomerSearchTests.fixture()
        let store = fixture.stores.schedules
        let exportLog = fixture.stores.exportLog
        let exporter = CustomerExporter(stores: fixture.stores, directory: fixture.directory.appendingPathComponent("exports").path, currency: "EUR", zone: .utc)
        let actions = ScheduleActions(exporter: exporter, phones: RecordsFixture.phones, rules: RecordRules(), defaultLanguage: "en", sender: fixture.dispatchSender(), outbox: fixture.stores.fileDeliveries)
        // Planned a week ago: patrond was down since.
        let weekAgo = Timestamp(microseconds: Timestamp.now.microseconds - 7 * 86_400_000_000)
        try await store.create(try Self.daily(next: weekAgo), by: "alice", at: weekAgo)
        let scheduler = Scheduler(store: store, actions: actions, catchUpMissed: true, logger: Logger(label: "test"))
        try await scheduler.runDue(now: .now)
        try await scheduler.runDue(now: .now)
        let exports = try await exportLog.entries(limit: 10)
        #expect(exports.count == 1 && exports.first?.requestedBy == "schedule:daily list" && exports.first?.rows == 2)
        let after = try #require(try await store.schedule(named: "daily list"))
        #expect(after.lastResult?.hasPrefix("ok: export \(exports.first?.id ?? "")") == true, "\(after.lastResult ?? "")")
        #expect(after.nextRun.map { $0 > .now } == true)

        let skipping = Scheduler(store: store, actions: actions, catchUpMissed: false, logger: Logger(label: "test"))
        try await store.create(Schedule(name: "skipped", cron: try CronExpression("@daily"), timeZone: TimeZone(identifier: "UTC")!,
                                        action: .export, arguments: ["format": .string("csv")], nextRun: weekAgo), by: "alice", at: weekAgo)
        try await skipping.runDue(now: .now)
        #expect(try await exportLog.entries(limit: 10).count == 1)
        #expect(try await store.schedule(named: "skipped")?.lastResult?.hasPrefix("missed") == true)
    }

    /// An export schedule with `deliver_to` queues one email job per staff address after each run,
    /// naming the file; the same run again (a retry) queues nothing more. Only export and report
    /// schedules deliver, and a wrong address is refused at creation, by its position.
    @Test(arguments: Engine.allCases) func aScheduledFileIsDeliveredToStaffOncePerRun(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let exporter = CustomerExporter(stores: fixture.stores, directory: fixture.directory.appendingPathComponent("exports").path, currency: "EUR", zone: .utc)
        let actions = ScheduleActions(exporter: exporter, phones: RecordsFixture.phones, rules: RecordRules(), defaultLanguage: "en",
                                      sender: fixture.dispatchSender(), outbox: fixture.stores.fileDeliveries)
        let staff: JSONValue = .array([.string("reception@hotel.example"), .string("manager@hotel.example")])
        var schedule = try Self.daily(next: Self.planned)
        schedule.arguments["deliver_to"] = staff
        try actions.check(.export, CommandArguments(schedule.arguments), schedule.timeZone)
        let first = await actions.perform(schedule, run: Self.planned)
        #expect(first.hasPrefix("ok: export") && first.hasSuffix("delivered to 2 of 2"), "\(first)")
        #expect(await actions.perform(schedule, run: Self.planned).hasSuffix("delivered to 0 of 2"))
        let jobs = try await fixture.stores.dispatchOutbox.pending(channel: .email, readyAt: .now, after: 0, limit: 10)
        #expect(jobs.count == 2)
        let bodies = try jobs.map { try JSONParser.parse($0.body) }
        #expect(Set(bodies.compactMap { $0["to"]?.stringValue }) == ["reception@hotel.example", "manager@hotel.example"])
        // The retry exported again; the jobs name the first run's file.
        let export = try #require(try await fixture.stores.exportLog.entries(limit: 10).first { first.hasPrefix("ok: export \($0.id),") })
        #expect(bodies.allSatisfy { $0["attachment"]?["export_id"] == .string(export.id) && $0["attachment"]?["sha256"] == .string(export.sha256) })
        #expect(bodies.allSatisfy { $0["customer_no"] == nil && $0["template"] == .string("scheduled_file") })

        for (action, arguments, field) in [(Schedule.Action.dispatch, ["deliver_to": staff], "args.deliver_to"),
                                           (.export, ["format": .string("csv"), "deliver_to": .array([.string("nobody")])], "args.deliver_to[0]")] {
            #expect(throws: CommandError.self) { try actions.check(action, CommandArguments(arguments), schedule.timeZone) }
            do { try actions.check(action, CommandArguments(arguments), schedule.timeZone) } catch let error as CommandError { #expect(error.field == field) }
        }
    }

    /// A replica starting while another runs a schedule leaves that run alone while its claim is
    /// renewed, and reports it once the claim has lapsed (its replica died). Alone on SQLite,
    /// patrond reports every run still marked running at its start.
    @Test func aRunInProgressOnAnotherReplicaIsNotTakenForInterrupted() async throws {
        let fixture = try await RecordsFixture.open(.postgres)
        let store = fixture.stores.schedules
        let start = Timestamp.now
        try await store.create(try Self.daily(next: Self.planned), by: "alice", at: start)
        // Another replica claimed the run at `start` and renews it every 30 s.
        #expect(try await store.claim("daily list", planned: Self.planned, next: Self.following, at: start))
        let actions = ScheduleActions(exporter: CustomerExporter(stores: fixture.stores, directory: fixture.directory.path, currency: "EUR", zone: .utc),
                                      phones: RecordsFixture.phones, rules: RecordRules(), defaultLanguage: "en", sender: fixture.dispatchSender(), outbox: fixture.stores.fileDeliveries)
        let replica = Scheduler(store: store, actions: actions, catchUpMissed: true, logger: Logger(label: "test"), sharedStorage: true)
        try await replica.closeAbandonedRuns(now: start.adding(seconds: 60), atStart: true)
        try await store.renew("daily list", at: start.adding(seconds: 60))
        try await replica.closeAbandonedRuns(now: start.adding(seconds: 120), atStart: false)
        #expect(try await store.claimNow("daily list", at: start.adding(seconds: 120)) == false, "still running: run_now refused")
        // No renewal for more than three intervals: its replica is gone.
        try await replica.closeAbandonedRuns(now: start.adding(seconds: 60 + 91), atStart: false)
        #expect(try await store.schedule(named: "daily list")?.lastResult?.hasPrefix("interrupted") == true)

        let alone = try RecordsFixture()
        try await alone.stores.schedules.create(try Self.daily(next: Self.planned), by: "alice", at: start)
        #expect(try await alone.stores.schedules.claim("daily list", planned: Self.planned, next: Self.following, at: start))
        let single = Scheduler(store: alone.stores.schedules, actions: actions, catchUpMissed: true, logger: Logger(label: "test"))
        try await single.closeAbandonedRuns(now: start.adding(seconds: 1), atStart: true)
        #expect(try await alone.stores.schedules.schedule(named: "daily list")?.lastResult?.hasPrefix("interrupted") == true)
    }
}
