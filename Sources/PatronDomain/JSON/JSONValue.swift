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

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }
}

extension JSONValue {
    /// Compact JSON with object keys sorted: the same value always gives the same bytes, so
    /// they can be hashed into an id (an imported row's). Written directly, since Foundation's
    /// encoder was two thirds of the time to read an imported row (perf).
    public var canonicalBytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output)
        return output
    }

    private func write(to output: inout [UInt8]) {
        switch self {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .integer(let integer): output += Array(String(integer).utf8)
        case .number(let literal): output += Array(literal.utf8)
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            for (index, member) in object.members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ text: String, to output: inout [UInt8]) {
        let backslash = UInt8(ascii: "\\"), hex = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), backslash:
                output.append(backslash)
                output.append(byte)
            case UInt8(ascii: "\n"):
                output.append(backslash)
                output.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"):
                output.append(backslash)
                output.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"):
                output.append(backslash)
                output.append(UInt8(ascii: "t"))
            case 0..<0x20:
                output.append(contentsOf: [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
