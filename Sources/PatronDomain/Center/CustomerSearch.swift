import Foundation

/// A `customers.search` request, checked and normalized (EVENTS.md, "Search filters"): every
/// filter of the contract, combined with AND; text folded as stored; phones in E.164; dates as
/// inclusive ranges; money in minor units of the filter's currency.
public struct CustomerSearch: Sendable, Equatable {
    public enum Sort: String, Sendable, CaseIterable {
        case name
        case lastOrder = "last_order"
        case totalSpent = "total_spent"
        case firstContact = "first_contact"
    }

    /// Fields whose words are looked for anywhere in the value.
    public enum WordField: String, Sendable, CaseIterable {
        case name, firstName = "first_name", lastName = "last_name", company, contact, address
    }

    public enum Condition: Sendable, Equatable {
        case customerNo(String)
        /// Every word occurs in the field; a word shorter than 3 characters at the start of a word.
        case words(WordField, [String])
        case city(String)
        case zip(String)
        case tag(String)
        case group(String)
        case email(String)
        case phone(String)
        case country(String)
        case language(String)
        /// True: the latest consent statement is an opt-in; false: it is not (or there is none).
        case newsletter(Bool)
        case firstContact(ClosedRange<Timestamp>)
        case lastOrder(ClosedRange<Timestamp>)
        case orders(ClosedRange<Int64>)
        case spent(ClosedRange<Int64>, currency: String)
        /// Conditions that hold together on one booking of the customer.
        case booking(departure: ClosedRange<String>?, salesperson: String?, transport: String?, hotel: String?)
    }

    /// Where the previous page ended, in the order of `sort`.
    public struct Cursor: Sendable, Equatable, Codable {
        public var sort: String
        public var key: String
        public var id: CustomerID

        public init(sort: String, key: String, id: CustomerID) {
            self.sort = sort
            self.key = key
            self.id = id
        }

        public var token: String { (try? JSONEncoder().encode(self))?.base64EncodedString() ?? "" }

        public static func parse(_ token: String) -> Cursor? {
            guard let data = Data(base64Encoded: token) else { return nil }
            return try? JSONDecoder().decode(Cursor.self, from: data)
        }
    }

    /// A cursor that parsed but does not fit its sort (it was altered).
    public struct InvalidCursor: Error {
        public init() {}
    }

    public var conditions: [Condition]
    public var sort: Sort
    /// The currency `total_spent` sorts by and `spent_*` filters in.
    public var currency: String
    public var limit: Int
    public var after: Cursor?

    public static let filterNames: Set<String> = [
        "customer_no", "first_name", "last_name", "name", "company", "email", "phone", "mobile", "fax", "ev_phone", "contact", "zip",
        "city", "address", "country", "language", "newsletter", "group", "tag", "first_contact_from", "first_contact_to",
        "departure_from", "departure_to", "salesperson", "transport", "hotel", "orders_min", "orders_max", "spent_min", "spent_max",
        "currency", "last_order_from", "last_order_to",
    ]

    /// Reads the arguments of `customers.search` (filters, `sort`, `limit`, `cursor`).
    /// Reads a command's `filter` argument (an object of search filters, or absent for
    /// everyone), as given and as conditions; a bad filter names its field under `args.filter.`.
    public static func parseFilter(_ args: CommandArguments, phones: any PhoneNormalizer,
                                   rules: RecordRules) throws -> (arguments: [String: JSONValue], search: CustomerSearch) {
        var filterArguments: [String: JSONValue] = [:]
        switch args.values["filter"] {
        case nil, .null: break
        case .object(let object): filterArguments = object.dictionary
        default: throw CommandError(.invalidArgument, field: "args.filter", "an object of search filters")
        }
        do {
            try CommandArguments(filterArguments).allowOnly(filterNames)
            return (filterArguments, try parse(CommandArguments(filterArguments), phones: phones, rules: rules))
        } catch let error as CommandError {
            let field = error.field.map { "args.filter." + $0.dropFirst("args.".count) }
            throw CommandError(error.code, field: field, error.message)
        }
    }

