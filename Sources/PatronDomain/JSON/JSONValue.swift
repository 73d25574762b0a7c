#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How Patron writes JSON everywhere (replies, announcements, stored cart items): keys sorted, so
/// the same value always gives the same bytes, and `/` unescaped.
public enum JSONOutput {
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// A JSON value: event payloads, command arguments and results.
///
/// Numbers are never binary floating point: an integer that fits `Int64` is `.integer`, any other
/// number keeps its literal text (`"412.50"`, `"1e3"`), so money is exact.
/// ``JSONValue/init(parsing:)`` reads it; `Encodable` writes it.
public enum JSONValue: Sendable, Equatable, Encodable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A JSON number that is not an `Int64`, as written (valid JSON number syntax).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let integer): try container.encode(integer)
        case .number(let literal): try container.encode(Decimal(string: literal) ?? 0)
        case .string(let text): try container.encode(text)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object.dictionary)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var intValue: Int64? {
        if case .integer(let integer) = self { return integer }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }
}
