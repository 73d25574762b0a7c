import PatronPhone
import Testing

/// libphonenumber through the C++ target, with the E.164 shortcut and the cache.
struct PhoneNormalizerTests {
    static let cases: [(input: String, region: String, expected: String?)] = [
        ("943 71 19 52", "ES", "+34943711952"),
        ("+34 600 111 222", "ES", "+34600111222"),
        ("0034 600 111 222", "ES", "+34600111222"),
        ("600-111-222", "ES", "+34600111222"),
        ("+34600111222", "ES", "+34600111222"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("12", "ES", nil),
        ("not a phone", "ES", nil),
        ("", "ES", nil),
        ("+34 000", "ES", nil),
    ]

    @Test(arguments: cases.indices)
    func normalizes(index: Int) {
        let testCase = Self.cases[index]
        let normalizer = LibPhoneNumberNormalizer()
        #expect(normalizer.e164(testCase.input, defaultRegion: testCase.region) == testCase.expected)
        // The second answer comes from the cache and must be the same.
        #expect(normalizer.e164(testCase.input, defaultRegion: testCase.region) == testCase.expected)
    }

    @Test func cacheIsBoundedAndStillCorrectAfterClearing() {
        let normalizer = LibPhoneNumberNormalizer(cacheCapacity: 2)
        for number in ["600 111 222", "600 111 223", "600 111 224", "600 111 222"] {
            #expect(normalizer.e164(number, defaultRegion: "ES") == "+34" + number.filter(\.isNumber))
        }
    }
}
