/// The customer profile's fields, each with its own timestamp (EVENTS.md: each address part is
/// its own field for "older never overwrites newer"). Raw values are the storage column names.
public enum ProfileField: String, Sendable, Hashable, CaseIterable {
    case title
    case firstName = "first_name"
    case lastName = "last_name"
    case company
    case email, phone, mobile, fax
    case evPhone = "ev_phone"
    case contact
    case addressLine1 = "address_line1"
    case addressLine2 = "address_line2"
    case zip, city, state, country, language, birthday
    /// "true" or "false": whether the person has a site account.
    case account

    /// The case, not its column name: these key dictionaries on every event, and a raw-value
    /// enum would otherwise hash its string.
    public func hash(into hasher: inout Hasher) { hasher.combine(withUnsafeBytes(of: self) { $0.first ?? 0 }) }
}

public enum IdentifierKind: String, Sendable, Hashable, CaseIterable {
    case email, phone
}

/// An email address or phone number as an identity key.
public struct Identifier: Sendable, Hashable {
    public let kind: IdentifierKind
    /// What matching compares: the lowercased email, or the E.164 number. For a phone that is
    /// not a valid number, the text as given (then never matchable).
    public let key: String
    /// As the publisher wrote it (trimmed), for display.
    public let display: String
    /// False for blocklisted values and invalid phone numbers: kept as data, never matched.
    public let matchable: Bool

    public init(kind: IdentifierKind, key: String, display: String, matchable: Bool) {
        self.kind = kind
        self.key = key
        self.display = display
        self.matchable = matchable
    }
}

/// The `customer` object of an event after validation and normalization.
public struct CustomerInput: Sendable, Equatable {
    public var customerNo: String?
    /// Only the fields the event states (null and empty strings are no statement).
    public var fields: [ProfileField: String] = [:]
    public var identifiers: [Identifier] = []
    /// A consent statement (true = opt-in), or nil for none.
    public var newsletter: Bool?
    public var tags: [String] = []
    /// Statements only an import makes (a customer list states groups; events never do): the
    /// automatic group the customer is at least in, a custom group by its stored name, and
    /// consent to partners' offers (QloApps's "opt-in").
    public var minimumGroup: AutomaticGroup?
    public var customGroup: String?
    public var partnerOffers: Bool?
    /// From an imported list: an old list is not the person coming back, so an erasure of
    /// their identity at any time drops the row (an event is dropped only if it is older).
    public var imported = false

    public init() {}

    /// Whether the event can name anyone: at least one identifier or a customer number.
    public var identifiesSomeone: Bool { customerNo != nil || !identifiers.isEmpty }

    public var matchableIdentifiers: [Identifier] { identifiers.filter(\.matchable) }
}