    public static func parse(_ args: CommandArguments, phones: any PhoneNormalizer, rules: RecordRules) throws -> CustomerSearch {
        try args.allowOnly(filterNames.union(["sort", "limit", "cursor"]))
        var conditions: [Condition] = []
        if let number = try args.string("customer_no", maximumLength: 100) { conditions.append(.customerNo(number)) }
        for field in WordField.allCases {
            guard let text = try args.string(field.rawValue) else { continue }
            conditions.append(.words(field, SearchText.fold(text).split(separator: " ").map(String.init)))
        }
        if let city = try args.string("city") { conditions.append(.city(SearchText.fold(city))) }
        if let zip = try args.string("zip") { conditions.append(.zip(SearchText.fold(zip))) }
        if let tag = try args.string("tag", maximumLength: 60) { conditions.append(.tag(SearchText.fold(tag))) }
        if let group = try args.string("group", maximumLength: 100) { conditions.append(.group(group)) }
        if let key = try args.emailKey("email") { conditions.append(.email(key)) }
        for name in ["phone", "mobile", "fax", "ev_phone"] {
            if let e164 = try args.phoneE164(name, phones: phones, defaultCountry: rules.defaultCountry) { conditions.append(.phone(e164)) }
        }
        if let text = try args.string("country", maximumLength: 100) {
            guard let code = CountryNormalization.normalize(text) else {
                throw CommandError(.invalidArgument, field: "args.country", "not a country code or name")
            }
            conditions.append(.country(code))
        }
        if let text = try args.string("language", maximumLength: 35) {
            guard let language = LanguageNormalization.normalize(text) else {
                throw CommandError(.invalidArgument, field: "args.language", "not a language tag such as es or en-GB")
            }
            conditions.append(.language(language))
        }
        if let newsletter = try args.bool("newsletter") { conditions.append(.newsletter(newsletter)) }
        if let range = try timeRange(args, "first_contact", in: rules.businessZone) { conditions.append(.firstContact(range)) }
        if let range = try timeRange(args, "last_order", in: rules.businessZone) { conditions.append(.lastOrder(range)) }
        let orders = (try optionalInteger(args, "orders_min"), try optionalInteger(args, "orders_max"))
        if orders.0 != nil || orders.1 != nil {
            let range = try ordered(orders.0 ?? 0, orders.1 ?? Int64.max, field: "args.orders_max")
            conditions.append(.orders(range))
        }
        let currency = try args.string("currency", maximumLength: 3).map { $0.uppercased() } ?? rules.defaultCurrency
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw CommandError(.invalidArgument, field: "args.currency", "an ISO 4217 code such as EUR")
        }
        let spent = (try money(args, "spent_min", currency: currency), try money(args, "spent_max", currency: currency))
        if spent.0 != nil || spent.1 != nil {
            conditions.append(.spent(try ordered(spent.0 ?? 0, spent.1 ?? Int64.max, field: "args.spent_max"), currency: currency))
        }
        let departure = (try args.date("departure_from"), try args.date("departure_to"))
        let booking = (departure: departure.0 == nil && departure.1 == nil ? nil : try ordered(departure.0 ?? "0000-01-01", departure.1 ?? "9999-12-31",
                                                                                                field: "args.departure_to"),
                       salesperson: try args.string("salesperson").map(SearchText.fold), transport: try args.string("transport").map(SearchText.fold),
                       hotel: try args.string("hotel").map(SearchText.fold))
        if booking.departure != nil || booking.salesperson != nil || booking.transport != nil || booking.hotel != nil {
            conditions.append(.booking(departure: booking.departure, salesperson: booking.salesperson, transport: booking.transport, hotel: booking.hotel))
        }

        let sortText = try args.string("sort", maximumLength: 20) ?? Sort.name.rawValue
        guard let sort = Sort(rawValue: sortText) else {
            throw CommandError(.invalidArgument, field: "args.sort", "one of \(Sort.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var after: Cursor?
        if let token = try args.string("cursor", maximumLength: 2000) {
            guard let cursor = Cursor.parse(token), cursor.sort == sort.rawValue else {
                throw CommandError(.invalidArgument, field: "args.cursor", "not a cursor of this search's sort; pass next_cursor as returned")
            }
            after = cursor
        }
        let limit = Int(try args.integer("limit", in: 1...1000, default: 50))
        return CustomerSearch(conditions: conditions, sort: sort, currency: currency, limit: limit, after: after)
    }

    private static func optionalInteger(_ args: CommandArguments, _ name: String) throws -> Int64? {
        guard args.values[name] != nil, args.values[name] != .null else { return nil }
        return try args.integer(name, in: 0...Int64(Int32.max), default: 0)
    }

    private static func money(_ args: CommandArguments, _ name: String, currency: String) throws -> Int64? {
        guard let text = try args.decimalText(name, expecting: "an amount such as \"120.50\"") else { return nil }
        guard let amount = try? Money.parse(text, currency: currency) else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "an amount in \(currency) with at most \(Currency.exponent(of: currency)) decimals")
        }
        return amount.minorUnits
    }

    /// `<name>_from` / `<name>_to` as dates, inclusive: whole days on the business's clock.
    private static func timeRange(_ args: CommandArguments, _ name: String, in zone: TimeZone) throws -> ClosedRange<Timestamp>? {
        let period = try CustomerStats.Period.parse(args, from: "\(name)_from", to: "\(name)_to", in: zone)
        guard period.from != nil || period.to != nil else { return nil }
        return Timestamp(microseconds: period.lower)...Timestamp(microseconds: period.upper)
    }

    private static func ordered<T: Comparable>(_ lower: T, _ upper: T, field: String) throws -> ClosedRange<T> {
        guard lower <= upper else { throw CommandError(.invalidArgument, field: field, "before the start of the range") }
        return lower...upper
    }
}

/// One page of `customers.search`.
public struct SearchPage: Sendable {
    public var customers: [JSONValue]
    public var nextCursor: String?
    public var total: Int

    public init(customers: [JSONValue], nextCursor: String?, total: Int) {
        self.customers = customers
        self.nextCursor = nextCursor
        self.total = total
    }

    public var json: JSONValue {
        .object(["customers": .array(customers), "next_cursor": nextCursor.map(JSONValue.string) ?? .null, "total": .integer(Int64(total))])
    }
}

/// Where `customers.search` runs.
public protocol CustomerSearchSource: Sendable {
    func search(_ request: CustomerSearch) async throws -> SearchPage
}
