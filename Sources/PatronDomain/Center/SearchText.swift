import Foundation

/// Text as search compares it (EVENTS.md, "Search filters"): ignoring case and accents, so
/// `garcia`, `GARCÍA` and `García` are one; whitespace runs become one space.
public enum SearchText {
    public static func fold(_ text: String) -> String {
        var text = text
        if let folded = text.withUTF8(foldedLatin) { return String(decoding: folded, as: UTF8.self) }
        return foundationFold(text)
    }

    /// ``fold(_:)`` of UTF-8 bytes, to bytes: what SQLite's `patron_fold` is handed and hands
    /// back, so that triggers fold without making a Swift String of each value and its result.
    public static func fold(utf8 bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        foldedLatin(bytes) ?? Array(foundationFold(String(decoding: bytes, as: UTF8.self)).utf8)
    }

    /// The fold of text in ASCII and the Latin letters of European names, byte by byte; nil at
    /// anything else (Greek, Cyrillic, CJK, combining marks, other spaces …), which Foundation
    /// folds. Triggers fold every changed customer row during ingest, where Foundation's folding
    /// of each value cost a third of the apply time (measured).
    private static func foldedLatin(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var folded: [UInt8] = []
        folded.reserveCapacity(bytes.count)
        var pendingSpace = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x20 || (0x09...0x0D).contains(byte) {
                pendingSpace = !folded.isEmpty
                index += 1
                continue
            }
            if pendingSpace { folded.append(0x20) }
            pendingSpace = false
            if byte < 0x80 {
                folded.append((0x41...0x5A).contains(byte) ? byte + 0x20 : byte)
                index += 1
                continue
            }
            // U+00C0 … U+024F are the two-byte sequences C3 80 … C9 8F.
            guard (0xC3...0xC9).contains(byte), index + 1 < bytes.count, bytes[index + 1] & 0xC0 == 0x80 else { return nil }
            let scalar = Int(byte & 0x1F) << 6 | Int(bytes[index + 1] & 0x3F)
            guard scalar - latinStart < latin.count, let mapped = latin[scalar - latinStart] else { return nil }
            folded.append(contentsOf: mapped)
            index += 2
        }
        return folded
    }

    private static func foundationFold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Latin-1 Supplement and Latin Extended-A and -B letters, folded by Foundation, as UTF-8;
    /// by scalar value from ``latinStart``, nil where the scalar is no letter.
    private static let latin: [[UInt8]?] = (UInt32(latinStart)...0x24F).map { value in
        guard let scalar = Unicode.Scalar(value), scalar.properties.isAlphabetic else { return nil }
        return Array(foundationFold(String(scalar)).utf8)
    }

    private static let latinStart = 0xC0
}
