import CPhoneNumbers
import PatronDomain
import Synchronization

/// ``PhoneNormalizer`` on libphonenumber. A parse costs about 15 µs, more than everything else
/// an event costs, so two shortcuts: input already written in E.164 form (`+`, a country code
/// not starting with 0, 8–15 digits in all, nothing else) is taken as it is, and other results
/// are cached (bounded; cleared when full) for every decoding task to share.
public final class LibPhoneNumberNormalizer: PhoneNormalizer, Sendable {
    private struct Key: Hashable {
        let text: String
        let region: String
    }

    private let cache = Mutex<[Key: String?]>([:])
    private let capacity: Int

    public init(cacheCapacity: Int = 100_000) {
        capacity = cacheCapacity
    }

    public func e164(_ text: String, defaultRegion: String) -> String? {
        if Self.isE164(text) { return text }
        let key = Key(text: text, region: defaultRegion)
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let result = parse(text, region: defaultRegion)
        cache.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = result
        }
        return result
    }

    static func isE164(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.count >= 9, bytes.count <= 16, bytes.first == UInt8(ascii: "+") else { return false }
        let digits = bytes.dropFirst()
        return digits.first != UInt8(ascii: "0") && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The number in the international format people read (`+34 600 11 12 22`), or nil when
    /// it is not a valid number. Not cached: exports call it once per cell.
    public func international(_ text: String, defaultRegion: String) -> String? {
        Self.format(text, region: defaultRegion, with: patron_phone_to_international)
    }

    private func parse(_ text: String, region: String) -> String? {
        Self.format(text, region: region, with: patron_phone_to_e164)
    }

    private static func format(_ text: String, region: String,
                               with function: (UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int32) -> String? {
        var output = [CChar](repeating: 0, count: 48)
        var input = text
        let length = input.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                function(characters.baseAddress, characters.count, region, &output, output.count)
            }
        }
        guard length > 0 else { return nil }
        return String(decoding: output.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
