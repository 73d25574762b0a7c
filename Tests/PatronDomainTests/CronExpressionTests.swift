import Foundation
import PatronDomain
import Testing

/// Cron reading and next runs, as tables; daylight-saving changes in Europe/Madrid (last Sundays of
/// March and October 2026) and zones east and west of UTC.
struct CronExpressionTests {
    static let madrid = TimeZone(identifier: "Europe/Madrid")!
    static let utc = TimeZone(identifier: "UTC")!

    static func time(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }

    static func next(_ expression: String, after: String, in zone: TimeZone = madrid) throws -> String? {
        try CronExpression(expression).nextRun(after: time(after), in: zone)?.rfc3339(in: zone)
    }

    /// Every run in [from, to), in the zone's local time.
    static func runs(_ expression: String, from: String, to: String, in zone: TimeZone = madrid) throws -> [String] {
        let cron = try CronExpression(expression)
        var runs: [String] = []
        var cursor = Timestamp(microseconds: time(from).microseconds - 1)
        while let run = cron.nextRun(after: cursor, in: zone), run < time(to) {
            runs.append(run.rfc3339(in: zone))
            cursor = run
        }
        return runs
    }

    @Test(arguments: [
        ("", "needs five fields"), ("* * * *", "needs five fields"), ("* * * * * *", "needs five fields"),
        ("60 * * * *", "minute: '60'"), ("* 24 * * *", "hour: '24'"), ("* * 0 * *", "day of month: '0'"),
        ("* * 32 * *", "day of month: '32'"), ("* * * 13 *", "month: '13'"), ("* * * * 8", "day of week: '8'"),
        ("5-1 * * * *", "minute: range '5-1' runs backwards"), ("*/0 * * * *", "minute: step '0'"),
        ("*/x * * * *", "minute: step 'x'"), ("1,,2 * * * *", "minute: '' is not a value, range or step"),
        ("a * * * *", "minute: 'a'"), ("* * * foo *", "month: 'foo'"), ("@yearly", "unknown shorthand '@yearly'"),
        ("@reboot", "unknown shorthand"), ("1-2-3 * * * *", "minute: '2-3'"), ("-1 * * * *", "minute: ''"),
    ])
    func refuses(_ text: String, _ reason: String) {
        #expect(throws: CronExpression.Invalid.self) { try CronExpression(text) }
        do {
            _ = try CronExpression(text)
        } catch {
            #expect(error.message.contains(reason), "\(text): \(error.message)")
        }
    }

