import Foundation

/// Titles: common variants map to the configured spelling; anything else is kept as given.
public enum TitleNormalization {
    /// Variant (lowercased, without a trailing dot) → the English title it means.
    private static let variants: [String: String] = [
        "mr": "Mr.", "mister": "Mr.", "sr": "Mr.", "señor": "Mr.", "senor": "Mr.", "herr": "Mr.", "m": "Mr.",
        "mrs": "Mrs.", "sra": "Mrs.", "señora": "Mrs.", "senora": "Mrs.", "frau": "Mrs.", "mme": "Mrs.",
        "ms": "Ms.", "miss": "Ms.", "srta": "Ms.", "señorita": "Ms.", "senorita": "Ms.", "mlle": "Ms.",
        "dr": "Dr.", "dra": "Dr.", "doctor": "Dr.", "doctora": "Dr.",
    ]

    public static func normalize(_ title: String, configured: [String]) -> String {
        if configured.contains(title) { return title }
        let key = folded(title)
        if let exact = configured.first(where: { folded($0) == key }) { return exact }
        if let english = variants[key], let target = configured.first(where: { folded($0) == folded(english) }) {
            return target
        }
        return title
    }

    private static func folded(_ text: String) -> String {
        var lowered = text.lowercased()
        while lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered.trimmingCharacters(in: .whitespaces)
    }
}

/// Countries: ISO 3166-1 alpha-2, or a name in English, Spanish, French, German, Italian or
/// Portuguese that maps to one (ICU's region names), compared ignoring case and accents.
public enum CountryNormalization {
    private static let codes: Set<String> = Set(Locale.Region.isoRegions.map(\.identifier).filter { $0.count == 2 && $0.allSatisfy(\.isLetter) })

    private static let names: [String: String] = {
        var names: [String: String] = [:]
        for language in ["en", "es", "fr", "de", "it", "pt", "ca", "eu"] {
            let locale = Locale(identifier: language)
            for code in codes {
                if let name = locale.localizedString(forRegionCode: code) { names[fold(name)] = code }
            }
        }
        for (alias, code) in ["uk": "GB", "usa": "US", "u.s.a.": "US", "united states of america": "US",
                              "great britain": "GB", "england": "GB", "holland": "NL"] {
            names[alias] = code
        }
        return names
    }()

    public static func normalize(_ text: String) -> String? {
        let upper = text.uppercased()
        if upper.count == 2, codes.contains(upper) { return upper }
        return names[fold(text)]
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .trimmingCharacters(in: .whitespaces)
    }
}

/// Languages: a BCP 47 tag (`es`, `en-GB`), primary subtag lowercased.
public enum LanguageNormalization {
    public static func normalize(_ text: String) -> String? {
        if text.utf8.count == 2, text.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) { return text }
        let parts = text.replacingOccurrences(of: "_", with: "-").split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count), primary.allSatisfy({ $0.isASCII && $0.isLetter }),
              parts.dropFirst().allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else { return nil }
        var normalized = primary.lowercased()
        for part in parts.dropFirst() {
            normalized += "-" + (part.count == 2 ? part.uppercased() : String(part))
        }
        return normalized
    }
}

/// Calendar dates as `YYYY-MM-DD` (birthday, arrival, departure).
public enum CalendarDate {
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1800, (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// Days since 1970-01-01 of a valid date.
    public static func dayNumber(_ text: String) -> Int64? {
        guard isValid(text) else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        return Int64(Timestamp.daysSinceEpoch(year: parts[0], month: parts[1], day: parts[2]))
    }

    /// `YYYY-MM-DD` of a day number (``dayNumber(_:)``'s inverse).
    public static func text(ofDay day: Int64) -> String {
        Timestamp(microseconds: day * 86_400_000_000).description.prefix(10).description
    }
}

/// Emails: trimmed, compared lowercased; the display form is kept.
public enum EmailNormalization {
    /// The matching key, or nil when the text does not look like an address (one `@` with text
    /// on both sides, a dot in the domain, no spaces): such a value is kept but never matched.
    public static func key(_ email: String) -> String? {
        let lowered = email.lowercased()
        let parts = lowered.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              !containsWhitespace(lowered) else { return nil }
        return lowered
    }

    private static func containsWhitespace(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.contains { $0 == 0x20 || (0x09...0x0D).contains($0) } }
        return text.contains(where: \.isWhitespace)
    }
}
