import Foundation
import PatronDomain
import Testing

struct JSONParserTests {
    @Test(arguments: [
        ("null", JSONValue.null), ("true", .bool(true)), (" false ", .bool(false)),
        ("0", .integer(0)), ("-0", .integer(0)), ("42", .integer(42)), ("-9223372036854775808", .integer(.min)),
        ("9223372036854775808", .number("9223372036854775808")), ("412.50", .number("412.50")),
        ("1e3", .number("1e3")), ("-0.5E-2", .number("-0.5E-2")),
        (#""""#, .string("")), (#""García 李 Øyvind""#, .string("García 李 Øyvind")),
        (#""a\"b\\c\/d\b\f\n\r\t""#, .string("a\"b\\c/d\u{8}\u{c}\n\r\t")),
        (#""\u00e9\u20AC\ud83d\ude00""#, .string("é€😀")),
        (#""Robert'); DROP TABLE customers;--""#, .string("Robert'); DROP TABLE customers;--")),
        ("[]", .array([])), ("[1, [2, []], {}]", .array([.integer(1), .array([.integer(2), .array([])]), .object([:])])),
        (#"{"a": {"b": [true, null]}, "c": "d"}"#, .object(["a": .object(["b": .array([.bool(true), .null])]), "c": .string("d")])),
    ])
    func parses(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONValue(parsing: Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("nul", "unexpected end of input"), ("nulL", "invalid literal"),
        ("01", "leading zero"), ("1.", "invalid number"), (".5", "unexpected character"), ("+1", "unexpected character"),
        ("1e", "invalid number"), ("-", "invalid number"), ("NaN", "unexpected character"),
        (#""abc"#, "unterminated string"), ("\"a\u{1}b\"", "control character"), (#""\x""#, "invalid escape"),
        (#""\u12G4""#, "invalid \\u escape"), (#""\ud800""#, "unpaired surrogate"), (#""\udc00x""#, "unpaired surrogate"),
        ("[1,]", "unexpected character"), ("[1 2]", "expected ',' or ']'"), (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":1,}"#, "expected a key string"), ("{a:1}", "expected a key string"), (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
        (#"{"a":1,"a":2}"#, "duplicate key 'a'"), ("[1] [2]", "unexpected data after"), ("{} x", "unexpected data after"),
        ("'single'", "unexpected character"), ("// comment\n1", "unexpected character"),
    ])
    func refuses(_ text: String, _ reason: String) {
        do {
            let value = try JSONValue(parsing: Array(text.utf8))
            Issue.record("accepted \(text) as \(value)")
        } catch {
            #expect(error.reason.contains(reason), "\(text): \(error)")
        }
    }

    @Test func refusesInvalidUTF8InStringsAndOutsideThem() {
        let inString: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        let outside: [UInt8] = [0x5B, 0xFF, 0x5D]
        let overlong: [UInt8] = [0x22, 0xC0, 0xAF, 0x22]
        for bytes in [inString, outside, overlong] {
            #expect(throws: JSONParser.SyntaxError.self) { try JSONValue(parsing: bytes) }
        }
    }

    @Test func limitsNestingDepth() throws {
        let deepest = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: Array(deepest.utf8)) }
        let tooDeep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONValue(parsing: Array(tooDeep.utf8)) }
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONValue(parsing: Array(hostile.utf8)) }
    }

    @Test func reportsTheOffsetOfTheProblem() {
        do {
            _ = try JSONValue(parsing: Array(#"{"id": tru}"#.utf8))
        } catch {
            #expect(error.offset == 7)
        }
    }

    /// Differential check: on inputs without duplicate keys, this parser and Foundation agree on
    /// what is JSON. (Foundation also accepts a trailing comma in an array, `[1,]`, which RFC 8259
    /// does not; that case is in `refuses` instead.)
    @Test(arguments: [
        "{}", "[]", "1", "-1.5e10", #""x""#, "[1,2,3]", #"{"a":[{"b":null}]}"#, "  true  ", #""\u0041""#,
        "{,}", "[01]", "1.e5", "--1", #"{"a"}"#, "[\"\\q\"]", "tru", "[\"a\"", "{\"a\":1}}", "[1e+]",
    ])
    func agreesWithFoundationOnValidity(_ text: String) {
        let foundation = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
        let ours = (try? JSONValue(parsing: Array(text.utf8))) != nil
        #expect(ours == foundation, "\(text): ours \(ours), Foundation \(foundation)")
    }
}

struct JSONObjectTests {
    @Test func keepsTheWrittenOrderAndComparesAsASet() throws {
        let parsed = try JSONValue(parsing: Array(#"{"b":1,"a":2}"#.utf8))
        guard case .object(let object) = parsed else { Issue.record("not an object"); return }
        #expect(object.keys == ["b", "a"])
        #expect(parsed == .object(["a": .integer(2), "b": .integer(1)]))
        #expect(parsed != .object(["a": .integer(2), "b": .integer(2)]))
        #expect(parsed != .object(["a": .integer(2)]))
    }

    @Test func refusesDuplicatesInLargeObjectsToo() {
        let keys = (0..<40).map { #""k\#($0)":\#($0)"# }
        let unique = "{" + keys.joined(separator: ",") + "}"
        let duplicated = "{" + (keys + [#""k7":0"#]).joined(separator: ",") + "}"
        #expect(throws: Never.self) { try JSONValue(parsing: Array(unique.utf8)) }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONValue(parsing: Array(duplicated.utf8)) }
    }
}

/// The canonical writer against the parser and against Foundation's sorted-keys encoder.
struct CanonicalJSONTests {
    static let values: [JSONValue] = [
        .object(["b": .string("x\"y\\z\n\t\u{01}é😀/"), "a": .array([.integer(-5), .number("412.50"), .bool(true), .null]),
                 "c": .object(["z": .bool(false), "ä": .string("")])]),
        .string(""), .array([]), .object([:]),
    ]

    @Test(arguments: values.indices)
    func writesWhatTheParserReadsBack(_ index: Int) throws {
        let value = Self.values[index]
        #expect(try JSONValue(parsing: value.canonicalBytes) == value)
    }

    @Test func sortsKeysAndEscapesLikeFoundation() throws {
        let value: JSONValue = .object(["b": .string("q\"\\\n/é"), "a": .integer(1), "ab": .bool(false)])
        #expect(String(decoding: value.canonicalBytes, as: UTF8.self) == #"{"a":1,"ab":false,"b":"q\"\\\n/é"}"#)
        #expect(value.canonicalBytes == Array(try JSONOutput.encode(value)))
    }
}
