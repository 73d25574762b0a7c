/// A field's value with the `occurred_at` of the event that set it.
///
/// The rule of EVENTS.md: an older event never overwrites a newer value, and on equal
/// `occurred_at` the event processed later wins. An empty field is always filled.
public struct Stamped: Sendable, Equatable, Hashable {
    public var value: String
    public var at: Timestamp

    public init(_ value: String, at: Timestamp) {
        self.value = value
        self.at = at
    }

    /// Whether `incoming` replaces `current` (nil is an empty field).
    public static func replaces(_ incoming: Stamped, _ current: Stamped?) -> Bool {
        guard let current else { return true }
        return incoming.at >= current.at
    }
}

/// A set of stamped fields keyed by a field enum: the customer profile, a booking's details.
public struct StampedFields<Field: Hashable & Sendable>: Sendable, Equatable {
    public private(set) var values: [Field: Stamped]

    public init(_ values: [Field: Stamped] = [:]) { self.values = values }

    public subscript(field: Field) -> Stamped? { values[field] }

    /// Applies `incoming` field by field; returns the fields whose stored value changed.
    @discardableResult
    public mutating func apply(_ incoming: [Field: String], at time: Timestamp) -> Set<Field> {
        var changed = Set<Field>()
        for (field, value) in incoming {
            let stamped = Stamped(value, at: time)
            if Stamped.replaces(stamped, values[field]), values[field] != stamped {
                values[field] = stamped
                changed.insert(field)
            }
        }
        return changed
    }

    /// Merges another record's fields in: each field keeps the newer of the two values (ties go
    /// to `other`, the record that joins, as the later-processed one).
    @discardableResult
    public mutating func merge(_ other: StampedFields<Field>) -> Set<Field> {
        var changed = Set<Field>()
        for (field, stamped) in other.values where Stamped.replaces(stamped, values[field]) && values[field] != stamped {
            values[field] = stamped
            changed.insert(field)
        }
        return changed
    }

    public mutating func set(_ field: Field, _ stamped: Stamped?) {
        values[field] = stamped
    }
}
