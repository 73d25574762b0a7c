import Foundation
import PatronDomain
import PatronStorage
import Testing

extension BrokerBacked {
    /// Show Schedules on a running Patron: a run missed while it was down runs once at start-up, a
    /// run cut short by a stop is reported and not repeated, and the `schedules.*` commands.
    @Suite struct ScheduleCommands {
        @Test func missedAndInterruptedRunsAtStartUpThenTheCommands() async throws {
            let setup = try TestSetup()
            let weekAgo = Timestamp(microseconds: Timestamp.now.microseconds - 7 * 86_400_000_000)
            do {
                let database = try PatronDatabase.open(directory: setup.directory.path)
                let store = SQLiteScheduleStore(database: database)
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
