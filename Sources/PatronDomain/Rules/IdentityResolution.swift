/// Decides which customer an event's identifiers mean, and which records it bridges into one.
/// Pure: storage supplies the candidates, the caller carries the plan out.
///
/// The rules (EVENTS.md and the README's "Identity"):
/// - A `customer_no` the store knows decides the target. An unknown one is taken by the oldest
///   matched record that has only a Patron-assigned `P-` number, or starts a new record.
/// - Otherwise the oldest matched record (by first contact, then creation) is the target.
/// - Other matches join the target's record (merged into the oldest of the group) unless that
///   would put two different real customer numbers together, or the pair was unmerged before:
///   those stay apart and the conflict is reported.
/// - A group larger than `maximumMergeRecords` is not merged at all: the event applies to the
///   target and the conflict is reported. One placeholder value can never join many profiles.
public enum IdentityResolution {
    public struct Candidate: Sendable, Equatable {
        public var id: CustomerID
        public var customerNo: String
        public var numberAssigned: Bool
        public var firstContactAt: Timestamp

        public init(id: CustomerID, customerNo: String, numberAssigned: Bool, firstContactAt: Timestamp) {
            self.id = id
            self.customerNo = customerNo
            self.numberAssigned = numberAssigned
            self.firstContactAt = firstContactAt
        }

        public init(_ record: CustomerRecord) {
            self.init(id: record.id, customerNo: record.customerNo, numberAssigned: record.numberAssigned,
                      firstContactAt: record.firstContactAt)
        }
    }

    public struct Issue: Sendable, Equatable {
        public var kind: RecordIssue.Kind
        public var customers: [CustomerID]

        public init(kind: RecordIssue.Kind, customers: [CustomerID]) {
            self.kind = kind
            self.customers = customers
        }
    }

    public struct Plan: Sendable, Equatable {
        public enum Target: Sendable, Equatable {
            case existing(CustomerID)
            /// A new record, numbered from the event (or `P-…` when nil).
            case create(number: String?)
        }

        public var target: Target
        /// Records to merge into the target, which is the group's oldest.
        public var mergeInto: [CustomerID] = []
        public var issues: [Issue] = []

        public init(target: Target, mergeInto: [CustomerID] = [], issues: [Issue] = []) {
            self.target = target
            self.mergeInto = mergeInto
            self.issues = issues
        }
    }

    /// - Parameters:
    ///   - candidates: live records matched by the event's matchable identifiers or its number.
    ///   - eventNumber: the event's `customer_no`, if any.
    ///   - numbered: the candidate that answers to `eventNumber`, if one does.
    ///   - isBlocked: whether two records were unmerged before.
    public static func plan(candidates: [Candidate], eventNumber: String?, numbered: CustomerID?,
                            maximumMergeRecords: Int, isBlocked: (CustomerID, CustomerID) -> Bool) -> Plan {
        let ordered = candidates.sorted { ($0.firstContactAt, $0.id) < ($1.firstContactAt, $1.id) }
        let anchor: Candidate
        if let numbered, let named = ordered.first(where: { $0.id == numbered }) {
            anchor = named
        } else if eventNumber != nil {
            guard let unnumbered = ordered.first(where: \.numberAssigned) else {
                // The event names a number nobody has, and every match has another real number.
                var plan = Plan(target: .create(number: eventNumber))
                if !ordered.isEmpty { plan.issues.append(Issue(kind: .customerNumberConflict, customers: ordered.map(\.id))) }
                return plan
            }
            anchor = unnumbered
        } else if let oldest = ordered.first {
            anchor = oldest
        } else {
            return Plan(target: .create(number: nil))
        }

        var plan = Plan(target: .existing(anchor.id))
        var group = [anchor]
        var realNumber: String? = anchor.numberAssigned ? eventNumber : anchor.customerNo
        for candidate in ordered where candidate.id != anchor.id {
            if !candidate.numberAssigned, let realNumber, realNumber != candidate.customerNo {
                plan.issues.append(Issue(kind: .customerNumberConflict, customers: [anchor.id, candidate.id]))
                continue
            }
            if let blocked = group.first(where: { isBlocked($0.id, candidate.id) }) {
                plan.issues.append(Issue(kind: .mergeBlocked, customers: [blocked.id, candidate.id]))
                continue
            }
            if !candidate.numberAssigned { realNumber = candidate.customerNo }
            group.append(candidate)
        }
        guard group.count > 1 else { return plan }
        guard group.count <= maximumMergeRecords else {
            plan.issues.append(Issue(kind: .mergeLimit, customers: group.map(\.id)))
            return plan
        }
        let survivor = group.min { ($0.firstContactAt, $0.id) < ($1.firstContactAt, $1.id) }!
        plan.target = .existing(survivor.id)
        plan.mergeInto = group.filter { $0.id != survivor.id }.map(\.id)
        return plan
    }
}

/// The text an identity's keyed hash is computed from: `email:ana@example.com`,
/// `phone:+34600111222`, `customer_no:C-20931`.
public enum IdentityKey {
    public static func of(kind: String, key: String) -> String { "\(kind):\(key)" }
}
