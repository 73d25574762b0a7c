import Foundation

/// A daily window in the hotel's time zone when marketing SMS wait (`21:00`–`09:00` crosses
/// midnight). Transactional messages never wait: a guest arriving late still gets the door code.
public struct QuietHours: Sendable, Equatable {
    /// Minutes after local midnight.
    public let start: Int
    public let end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Reads `HH:MM`; nil when it is not a time of day.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    /// Whether a local minute of the day is inside the window.
    public func isQuiet(minuteOfDay minute: Int) -> Bool {
        if start == end { return false }
        return start < end ? (start..<end).contains(minute) : minute >= start || minute < end
    }

    /// The first instant at or after `instant` outside the window: `instant` itself when it is
    /// outside, else the window's end on the local clock (the next day's, when it crosses midnight
    /// and `instant` is before midnight). A skipped local time (spring forward) moves to the jump.
    public func firstAllowed(at instant: Timestamp, in zone: TimeZone) -> Timestamp {
        let seconds = WallClock.floorDiv(instant.microseconds, 1_000_000)
        let wall = WallClock.wallTime(of: seconds, in: zone)
        let day = WallClock.floorDiv(wall, 86_400)
        let minute = Int((wall - day * 86_400) / 60)
        guard isQuiet(minuteOfDay: minute) else { return instant }
        let endDay = minute >= end ? day + 1 : day
        let allowed = WallClock.firstInstant(of: endDay * 86_400 + Int64(end) * 60, in: zone)
        return Timestamp(microseconds: max(allowed * 1_000_000, instant.microseconds))
    }
}
