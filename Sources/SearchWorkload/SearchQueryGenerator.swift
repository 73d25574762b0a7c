import PatronDomain
import SeededRandom

/// Values a Customer Center search is typed with, taken from the data searched: what staff
/// would type because it is there (a last name, a hotel, a tag), plus the ranges dates, order
/// counts and amounts fall in.
public struct SearchValues: Sendable {
    public var firstNames: [String] = []
    public var lastNames: [String] = []
    public var companies: [String] = []
    public var contacts: [String] = []
    /// Words of street addresses.
    public var addressWords: [String] = []
    public var cities: [String] = []
    public var zips: [String] = []
    /// ISO codes or names, as a client may send either.
    public var countries: [String] = []
    public var languages: [String] = []
    public var groups: [String] = []
    public var tags: [String] = []
    public var salespeople: [String] = []
    public var transports: [String] = []
    public var hotels: [String] = []
    public var emails: [String] = []
    public var phones: [String] = []
    public var customerNumbers: [String] = []
    /// `YYYY-MM-DD` of the first and last day of first contacts, departures and orders.
    public var firstDay = "2025-01-01"
    public var lastDay = "2026-12-31"
    public var mostOrders: Int64 = 6
    /// Amounts in the currency's major units (the filter's decimal text).
    public var largestSpend: Int64 = 5_000
    public var currencies: [String] = ["EUR"]

    public init() {}
}

/// One generated `customers.search`: its arguments, and how many filters they hold.
public struct GeneratedSearch: Sendable, CustomStringConvertible {
    public let args: [String: JSONValue]
    public let filterCount: Int
    /// Also ask for the page after the first (through its cursor).
    public let followsCursor: Bool

    public var description: String {
        args.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(decoding: $0.value.canonicalBytes, as: UTF8.self))" }.joined(separator: " ")
    }
}

/// Draws `customers.search` requests over the contract's filters (EVENTS.md, "Search filters"):
/// one to four of them, combined as staff combine them, with values from ``SearchValues``, each
/// of the four sorts, various page sizes, and sometimes the page after the first. Seeded, so a
/// run can be repeated query for query; not a fixed list, so no structure can be made for it.
public struct SearchQueryGenerator: Sendable {
    private var random: SplitMix64
    private let values: SearchValues

    /// The filters a request may hold, each once (a date or amount range counts as one).
    public enum Filter: String, CaseIterable, Sendable {
        case customerNo = "customer_no", firstName = "first_name", lastName = "last_name", name, company, email, phone, contact, zip,
             city, address, country, language, newsletter, group, tag, firstContact = "first_contact", departure, salesperson, transport,
             hotel, orders, spent, lastOrder = "last_order"
    }

    public init(values: SearchValues, seed: UInt64) {
        self.values = values
        random = SplitMix64(seed: seed)
    }

    public mutating func next() -> GeneratedSearch {
        // Fewer filters more often, as people type them; four at most.
        let count = [1, 1, 1, 2, 2, 2, 3, 3, 4][pick(9)]
        var chosen: Set<Filter> = []
        var args: [String: JSONValue] = [:]
        while chosen.count < count {
            let filter = Filter.allCases[pick(Filter.allCases.count)]
            guard !chosen.contains(filter), let drawn = draw(filter), !drawn.isEmpty else { continue }
            chosen.insert(filter)
            for (name, value) in drawn { args[name] = value }
        }
        args["sort"] = .string(CustomerSearch.Sort.allCases[pick(CustomerSearch.Sort.allCases.count)].rawValue)
        args["limit"] = .integer([5, 20, 50, 50, 50, 100][pick(6)])
        return GeneratedSearch(args: args, filterCount: count, followsCursor: pick(3) == 0)
    }

