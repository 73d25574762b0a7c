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

    private func parse(_ text: String, region: String) -> String? {
        var output = [CChar](repeating: 0, count: 32)
        var input = text
        let length = input.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                patron_phone_to_e164(characters.baseAddress, characters.count, region, &output, output.count)
            }
        }
        guard length > 0 else { return nil }
        return String(decoding: output.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