    @Test(arguments: [
        // expression, after (UTC), next (UTC)
        ("* * * * *", "2026-11-24T10:15:30Z", "2026-11-24T10:16:00Z"),
        ("* * * * *", "2026-11-24T10:15:00Z", "2026-11-24T10:16:00Z"),
        ("*/15 * * * *", "2026-11-24T10:15:00Z", "2026-11-24T10:30:00Z"),
        ("5 4 * * *", "2026-11-24T04:05:00Z", "2026-11-25T04:05:00Z"),
        ("0 9-17/4 * * *", "2026-11-24T13:00:00Z", "2026-11-24T17:00:00Z"),
        ("0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("@monthly", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z"),
        ("@weekly", "2026-11-24T00:00:00Z", "2026-11-29T00:00:00Z"),
        ("@daily", "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
        ("@DAILY", "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
        ("0 8 * * mon-fri", "2026-11-27T08:00:00Z", "2026-11-30T08:00:00Z"),
        ("0 8 * * 7", "2026-11-24T00:00:00Z", "2026-11-29T08:00:00Z"),
        ("0 8 * * 0", "2026-11-24T00:00:00Z", "2026-11-29T08:00:00Z"),
        ("0 0 29 feb *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"),
        // Both day fields restricted: either matches (the 13th, or a Friday).
        ("0 0 13 * fri", "2026-11-24T00:00:00Z", "2026-11-27T00:00:00Z"),
        ("0 0 13 * fri", "2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z"),
        ("0 0 13 * fri", "2027-08-06T00:00:00Z", "2027-08-13T00:00:00Z"),
        ("0 12 14 2 *", "2026-02-14T11:59:59.999999Z", "2026-02-14T12:00:00Z"),
    ])
    func nextRunInUTC(_ expression: String, _ after: String, _ expected: String) throws {
        #expect(try Self.next(expression, after: after, in: Self.utc) == expected)
    }

    @Test(arguments: ["0 0 30 2 *", "0 0 31 4,6,9,11 *"])
    func anExpressionNamingNoDayNeverRuns(_ expression: String) throws {
        #expect(try CronExpression(expression).nextRun(after: Self.time("2026-11-24T00:00:00Z"), in: Self.utc) == nil)
    }

    /// 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    @Test(arguments: [
        ("30 2 * * *", "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00"),
        ("30 2 * * *", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"),
        ("0 2 * * *", "2026-03-28T12:00:00+01:00", "2026-03-29T03:00:00+02:00"),
        ("* 2 * * *", "2026-03-29T01:59:00+01:00", "2026-03-29T03:00:00+02:00"),
        ("* 2 * * *", "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"),
        ("0 * * * *", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00"),
        ("*/30 * * * *", "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00"),
        ("30 1 * * *", "2026-03-28T12:00:00+01:00", "2026-03-29T01:30:00+01:00"),
        ("30 3 * * *", "2026-03-28T12:00:00+01:00", "2026-03-29T03:30:00+02:00"),
    ])
    func springForwardInMadrid(_ expression: String, _ after: String, _ expected: String) throws {
        #expect(try Self.next(expression, after: after) == expected)
    }

    /// 25 October 2026: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:00–02:59 happens twice.
    @Test(arguments: [
        ("30 2 * * *", "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00"),
        ("30 2 * * *", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"),
        ("30 * * * *", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"),
        ("30 * * * *", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"),
        ("0 * * * *", "2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00"),
        ("0 3 * * *", "2026-10-25T02:59:00+02:00", "2026-10-25T03:00:00+01:00"),
    ])
    func fallBackInMadrid(_ expression: String, _ after: String, _ expected: String) throws {
        #expect(try Self.next(expression, after: after) == expected)
    }

    @Test func aDailyRunHappensOnceEveryLocalDayAcrossBothChanges() throws {
        for (from, to) in [("2026-03-25T00:00:00+01:00", "2026-04-02T00:00:00+02:00"), ("2026-10-21T00:00:00+02:00", "2026-10-29T00:00:00+01:00")] {
            for expression in ["30 2 * * *", "0 0 * * *", "59 1 * * *", "0 3 * * *"] {
                let days = try Self.runs(expression, from: from, to: to).map { String($0.prefix(10)) }
                #expect(days.count == 8, "\(expression) \(from): \(days)")
                #expect(Set(days).count == days.count, "\(expression) \(from): a day ran twice")
            }
        }
    }

    @Test func anHourlyRunFollowsElapsedTime() throws {
        let march = try Self.runs("0 * * * *", from: "2026-03-29T00:00:00+01:00", to: "2026-03-30T00:00:00+02:00")
        #expect(march.count == 23)
        #expect(march.prefix(3) == ["2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00"])
        let october = try Self.runs("0 * * * *", from: "2026-10-25T00:00:00+02:00", to: "2026-10-26T00:00:00+01:00")
        #expect(october.count == 25)
        #expect(october.prefix(5) == ["2026-10-25T00:00:00+02:00", "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00",
                                      "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"])
    }

    @Test(arguments: [
        ("Asia/Tokyo", "@daily", "2026-11-24T12:00:00Z", "2026-11-25T00:00:00+09:00"),
        ("America/New_York", "0 9 * * *", "2026-11-24T12:00:00Z", "2026-11-24T09:00:00-05:00"),
        ("America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z", "2026-03-08T03:00:00-04:00"),
        ("Asia/Kolkata", "0 6 * * *", "2026-11-24T00:00:00Z", "2026-11-24T06:00:00+05:30"),
        ("Australia/Sydney", "30 2 * * *", "2026-10-03T12:00:00Z", "2026-10-04T03:00:00+11:00"),
    ])
    func otherZones(_ zone: String, _ expression: String, _ after: String, _ expected: String) throws {
        #expect(try Self.next(expression, after: after, in: TimeZone(identifier: zone)!) == expected)
    }

    @Test(arguments: [
        ("2026-07-01T10:00:00Z", "Europe/Madrid", "2026-07-01T12:00:00+02:00"),
        ("2026-12-01T10:00:00Z", "Europe/Madrid", "2026-12-01T11:00:00+01:00"),
        ("2026-12-01T10:00:00.25Z", "UTC", "2026-12-01T10:00:00.250000Z"),
        ("2026-12-01T10:00:00Z", "America/St_Johns", "2026-12-01T06:30:00-03:30"),
        ("2026-12-31T23:30:00Z", "Asia/Kolkata", "2027-01-01T05:00:00+05:30"),
    ])
    func formatsInAZone(_ instant: String, _ zone: String, _ expected: String) {
        #expect(Self.time(instant).rfc3339(in: TimeZone(identifier: zone)!) == expected)
        #expect(Timestamp(rfc3339: expected) == Self.time(instant))
    }
}
