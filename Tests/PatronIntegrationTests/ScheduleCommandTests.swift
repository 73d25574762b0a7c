import GRDB
import Foundation
import PatronDomain
import PatronStorage
import Testing

extension BrokerBacked {
    /// Show Schedules on a running Patron: a run missed while it was down runs once at start-up, a
    /// run cut short by a stop is reported and not repeated, and the `schedules.*` commands.
    @Suite struct ScheduleCommands {
        @Test(arguments: TestEngine.allCases) func missedAndInterruptedRunsAtStartUpThenTheCommands(engine: TestEngine) async throws {
            let setup = try await TestSetup.on(engine)
            let weekAgo = Timestamp(microseconds: Timestamp.now.microseconds - 7 * 86_400_000_000)
            do {
                let store = try setup.storage().stores().schedules
                for name in ["missed weekly", "cut short"] {
                    try await store.create(Schedule(name: name, cron: try CronExpression("0 7 * * mon"), timeZone: TimeZone(identifier: "Europe/Madrid")!,
                                                    action: .export, arguments: ["format": .string("csv")], nextRun: weekAgo),
                                           by: "alice", at: weekAgo)
                }
                // The previous patrond claimed this run and stopped before it finished.
                #expect(try await store.claim("cut short", planned: weekAgo, next: nil, at: weekAgo))
            }
            try await withRunningPatron(setup) { setup, broker, _ in
                try await CustomerCommands.publishAnaAndBen(setup, broker)
                try await withCommands(setup) { commands in
                    func schedules() async throws -> [String: JSONValue] {
                        let list = try await commands.call("schedules.list")["result"]?["schedules"]?.arrayValue ?? []
                        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"]?.stringValue ?? "", $0) })
                    }
                    try await eventually("the missed run") { try await schedules()["missed weekly"]?["last_result"]?.stringValue?.hasPrefix("ok") == true }
                    let listed = try await schedules()
                    #expect(listed["cut short"]?["last_result"]?.stringValue?.hasPrefix("interrupted") == true)
                    #expect(listed["missed weekly"]?["next_run"]?.stringValue?.hasSuffix("T07:00:00+01:00") == true)

                    let created = try await commands.call("schedules.create", args: [
                        "name": .string("follow-up"), "cron": .string("@monthly"), "timezone": .string("Europe/Madrid"), "action": .string("export"),
                        "format": .string("csv"), "filter": .object(["newsletter": .bool(true)]), "language": .string("es"),
                    ])
                    #expect(created["result"]?["next_run"]?.stringValue?.hasSuffix("-01T00:00:00+01:00") == true, "\(created)")
                    let again = try await commands.call("schedules.create", args: [
                        "name": .string("follow-up"), "cron": .string("@daily"), "timezone": .string("UTC"), "action": .string("export"), "format": .string("csv"),
                    ])
                    #expect(again["error"]?["code"] == .string("conflict") && again["error"]?["field"] == .string("args.name"))
                    let badCron = try await commands.call("schedules.create", args: [
                        "name": .string("x"), "cron": .string("0 25 * * *"), "timezone": .string("UTC"), "action": .string("export"), "format": .string("csv"),
                    ])
                    #expect(badCron["error"]?["field"] == .string("args.cron"))
                    let badFilter = try await commands.call("schedules.create", args: [
                        "name": .string("x"), "cron": .string("@daily"), "timezone": .string("UTC"), "action": .string("export"), "format": .string("csv"),
                        "filter": .object(["citty": .string("x")]),
                    ])
                    #expect(badFilter["error"]?["field"] == .string("args.filter.citty"))

                    let report = try await commands.call("schedules.create", args: [
                        "name": .string("monthly follow-up"), "cron": .string("0 8 1 * *"), "timezone": .string("Europe/Madrid"), "action": .string("report"),
                        "report": .string("follow_up"), "format": .string("xlsx"),
                    ])
                    #expect(report["result"]?["action"] == .string("report"), "\(report)")
                    let reportRun = try await commands.call("schedules.run_now", args: ["name": .string("monthly follow-up")])
                    #expect(reportRun["result"]?["last_result"]?.stringValue?.hasPrefix("ok: follow_up") == true, "\(reportRun)")
                    let byHand = try await commands.call("reports.run", args: ["report": .string("top_customers"), "format": .string("csv"),
                                                                              "timezone": .string("Europe/Madrid")])
                    #expect(byHand["result"]?["rows"] == .integer(1), "\(byHand)")
                    let noZone = try await commands.call("reports.run", args: ["report": .string("no_shows"), "format": .string("csv")])
                    #expect(noZone["error"]?["field"] == .string("args.timezone"))

                    let ran = try await commands.call("schedules.run_now", args: ["name": .string("follow-up")])
                    #expect(ran["result"]?["last_result"]?.stringValue?.hasPrefix("ok: export") == true, "\(ran)")
                    let log = try await commands.call("exports.log")["result"]?["exports"]?.arrayValue ?? []
                    #expect(Set(log.compactMap { $0["requested_by"]?.stringValue })
                            == ["schedule:missed weekly", "schedule:follow-up", "schedule:monthly follow-up", "patron"])

                    let deleted = try await commands.call("schedules.delete", args: ["name": .string("follow-up")])
                    #expect(deleted["result"]?["deleted"] == .bool(true))
                    let missing = try await commands.call("schedules.run_now", args: ["name": .string("follow-up")])
                    #expect(missing["error"]?["code"] == .string("not_found"))
                }
            }
        }
    }
}

