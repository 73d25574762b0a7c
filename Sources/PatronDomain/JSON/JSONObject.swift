/// A JSON object's members in the order they were written.
///
/// An array rather than a dictionary: payload objects are small, and building a hashed dictionary
/// for every one of them was the largest cost left in ingest (hashing and resizing, ~12% of CPU
/// in `patron-bench ingest`). Lookup is a short linear scan; duplicate keys are refused when the
/// object is built, hashing only objects too large to scan.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: JSONValue
    }

    public private(set) var members: [Member]

    public init() { members = [] }

    public init(_ dictionary: [String: JSONValue]) {
        members = dictionary.map { Member(key: $0.key, value: $0.value) }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> JSONValue? {
        members.first(where: { $0.key == key })?.value
    }

    public var keys: [String] { members.map(\.key) }

    public var dictionary: [String: JSONValue] {
        Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Adds a member unless its key is already present; false means a duplicate.
    mutating func appendUnique(_ key: String, _ value: JSONValue, seen: inout Set<String>?) -> Bool {
        if members.count >= 16 {
            if seen == nil { seen = Set(members.map(\.key)) }
            guard seen!.insert(key).inserted else { return false }
        } else if members.contains(where: { $0.key == key }) {
            return false
        }
        members.append(Member(key: key, value: value))
        return true
    }

    /// Equal when they have the same members, in any order (JSON object semantics).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count && lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }
}
