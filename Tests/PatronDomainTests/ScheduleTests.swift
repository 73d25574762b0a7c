import Foundation
import PatronDomain
import Testing

/// `schedules.create` arguments and the plan for due and missed runs.
struct ScheduleTests {
    static let now = Timestamp(rfc3339: "2026-11-24T08:00:00Z")!

    static func parse(_ args: [String: JSONValue]) throws -> Schedule {
        try Schedule.parse(CommandArguments(args), now: now) { _, arguments, _ in
            // An export's own checks are ExportRequestTests'; here only that they are handed over.
            if arguments.values["format"] != .string("csv") { throw CommandError(.invalidArgument, field: "args.format", "one of csv") }
        }
    }

    static let weekly: [String: JSONValue] = [
        "name": .string("weekly new customers"), "cron": .string("0 7 * * mon"), "timezone": .string("Europe/Madrid"),
        "action": .string("export"), "format": .string("csv"), "filter": .object(["newsletter": .bool(true)]),
    ]

    @Test func aScheduleKeepsItsActionsArgumentsAndPlansItsFirstRun() throws {
        let schedule = try Self.parse(Self.weekly)
        #expect(schedule.action == .export)
        #expect(schedule.arguments == ["format": .string("csv"), "filter": .object(["newsletter": .bool(true)])])
        #expect(schedule.nextRun?.rfc3339(in: schedule.timeZone) == "2026-11-30T07:00:00+01:00")
        #expect(schedule.json["next_run"] == .string("2026-11-30T07:00:00+01:00"))
        #expect(schedule.json["last_run"] == .null && schedule.json["last_result"] == .null)
    }

    @Test(arguments: [
        ("name", JSONValue.null, "args.name"), ("name", .string("weekly\nreport"), "args.name"), ("name", .string("a/b"), "args.name"),
        ("cron", .string("61 * * * *"), "args.cron"), ("cron", .string("0 0 30 2 *"), "args.cron"), ("cron", .null, "args.cron"),
        ("timezone", .string("Mars/Olympus"), "args.timezone"), ("timezone", .string("CET"), "args.timezone"),
        ("timezone", .null, "args.timezone"), ("action", .string("mail"), "args.action"), ("action", .string("reports"), "args.action"),
        ("format", .string("docx"), "args.format"),
    ])
    func badArgumentsNameTheirField(_ key: String, _ value: JSONValue, _ field: String) {
        var args = Self.weekly
        args[key] = value == .null ? nil : value
        do {
            _ = try Self.parse(args)
            Issue.record("\(key)=\(value) accepted")
        } catch let error as CommandError {
            #expect(error.field == field, "\(key)=\(value): \(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    static func schedule(next: String?, cron: String = "0 7 * * *") throws -> Schedule {
        Schedule(name: "daily", cron: try CronExpression(cron), timeZone: TimeZone(identifier: "Europe/Madrid")!, action: .export,
                 arguments: [:], nextRun: next.map { Timestamp(rfc3339: $0)! })
    }

    @Test(arguments: [
        // planned, now, catch up, plan
        ("2026-11-24T07:00:00+01:00", "2026-11-24T05:59:00Z", true, "notDue"),
        ("2026-11-24T07:00:00+01:00", "2026-11-24T06:00:00Z", true, "run next 2026-11-25T07:00:00+01:00"),
        ("2026-11-24T07:00:00+01:00", "2026-11-24T06:04:00Z", false, "run next 2026-11-25T07:00:00+01:00"),
        // Down for a week: one run at start-up, then the next planned time after now.
        ("2026-11-17T07:00:00+01:00", "2026-11-24T09:30:00Z", true, "run next 2026-11-25T07:00:00+01:00"),
        ("2026-11-17T07:00:00+01:00", "2026-11-24T09:30:00Z", false, "skip next 2026-11-25T07:00:00+01:00"),
        ("2026-11-24T07:00:00+01:00", "2026-11-24T06:06:00Z", false, "skip next 2026-11-25T07:00:00+01:00"),
    ])
    func plansDueAndMissedRuns(_ planned: String, _ now: String, _ catchUp: Bool, _ expected: String) throws {
        let schedule = try Self.schedule(next: planned)
        let zone = schedule.timeZone
        let plan: String = switch SchedulePlan.plan(schedule, now: Timestamp(rfc3339: now)!, catchUpMissed: catchUp) {
        case .notDue: "notDue"
        case .run(let next): "run next \(next?.rfc3339(in: zone) ?? "none")"
        case .skipMissed(let next): "skip next \(next?.rfc3339(in: zone) ?? "none")"
        }
        #expect(plan == expected)
    }

    @Test func aScheduleWithNoPlannedRunIsNeverDue() throws {
        #expect(SchedulePlan.plan(try Self.schedule(next: nil), now: Self.now, catchUpMissed: true) == .notDue)
    }
}
