import Foundation

/// The configurable parts of the record rules (the `records:` section of the configuration).
public struct RecordRules: Sendable, Equatable {
    /// ISO 3166-1 alpha-2 region for phone numbers written without a country code.
    public var defaultCountry = "ES"
    public var defaultCurrency = "EUR"
    public var titles = ["Mr.", "Mrs.", "Ms.", "Dr."]
    /// Tag names in their configured spelling; an event's tag that matches one ignoring case
    /// takes that spelling.
    public var tags = ["Friends & Family", "Business", "Influencer", "Local", "No-show", "Problematic", "Regular", "VIP"]
    public var maximumTags = 9
    /// Completed stays after which a customer is tagged `Regular`.
    public var regularAfterStays = 3
    /// An automatic merge that would join more records than this is not made.
    public var maximumMergeRecords = 3
    /// Lowercased emails never used to match (the business's own, placeholders).
    public var blockedEmails: Set<String> = ["test@test.com", "test@example.com", "no@email.com", "none@none.com"]
    /// Local parts of emails never used to match.
    public var blockedEmailLocalParts: Set<String> = ["noreply", "no-reply", "donotreply", "do-not-reply"]
    /// Phone numbers never used to match: E.164 forms, or text as written (`000000`, `-`).
    public var blockedPhones: Set<String> = ["000000", "-"]
    /// The business's clock, whose whole days the periods of search filters, exports' and sends'
    /// selections and `stats.get` are (EVENTS.md, "Definitions"). The configuration sets it from
    /// `dispatch.timezone`.
    public var businessZone: TimeZone = .utc

    public static let noShowTag = "No-show"
    public static let regularTag = "Regular"

    public init() {}

    public func isBlocked(email key: String) -> Bool {
        if blockedEmails.contains(key) { return true }
        guard let at = key.lastIndex(of: "@") else { return false }
        return blockedEmailLocalParts.contains(String(key[..<at]))
    }

    public func isBlocked(phone text: String, e164: String?) -> Bool {
        if blockedPhones.contains(text) { return true }
        if let e164, blockedPhones.contains(e164) { return true }
        // Placeholder digits: one repeated digit (000000, 999 999 999), or a run up or down the
        // keypad (QloApps's sample 1234567890 on every row of its customer export).
        let digits = text.unicodeScalars.filter { $0.properties.numericType == .decimal && $0.isASCII }.map { Int($0.value) - 48 }
        guard let first = digits.first else { return false }
        if digits.allSatisfy({ $0 == first }) { return true }
        guard digits.count >= 6 else { return false }
        let steps = zip(digits, digits.dropFirst()).map { ($1 - $0 + 10) % 10 }
        return steps.allSatisfy { $0 == 1 } || steps.allSatisfy { $0 == 9 }
    }

    /// The configured spelling of a tag, or the tag as given when it is not a configured one.
    public func canonicalTag(_ tag: String) -> String {
        let folded = tag.lowercased()
        return tags.first { $0.lowercased() == folded } ?? tag
    }
}
