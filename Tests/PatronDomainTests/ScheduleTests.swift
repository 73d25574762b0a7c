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

/// `deliver_to`: staff addresses checked and named by position when wrong, each once; one email
/// job per address that names the file instead of a customer, in the file's language.
struct FileDeliveryTests {
    static let file = ExportLogEntry(id: "exp-1", requestedBy: "schedule:weekly", startedAt: Timestamp(microseconds: 0),
                                     completedAt: Timestamp(microseconds: 1), format: "xlsx", filter: JSONObject([:]), fields: [], rows: 42,
                                     file: "/var/lib/patron/exports/exp-1.xlsx", sha256: String(repeating: "ab", count: 32))

    @Test func addressesAreCheckedDeduplicatedAndSplitFromTheActionsArguments() throws {
        let (delivery, action) = try FileDelivery.split(["format": .string("csv"), "deliver_to": .array([.string("Ana@Hotel.es"), .string(" ana@hotel.es "),
                                                                                                         .string("jefe@hotel.es")])])
        #expect(delivery?.addresses == ["Ana@Hotel.es", "jefe@hotel.es"])
        #expect(action == ["format": .string("csv")])
        #expect(try FileDelivery.split(["format": .string("csv")]).delivery == nil)
        for (value, field) in [(JSONValue.array([.string("ana@hotel.es"), .string("not an address")]), "args.deliver_to[1]"),
                               (.array([]), "args.deliver_to"), (.string("ana@hotel.es"), "args.deliver_to"),
                               (.array(Array(repeating: .string("a@b.es"), count: 21)), "args.deliver_to")] {
            #expect(throws: CommandError.self) { try FileDelivery.split(["deliver_to": value]) }
            do { _ = try FileDelivery.split(["deliver_to": value]) } catch let error as CommandError { #expect(error.field == field) }
        }
    }

    @Test func eachAddressGetsAJobThatNamesTheFileAndNoCustomer() throws {
        let delivery = FileDelivery(addresses: ["ana@hotel.es", "jefe@hotel.es"])
        let jobs = delivery.jobs(schedule: "weekly", trigger: "schedule:weekly:7", file: Self.file, language: .spanish, now: Timestamp(microseconds: 9),
                                 jobID: { "\($0)/\($1)" })
        #expect(jobs.map(\.jobID) == ["schedule:weekly:7/ana@hotel.es", "schedule:weekly:7/jefe@hotel.es"])
        let json = try #require(jobs.first?.json)
        #expect(json["customer_no"] == nil)
        #expect(json["template"] == .string("scheduled_file") && json["purpose"] == .string("transactional") && json["language"] == .string("es"))
        #expect(json["attachment"] == .object(["export_id": .string("exp-1"), "file_name": .string("exp-1.xlsx"), "format": .string("xlsx"),
                                               "rows": .integer(42), "sha256": .string(Self.file.sha256)]))
        #expect(json["subject"]?.stringValue == "Patron: weekly (42 filas)")
        #expect(json["body"]?.stringValue?.contains("patronctl exports fetch exp-1") == true)
    }
}
