import Foundation

/// One cell of an exported row, typed, so each format can hold it as what it is (XLSX: numbers
/// and dates as such; CSV: text).
public enum ExportValue: Sendable, Equatable {
    case empty
    case text(String)
    case integer(Int64)
    /// Minor units of the export's currency.
    case money(Int64)
    case dateTime(Timestamp)
    case yesNo(Bool)
    /// One of Patron's own words (a configured title, an automatic group's name), shown in the
    /// export's language; other text (a custom group's name) as written.
    case vocabulary(String)

    /// The cell as CSV text: amounts as decimals (`-12.50`), times in RFC 3339 on `zone`'s clock
    /// with its offset (EVENTS.md: times shown to people are the business's), yes/no in the
    /// export's language.
    public func csvText(language: ExportLanguage, currency: String, zone: TimeZone) -> String {
        switch self {
        case .empty: ""
        case .text(let text): text
        case .integer(let value): String(value)
        case .money(let minorUnits): Money.format(minorUnits, currency: currency)
        case .dateTime(let time): time.rfc3339(in: zone)
        case .yesNo(let value): language.yesNo(value)
        case .vocabulary(let word): language.word(word)
        }
    }
}
