import Foundation

/// Text as search compares it (EVENTS.md, "Search filters"): ignoring case and accents, so
/// `garcia`, `GARCÍA` and `García` are one; whitespace runs become one space.
public enum SearchText {
    public static func fold(_ text: String) -> String {
        // Triggers fold every changed customer row during ingest, where Foundation's folding of
        // each value cost a third of the apply time (measured). ASCII and the Latin letters of
        // European names go through a table made once by that same folding; anything else
        // (Greek, Cyrillic, CJK …) through Foundation.
        var folded = ""
        folded.unicodeScalars.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar.value < 0x80 ? scalar == " " || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
            if isSpace {
                pendingSpace = !folded.isEmpty
                continue
            }
            if pendingSpace { folded.unicodeScalars.append(" ") }
            pendingSpace = false
            if scalar.value < 0x80 {
                folded.unicodeScalars.append((0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 0x20)! : scalar)
            } else if let mapped = latin[scalar.value] {
                folded.unicodeScalars.append(contentsOf: mapped.unicodeScalars)
            } else {
                return foundationFold(text)
            }
        }
        return folded
    }

    private static func foundationFold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Latin-1 Supplement and Latin Extended-A and -B letters, folded.
    private static let latin: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        for value in UInt32(0xC0)...0x24F {
            guard let scalar = Unicode.Scalar(value), scalar.properties.isAlphabetic else { continue }
            table[value] = foundationFold(String(scalar))
        }
        return table
    }()
}
