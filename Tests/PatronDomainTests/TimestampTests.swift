import PatronDomain
import Testing

struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("1970-01-01T01:00:00+01:00", Int64(0)),
        ("1969-12-31T23:59:59Z", Int64(-1_000_000)),
        ("2026-11-20T10:15:00+01:00", Int64(1_795_166_100_000_000)),
        ("2026-11-20T09:15:00.5Z", Int64(1_795_166_100_500_000)),
        ("2026-11-20T09:15:00.1234569Z", Int64(1_795_166_100_123_456)),
        ("2024-02-29T00:00:00Z", Int64(1_709_164_800_000_000)),
        ("2026-03-29T01:00:00-05:30", Int64(1_774_765_800_000_000)),
        ("2016-12-31T23:59:60Z", Int64(1_483_228_799_999_999)),
    ])
    func parses(_ text: String, _ microseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == microseconds)
    }

    @Test(arguments: [
        "", "2026-11-20", "2026-11-20T10:15:00", "2026-11-20 10:15:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:60:00Z",
        "2026-11-20T10:15:00+0100", "2026-11-20T10:15:00+24:00", "2026-11-20T10:15:00.Z", "2026-11-20T10:15:00Zjunk",
        "yesterday", "２０２６-11-20T10:15:00Z",
    ])
    func refuses(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test(arguments: [
        ("2026-11-20T10:15:00+01:00", "2026-11-20T09:15:00Z"), ("1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z"),
        ("2000-02-29T23:59:59.000001Z", "2000-02-29T23:59:59.000001Z"), ("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00.500000Z"),
    ])
    func formatsAsUTC(_ text: String, _ expected: String) {
        #expect(Timestamp(rfc3339: text)?.description == expected)
    }

    @Test func ordersByInstantNotByText() {
        let earlier = Timestamp(rfc3339: "2026-11-20T10:15:00+01:00")!
        let later = Timestamp(rfc3339: "2026-11-20T09:15:01Z")!
        #expect(earlier < later)
    }
}
