import Foundation

/// When a schedule runs (EVENTS.md, `schedules.create`): five cron fields (minute, hour, day of
/// month, month, day of week) or `@daily`, `@weekly`, `@monthly`, read in an IANA time zone.
///
/// Daylight-saving changes follow what cron users expect (Vixie cron's rule): an expression with
/// fixed hours names wall-clock times, so a time the spring change skips runs once when the
/// clocks jump, and a time the autumn change repeats runs once, at its first occurrence; an
/// expression whose hour field is a wildcard (`*`, `*/2`) is about elapsed time, so it runs at
/// every instant whose local time matches, in both copies of a repeated hour.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n`, `a/n`, and lists of those;
/// months and days of the week also by their English three-letter names, Sunday as 0 or 7. When
/// both day fields are restricted, a day matching either runs (as cron does).
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression cannot be read; the message names the field and the reason.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public let description: String
    private let minutes: UInt64
    private let hours: UInt64
    private let days: UInt64
    private let months: UInt64
    private let weekdays: UInt64
    private let daysRestricted: Bool
    private let weekdaysRestricted: Bool
    /// The hour field starts with `*`: runs follow elapsed time across daylight-saving changes.
    private let followsElapsedTime: Bool

    private static let shorthands = ["@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *"]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.shorthands[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") {
            throw Invalid(message: "unknown shorthand '\(trimmed)': use five fields, @daily, @weekly or @monthly")
        }
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(message: "needs five fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        description = trimmed
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        days = try Self.field(fields[2], name: "day of month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, firstName: 1)
        let weekdayBits = try Self.field(fields[4], name: "day of week", range: 0...7, names: Self.weekdayNames, firstName: 0)
        // Sunday is 0 or 7.
        weekdays = (weekdayBits | (weekdayBits >> 7)) & 0x7F
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        followsElapsedTime = fields[1].hasPrefix("*")
    }

    /// The first run strictly after `instant`, or nil if the expression names no time in the
    /// next eight years (`0 0 30 2 *`).
    public func nextRun(after instant: Timestamp, in zone: TimeZone) -> Timestamp? {
        let after = Self.floorSeconds(instant)
        let local = WallClock.wallTime(of: after, in: zone)
        // A repeated hour's second copy lies behind the local time of `after`: start the wall-clock
        // search a little before it and keep the earliest instant after `after`.
        var best: Int64?
        var searchEnd = Int64.max
        var wall = (local / 60 - 180) * 60
        while wall <= searchEnd, let candidate = nextWallTime(atOrAfter: wall, limit: local + 8 * 366 * 86_400) {
            for run in instants(ofWallTime: candidate, in: zone) where run > after {
                if best.map({ run < $0 }) ?? true {
                    best = run
                    // Instants and wall times differ by at most a few hours' offset change.
                    searchEnd = min(searchEnd, candidate + 6 * 3600)
                }
            }
            wall = candidate + 60
        }
        return best.map { Timestamp(microseconds: $0 * 1_000_000) }
    }

    /// The instants a matching wall-clock time (seconds on the local clock since 1970) runs at.
    private func instants(ofWallTime wall: Int64, in zone: TimeZone) -> [Int64] {
        switch WallClock.instants(of: wall, in: zone) {
        case .skipped(let jump):
            // Skipped by a change forward: elapsed-time expressions have nothing to run; fixed
            // times run when the clocks jump.
            return followsElapsedTime ? [] : [jump]
        case .once(let instant):
            return [instant]
        case .twice(let first, let second):
            return followsElapsedTime ? [first, second] : [first]
        }
    }

    /// The first wall-clock minute at or after `start` that matches, searching up to `limit`.
    private func nextWallTime(atOrAfter start: Int64, limit: Int64) -> Int64? {
        var day = Int(WallClock.floorDiv(start, 86_400))
        var fromMinute = Int((start - Int64(day) * 86_400) / 60)
        while Int64(day) * 86_400 <= limit {
            let (_, month, dayOfMonth) = Timestamp.civil(fromDays: day)
            // 1970-01-01 was a Thursday (4).
            let weekday = ((day % 7) + 11) % 7
            if Self.has(months, month), matchesDay(dayOfMonth, weekday: weekday) {
                for minuteOfDay in fromMinute..<1440 where Self.has(hours, minuteOfDay / 60) && Self.has(minutes, minuteOfDay % 60) {
                    return Int64(day) * 86_400 + Int64(minuteOfDay) * 60
                }
            }
            day += 1
            fromMinute = 0
        }
        return nil
    }

    private func matchesDay(_ dayOfMonth: Int, weekday: Int) -> Bool {
        let byDay = Self.has(days, dayOfMonth), byWeekday = Self.has(weekdays, weekday)
        if daysRestricted && weekdaysRestricted { return byDay || byWeekday }
        return byDay && byWeekday
    }

    private static func has(_ bits: UInt64, _ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0) throws(Invalid) -> UInt64 {
        func value(_ token: Substring) throws(Invalid) -> Int {
            if let index = names.firstIndex(of: token.lowercased()) { return index + firstName }
            guard let number = Int(token), range.contains(number) else {
                throw Invalid(message: "\(name): '\(token)' is not a value from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw Invalid(message: "\(name): '\(part)' is not a value, range or step") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number >= 1, number <= range.upperBound else {
                    throw Invalid(message: "\(name): step '\(pieces[1])' must be a number from 1 to \(range.upperBound)")
                }
                step = number
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try value(pieces[0][..<dash]), high = try value(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw Invalid(message: "\(name): range '\(pieces[0])' runs backwards") }
                bounds = low...high
            } else {
                let single = try value(pieces[0])
                bounds = single...(pieces.count == 2 ? range.upperBound : single)
            }
            for number in stride(from: bounds.lowerBound, through: bounds.upperBound, by: step) { bits |= 1 << UInt64(number) }
        }
        return bits
    }

    private static func floorSeconds(_ time: Timestamp) -> Int64 { WallClock.floorDiv(time.microseconds, 1_000_000) }
}