    /// The arguments of one filter with a drawn value; nil when the data has no value for it.
    private mutating func draw(_ filter: Filter) -> [(String, JSONValue)]? {
        switch filter {
        case .customerNo: return one("customer_no", values.customerNumbers)
        case .firstName: return words("first_name", values.firstNames)
        case .lastName: return words("last_name", values.lastNames)
        case .name:
            guard !values.firstNames.isEmpty, !values.lastNames.isEmpty else { return nil }
            let first = element(values.firstNames)
            let last = element(values.lastNames)
            return [("name", .string([first + " " + last, last, fragment(last), first + " " + fragment(last), fragment(first)][pick(5)]))]
        case .company: return words("company", values.companies)
        case .contact: return words("contact", values.contacts)
        case .address: return words("address", values.addressWords)
        case .email: return one("email", values.emails)
        case .phone: return one(["phone", "mobile", "fax", "ev_phone"][pick(4)], values.phones)
        case .zip: return one("zip", values.zips)
        case .city: return one("city", values.cities.map { pick(4) == 0 ? $0.uppercased() : $0 })
        case .country: return one("country", values.countries)
        case .language: return one("language", values.languages)
        case .newsletter: return [("newsletter", .bool(pick(3) != 0))]
        case .group: return one("group", values.groups)
        case .tag: return one("tag", values.tags)
        case .salesperson: return one("salesperson", values.salespeople)
        case .transport: return one("transport", values.transports)
        case .hotel: return one("hotel", values.hotels)
        case .firstContact: return dates("first_contact")
        case .departure: return dates("departure")
        case .lastOrder: return dates("last_order")
        case .orders:
            let low = Int64(pick(Int(values.mostOrders) + 1))
            let high = low + Int64(pick(Int(values.mostOrders) + 1))
            return bounds("orders_min", .integer(low), "orders_max", .integer(high))
        case .spent:
            let low = Int64(pick(Int(values.largestSpend) / 2 + 1))
            let high = low + Int64(pick(Int(values.largestSpend) + 1))
            var range = bounds("spent_min", .string("\(low).00"), "spent_max", .string("\(high).50"))
            if values.currencies.count > 1 || pick(2) == 0 { range.append(("currency", .string(element(values.currencies)))) }
            return range
        }
    }

    /// Both bounds, or only one of them.
    private mutating func bounds(_ lowName: String, _ low: JSONValue, _ highName: String, _ high: JSONValue) -> [(String, JSONValue)] {
        switch pick(3) {
        case 0: [(lowName, low)]
        case 1: [(highName, high)]
        default: [(lowName, low), (highName, high)]
        }
    }

    /// A range of days within the data's: a week, a month, a quarter or a year.
    private mutating func dates(_ name: String) -> [(String, JSONValue)] {
        guard let first = CalendarDate.dayNumber(values.firstDay), let last = CalendarDate.dayNumber(values.lastDay), first <= last else { return [] }
        let length = Int64([7, 31, 92, 365][pick(4)])
        let start = first + Int64(pick(Int(max(1, last - first + 1))))
        return bounds("\(name)_from", .string(CalendarDate.text(ofDay: start)), "\(name)_to", .string(CalendarDate.text(ofDay: start + length - 1)))
    }

    private mutating func one(_ name: String, _ choices: [String]) -> [(String, JSONValue)]? {
        choices.isEmpty ? nil : [(name, .string(element(choices)))]
    }

    /// A whole value, a word of it, or a fragment of one (staff type part of a name).
    private mutating func words(_ name: String, _ choices: [String]) -> [(String, JSONValue)]? {
        guard !choices.isEmpty else { return nil }
        let value = element(choices)
        let parts = value.split(separator: " ").map(String.init)
        return [(name, .string([value, parts.isEmpty ? value : element(parts), fragment(value)][pick(3)]))]
    }

    /// Two to five letters from somewhere in the first word of `text` (two: its start).
    private mutating func fragment(_ text: String) -> String {
        let word = Array(text.split(separator: " ").first.map(String.init) ?? text)
        guard word.count > 2 else { return String(word) }
        let length = 2 + pick(min(4, word.count - 1))
        if length == 2 { return String(word[0..<2]) }
        let start = pick(word.count - length + 1)
        return String(word[start..<start + length])
    }

    private mutating func element(_ choices: [String]) -> String { choices[pick(choices.count)] }

    private mutating func pick(_ count: Int) -> Int { Int(random.next() % UInt64(max(1, count))) }
}