extension BrokerBacked.Lifecycle {
    /// A real patrond killed with SIGKILL while a scheduled export is being written: after the
    /// restart the run is reported as interrupted and not run again, no export is logged, and the
    /// partial file is cleaned up once it is an hour old.
    @Test func killMinus9DuringAScheduledExportIsReportedNotRepeated() async throws {
        let setup = try TestSetup()
        let broker = try await TestBroker()
        let weekAgo = Timestamp(microseconds: Timestamp.now.microseconds - 7 * 86_400_000_000)
        do {
            let database = try PatronDatabase.open(directory: setup.directory.path)
            // Enough customers that the PDF takes a while to write (their search rows come from the insert trigger).
            try await database.write { db in
                try db.execute(sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
                    INSERT INTO customers (id, customer_no, number_assigned, first_contact_at, last_name, email)
                    SELECT i, 'C-' || i, 0, 0, 'Name' || i, 'c' || i || '@example.com' FROM n;
                    """)
            }
            try await Storage.sqlite(database).stores().schedules.create(
                Schedule(name: "weekly pdf", cron: try CronExpression("0 7 * * mon"), timeZone: TimeZone(identifier: "Europe/Madrid")!,
                         action: .export, arguments: ["format": .string("pdf")], nextRun: weekAgo), by: "alice", at: weekAgo)
        }
        let exports = setup.directory.appendingPathComponent("exports")
        func partials() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: exports.path)) ?? []).filter { $0.hasSuffix(".partial") } }
        let first = try ChildPatrond(configurationPath: setup.configurationPath, logName: "first.log")
        try await eventually("the missed run to start writing") { !partials().isEmpty }
        first.send(SIGKILL)
        #expect(try await first.waitForExit() == SIGKILL)
        let (running, logged) = try await setup.readOnlyDatabase().read { db in
            (try Int64.fetchOne(db, sql: "SELECT running_since FROM schedules"), try Int.fetchOne(db, sql: "SELECT count(*) FROM export_log") ?? 0)
        }
        #expect(running != nil && logged == 0, "killed mid-run")
        let left = try #require(partials().first)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: exports.appendingPathComponent(left).path)

        let second = try ChildPatrond(configurationPath: setup.configurationPath, logName: "second.log")
        try await eventually("the interrupted run to be reported") {
            try await setup.readOnlyDatabase().read { try String.fetchOne($0, sql: "SELECT last_result FROM schedules") }?.hasPrefix("interrupted") == true
        }
        try await eventually("the partial file to be removed") { partials().isEmpty }
        try await Task.sleep(for: .seconds(1))
        let exported = try await setup.readOnlyDatabase().read { try Int.fetchOne($0, sql: "SELECT count(*) FROM export_log") }
        #expect(exported == 0, "not run again")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: exports.path)) ?? []).isEmpty)
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        await setup.tearDown(broker)
        await broker.close()
    }
}
