import Foundation

/// Local wall-clock times (seconds on a zone's clock since 1970-01-01 00:00) and the instants
/// they name, which daylight-saving changes make zero (a skipped time) or two (a repeated one).
/// Schedules and report periods are reckoned on the wall clock of their zone.
public enum WallClock {
    public enum Instants: Sendable, Equatable {
        /// The clocks jumped over this time, at `jump` (the first instant after the gap).
        case skipped(jump: Int64)
        case once(Int64)
        /// The clocks went back: the time happened at both instants.
        case twice(Int64, Int64)
    }

    /// The zone's wall-clock time at an instant (seconds).
    public static func wallTime(of seconds: Int64, in zone: TimeZone) -> Int64 {
        seconds + Int64(zone.secondsFromGMT(for: date(seconds)))
    }

    /// The instants (seconds) at which the zone's clocks show `wall`. Assumes at most one offset
    /// change within a day either side, as every real zone has.
    public static func instants(of wall: Int64, in zone: TimeZone) -> Instants {
        let earlier = Int64(zone.secondsFromGMT(for: date(wall - 86_400)))
        let later = Int64(zone.secondsFromGMT(for: date(wall + 86_400)))
        let valid = Set([earlier, later]).map { wall - $0 }.filter { Int64(zone.secondsFromGMT(for: date($0))) == wall - $0 }.sorted()
        switch valid.count {
        case 0: return .skipped(jump: transition(between: wall - later, and: wall - earlier, in: zone))
        case 1: return .once(valid[0])
        default: return .twice(valid[0], valid[1])
        }
    }

    /// The first instant at which the zone's clocks show `wall` or, if they skip it, the jump.
    public static func firstInstant(of wall: Int64, in zone: TimeZone) -> Int64 {
        switch instants(of: wall, in: zone) {
        case .skipped(let jump): jump
        case .once(let instant): instant
        case .twice(let first, _): first
        }
    }

    /// The first instant in (before, after] whose offset is `after`'s.
    private static func transition(between before: Int64, and after: Int64, in zone: TimeZone) -> Int64 {
        let target = zone.secondsFromGMT(for: date(after))
        var low = before, high = after
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if zone.secondsFromGMT(for: date(middle)) == target { high = middle } else { low = middle }
        }
        return high
    }

    /// The zone's local day (days since 1970-01-01) at an instant.
    public static func localDay(of instant: Timestamp, in zone: TimeZone) -> Int64 {
        floorDiv(wallTime(of: floorDiv(instant.microseconds, 1_000_000), in: zone), 86_400)
    }

    public static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 { value >= 0 ? value / divisor : (value - divisor + 1) / divisor }

    private static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
}
