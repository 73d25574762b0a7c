import Foundation

/// An amount in integer minor units of an ISO 4217 currency: never binary floating point.
public struct Money: Sendable, Hashable {
    public var minorUnits: Int64
    public var currency: String

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// The decimal string with the currency's minor-unit digits (`"412.50"` EUR, `"1200"` JPY).
    public var decimalString: String { Money.format(minorUnits, currency: currency) }

    public static func format(_ minorUnits: Int64, currency: String) -> String {
        let exponent = Currency.exponent(of: currency)
        guard exponent > 0 else { return String(minorUnits) }
        let magnitude = minorUnits.magnitude
        let scale = UInt64(Currency.powerOfTen(exponent))
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: exponent - fraction.count) + fraction
        return (minorUnits < 0 ? "-" : "") + "\(magnitude / scale).\(padded)"
    }

    public enum ParseError: Error, Equatable {
        case notADecimal
        case tooManyDigits(allowed: Int)
        case negative
        case tooLarge
    }

    /// Parses a decimal string (`"412.50"`, `"412.5"`, `"412"`) or a JSON number literal in the
    /// currency's minor units. More fraction digits than the currency has are refused unless they
    /// are zeros: money is never rounded silently.
    public static func parse(_ text: String, currency: String) throws(ParseError) -> Money {
        let exponent = Currency.exponent(of: currency)
        var integerDigits = Substring(text)
        var fractionDigits = Substring("")
        if text.contains(where: { $0 == "e" || $0 == "E" }) {
            // A JSON number with an exponent: let Decimal scale it, then require an exact result.
            guard let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), !decimal.isNaN else { throw .notADecimal }
            return try fromDecimal(decimal, currency: currency, exponent: exponent)
        }
        if let dot = text.firstIndex(of: ".") {
            integerDigits = text[..<dot]
            fractionDigits = text[text.index(after: dot)...]
            guard !fractionDigits.isEmpty else { throw .notADecimal }
        }
        if integerDigits.first == "-" {
            let rest = integerDigits.dropFirst()
            if rest.allSatisfy({ $0 == "0" }) && fractionDigits.allSatisfy({ $0 == "0" }) && !rest.isEmpty {
                integerDigits = rest
            } else {
                throw .negative
            }
        }
        guard !integerDigits.isEmpty, integerDigits.allSatisfy(\.isASCIIDigit), fractionDigits.allSatisfy(\.isASCIIDigit) else {
            throw .notADecimal
        }
        let significant = fractionDigits.count > exponent ? fractionDigits.prefix(exponent) : fractionDigits
        guard fractionDigits.dropFirst(significant.count).allSatisfy({ $0 == "0" }) else {
            throw .tooManyDigits(allowed: exponent)
        }
        let padded = String(significant) + String(repeating: "0", count: exponent - significant.count)
        guard integerDigits.count + exponent <= 18, let value = Int64(String(integerDigits) + padded) else { throw .tooLarge }
        return Money(minorUnits: value, currency: currency)
    }

    private static func fromDecimal(_ decimal: Decimal, currency: String, exponent: Int) throws(ParseError) -> Money {
        guard decimal >= 0 else { throw .negative }
        var scaled = decimal * Decimal(Currency.powerOfTen(exponent))
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        guard rounded == scaled else { throw .tooManyDigits(allowed: exponent) }
        guard rounded < Decimal(Int64(999_999_999_999_999_999)) else { throw .tooLarge }
        return Money(minorUnits: NSDecimalNumber(decimal: rounded).int64Value, currency: currency)
    }
}

/// ISO 4217 codes and their minor-unit exponents.
public enum Currency {
    /// Codes whose minor unit is not 1/100 (ISO 4217 list, active codes).
    private static let exponents: [String: Int] = [
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
        "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        "CLF": 4, "UYW": 4,
    ]

    /// The codes ICU knows (Foundation's list), plus those with a special exponent.
    private static let known: Set<String> = Set(Locale.commonISOCurrencyCodes).union(exponents.keys)

    public static func exponent(of code: String) -> Int { exponents[code] ?? 2 }

    public static func isKnown(_ code: String) -> Bool { known.contains(code) }

    static func powerOfTen(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}

extension Character {
    var isASCIIDigit: Bool { asciiValue.map { (48...57).contains($0) } ?? false }
}
