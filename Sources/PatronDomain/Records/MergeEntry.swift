/// A merge as journaled: enough to split the two records back (`customers.unmerge`).
public struct MergeEntry: Sendable, Equatable, Codable {
    public var survivor: CustomerID
    public var loser: CustomerID
    public var automatic: Bool
    /// The event that bridged the two records (automatic merges).
    public var eventID: String?
    public var mergedAt: Int64
    public var survivorBefore: CustomerSnapshot
    public var loserBefore: CustomerSnapshot
    public var loserBrought: Contribution

    public init(survivor: CustomerID, loser: CustomerID, automatic: Bool, eventID: String?, mergedAt: Int64,
                survivorBefore: CustomerSnapshot, loserBefore: CustomerSnapshot, loserBrought: Contribution) {
        self.survivor = survivor
        self.loser = loser
        self.automatic = automatic
        self.eventID = eventID
        self.mergedAt = mergedAt
        self.survivorBefore = survivorBefore
        self.loserBefore = loserBefore
        self.loserBrought = loserBrought
    }
}

/// A customer's profile at one moment, in a form the merge journal can store.
public struct CustomerSnapshot: Sendable, Equatable, Codable {
    public var customerNo: String
    public var numberAssigned: Bool
    public var fields: [String: StampedValue]
    public var newsletter: StampedValue?
    public var group: AutomaticGroup
    public var firstContactAt: Int64
    public var tags: [String]

    public struct StampedValue: Sendable, Equatable, Codable {
        public var value: String
        public var at: Int64
    }

    public init(_ record: CustomerRecord) {
        customerNo = record.customerNo
        numberAssigned = record.numberAssigned
        fields = Dictionary(uniqueKeysWithValues: record.fields.values.map { ($0.key.rawValue, StampedValue(value: $0.value.value, at: $0.value.at.microseconds)) })
        newsletter = record.newsletter.map { StampedValue(value: $0.value, at: $0.at.microseconds) }
        group = record.group
        firstContactAt = record.firstContactAt.microseconds
        tags = record.tags
    }

    public var stampedFields: StampedFields<ProfileField> {
        var values: [ProfileField: Stamped] = [:]
        for (name, stamped) in fields {
            if let field = ProfileField(rawValue: name) { values[field] = Stamped(stamped.value, at: Timestamp(microseconds: stamped.at)) }
        }
        return StampedFields(values)
    }

    public var newsletterStamp: Stamped? { newsletter.map { Stamped($0.value, at: Timestamp(microseconds: $0.at)) } }
}

/// What one record owned when it was merged away: returned to it on unmerge.
public struct Contribution: Sendable, Equatable, Codable {
    public struct IdentifierRef: Sendable, Hashable, Codable {
        public var kind: String
        public var key: String
        public var display: String
        public var firstSeenAt: Int64
        public var matchable: Bool

        public init(kind: String, key: String, display: String, firstSeenAt: Int64, matchable: Bool) {
            self.kind = kind
            self.key = key
            self.display = display
            self.firstSeenAt = firstSeenAt
            self.matchable = matchable
        }
    }

    public var bookings: [String] = []
    public var payments: [String] = []
    public var threads: [String] = []
    public var carts: [String] = []
    public var notes: [Int64] = []
    public var consentStatements: [Int64] = []
    public var identifiers: [IdentifierRef] = []
    /// The survivor's identifiers before the merge, so that unmerge takes back only what the
    /// loser brought.
    public var survivorIdentifiers: [IdentifierRef] = []
    /// Customer numbers (current and aliases) of the loser.
    public var numbers: [String] = []

    public init() {}
}
