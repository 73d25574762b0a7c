import Foundation
import PatronDomain
import Testing

/// Report periods on the wall clock of the schedule's zone (never UTC's), and report arguments.
struct ReportRequestTests {
    static func range(_ period: ReportPeriod, now: String, _ zone: String) -> String {
        let timeZone = TimeZone(identifier: zone)!
        let range = period.range(now: Timestamp(rfc3339: now)!, in: timeZone)
        return "\(range.lowerBound.rfc3339(in: timeZone)) ..< \(range.upperBound.rfc3339(in: timeZone))"
    }

    @Test(arguments: [
        (ReportPeriod.previousWeek, "2026-11-24T08:00:00Z", "Europe/Madrid", "2026-11-16T00:00:00+01:00 ..< 2026-11-23T00:00:00+01:00"),
        // Monday 01:00 in Tokyo is still Sunday in UTC: the week that just ended, not the one before.
        (.previousWeek, "2026-11-22T16:00:00Z", "Asia/Tokyo", "2026-11-16T00:00:00+09:00 ..< 2026-11-23T00:00:00+09:00"),
        (.previousWeek, "2026-11-22T16:00:00Z", "UTC", "2026-11-09T00:00:00Z ..< 2026-11-16T00:00:00Z"),
        // 1 November 00:30 in Madrid is 31 October in UTC: October, across its DST change.
        (.previousMonth, "2026-10-31T23:30:00Z", "Europe/Madrid", "2026-10-01T00:00:00+02:00 ..< 2026-11-01T00:00:00+01:00"),
        (.previousMonth, "2026-01-15T12:00:00Z", "Europe/Madrid", "2025-12-01T00:00:00+01:00 ..< 2026-01-01T00:00:00+01:00"),
        (.yesterday, "2026-03-30T10:00:00Z", "Europe/Madrid", "2026-03-29T00:00:00+01:00 ..< 2026-03-30T00:00:00+02:00"),
        (.lastSevenDays, "2026-11-24T08:00:00Z", "America/New_York", "2026-11-17T00:00:00-05:00 ..< 2026-11-24T00:00:00-05:00"),
        (.lastThirtyDays, "2026-11-24T08:00:00Z", "Europe/Madrid", "2026-10-25T00:00:00+02:00 ..< 2026-11-24T00:00:00+01:00"),
    ])
    func periodsAreLocalDays(_ period: ReportPeriod, _ now: String, _ zone: String, _ expected: String) {
        #expect(Self.range(period, now: now, zone) == expected)
    }

    @Test func dayBoundsForDateColumns() {
        let days = ReportPeriod.previousMonth.days(now: Timestamp(rfc3339: "2026-10-31T23:30:00Z")!, in: TimeZone(identifier: "Europe/Madrid")!)
        #expect(days == "2026-10-01"..."2026-10-31")
    }

    static func parse(_ args: [String: JSONValue], zone: TimeZone? = nil) throws -> ReportRequest {
        try ReportRequest.parse(CommandArguments(args), zone: zone, defaultLanguage: "es")
    }

    @Test func defaultsPerReport() throws {
        let followUp = try Self.parse(["report": .string("follow_up"), "format": .string("csv"), "timezone": .string("Europe/Madrid")])
        #expect(followUp.period == .previousMonth && followUp.language == .spanish)
        let top = try Self.parse(["report": .string("top_customers"), "format": .string("pdf")], zone: TimeZone(identifier: "UTC"))
        #expect(top.period == nil && top.limit == 100 && top.range(now: Timestamp(rfc3339: "2026-11-24T08:00:00Z")!) == nil)
        let carts = try Self.parse(["report": .string("abandoned_carts"), "format": .string("xlsx"), "days": .integer(3), "timezone": .string("Asia/Tokyo")])
        let range = try #require(carts.range(now: Timestamp(rfc3339: "2026-11-24T08:00:00Z")!))
        #expect(range.lowerBound.rfc3339(in: carts.timeZone) == "2026-11-22T00:00:00+09:00")
        #expect(followUp.columns(currency: "EUR").map(\.name) == ["customer_no", "first_name", "last_name", "email", "phone", "language",
                                                                   "newsletter", "hotel", "departure"])
    }

    @Test(arguments: [
        (["format": JSONValue.string("csv"), "timezone": .string("UTC")], "args.report"),
        (["report": .string("everyone"), "format": .string("csv"), "timezone": .string("UTC")], "args.report"),
        (["report": .string("no_shows"), "format": .string("txt"), "timezone": .string("UTC")], "args.format"),
        (["report": .string("no_shows"), "format": .string("csv")], "args.timezone"),
        (["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("Europe/Nowhere")], "args.timezone"),
        (["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("UTC"), "period": .string("fortnight")], "args.period"),
        (["report": .string("top_customers"), "format": .string("csv"), "timezone": .string("UTC"), "period": .string("yesterday")], "args.period"),
        (["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("UTC"), "days": .integer(3)], "args.days"),
        (["report": .string("abandoned_carts"), "format": .string("csv"), "timezone": .string("UTC"), "days": .integer(0)], "args.days"),
        (["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("UTC"), "limit": .integer(3)], "args.limit"),
        (["report": .string("top_customers"), "format": .string("csv"), "timezone": .string("UTC"), "limit": .integer(0)], "args.limit"),
        (["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("UTC"), "language": .string("de")], "args.language"),
        (["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("UTC"), "filter": .object([:])], "args.filter"),
    ])
    func badArgumentsNameTheirField(_ args: [String: JSONValue], _ field: String) {
        do {
            _ = try Self.parse(args)
            Issue.record("\(args) accepted")
        } catch let error as CommandError {
            #expect(error.field == field, "\(args): \(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aScheduledReportTakesTheSchedulesZoneAndRefusesItsOwn() {
        #expect(throws: CommandError.self) {
            try Self.parse(["report": .string("no_shows"), "format": .string("csv"), "timezone": .string("UTC")], zone: TimeZone(identifier: "Europe/Madrid"))
        }
    }
}
