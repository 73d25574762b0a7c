@testable import PatronDomain
import SeededRandom
import Testing

/// The in-memory search index against a plain reading of each condition over the same facts:
/// random customers, random conditions of every kind, every sort, every page followed, before
/// and after changes (new customers, changed fields, merges and erasures as customers that are
/// no longer live, bookings moved), and through the bookings' re-layout.
struct SearchIndexTests {
    static let countries = ["ES", "FR", "DE", "GR", nil]
    static let languages = ["es", "en-GB", "EN-gb", "fr", nil]
    static let cities = ["donostia", "bilbao", "paris", ""]
    static let zips = ["20001", "48001", "75001", ""]
    static let tags = ["vip", "golf", "familia"]
    static let keys = ["ane", "borja", "fermin", "hotel donostia", "bus", nil]
    static let names = ["garcia\u{1}ana", "garcia\u{1}ana", "perez\u{1}luis", "\u{3c0}\u{3b1}\u{3c0}\u{3b1}\u{1}ana", "zubia\u{1}", "", "ñu\u{1}a"]

    static func facts(_ id: CustomerID, _ random: inout SplitMix64) -> CustomerFacts {
        func pick<T>(_ list: [T]) -> T { list[Int(random.next() % UInt64(list.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        var spend: [String: Int64] = [:]
        if chance(60) { spend["EUR"] = Int64(random.next() % 5_000) - 200 }
        if chance(20) { spend["USD"] = Int64(random.next() % 5_000) }
        let bookings = (0..<Int(random.next() % 4)).map { _ in
            BookingFacts(departure: chance(90) ? "2026-0\(1 + random.next() % 9)-1\(random.next() % 10)" : nil, salesperson: pick(keys),
                         transport: pick(keys), hotel: pick(keys))
        }
        return CustomerFacts(id: id, isLive: chance(85), country: pick(countries), language: pick(languages), newsletter: chance(40),
                             automaticGroup: Int(random.next() % 3), customGroup: chance(20) ? Int64(1 + random.next() % 3) : nil,
                             firstContact: Int64(random.next() % 1_000), lastOrder: chance(70) ? Int64(random.next() % 1_000) : nil,
                             orders: Int64(random.next() % 6), city: pick(cities), zip: pick(zips),
                             tags: Array(Set((0..<Int(random.next() % 3)).map { _ in pick(tags) })), sortName: pick(names), spend: spend,
                             bookings: bookings)
    }

    static func condition(_ random: inout SplitMix64, customers: Int) -> IndexCondition {
        func pick<T>(_ list: [T]) -> T { list[Int(random.next() % UInt64(list.count))] }
        func range(_ limit: UInt64) -> ClosedRange<Int64> {
            let a = Int64(random.next() % limit), b = Int64(random.next() % limit)
            return min(a, b)...max(a, b)
        }
        switch random.next() % 15 {
        case 0: return .among((0..<Int(random.next() % 30)).map { _ in CustomerID(1 + random.next() % UInt64(customers + 5)) })
        case 1: return .country(pick(["ES", "FR", "DE", "GR", "PT"]))
        case 2: return .language(pick(["es", "en-gb", "EN-GB", "fr", "de"]))
        case 3: return .city(pick(cities + ["madrid"]))
        case 4: return .zip(pick(zips))
        case 5: return .tag(pick(tags + ["unknown"]))
        case 6: return .automaticGroup(Int(random.next() % 4))
        case 7: return .customGroups(random.next() % 5 == 0 ? [] : [Int64(1 + random.next() % 4), Int64(1 + random.next() % 4)])
        case 8: return .newsletter(random.next() % 2 == 0)
        case 9: return .firstContact(range(1_000))
        case 10: return .lastOrder(random.next() % 4 == 0 ? Int64.min...Int64(random.next() % 1_000) : range(1_000))
        case 11: return .orders(random.next() % 4 == 0 ? Int64(random.next() % 6)...Int64.max : range(6))
        case 12: return .spent(random.next() % 3 == 0 ? 0...Int64(random.next() % 3_000) : range(5_000), currency: pick(["EUR", "USD", "GBP"]))
        default:
            let from = "2026-0\(1 + random.next() % 9)-10", to = "2026-0\(1 + random.next() % 9)-19"
            return .booking(departure: random.next() % 2 == 0 ? min(from, to)...max(from, to) : nil,
                            salesperson: random.next() % 2 == 0 ? pick(["ane", "borja", "nobody"]) : nil,
                            transport: random.next() % 3 == 0 ? pick(["bus", "ane"]) : nil, hotel: random.next() % 3 == 0 ? "hotel donostia" : nil)
        }
    }

    /// The condition as written in its doc comment, on one customer's facts.
    static func holds(_ condition: IndexCondition, _ c: CustomerFacts) -> Bool {
        switch condition {
        case .among(let ids): ids.contains(c.id)
        case .country(let code): c.country == code
        case .language(let tag): c.language?.lowercased() == tag.lowercased()
        case .city(let city): !c.city.isEmpty && c.city == city
        case .zip(let zip): !c.zip.isEmpty && c.zip == zip
        case .tag(let tag): c.tags.contains(tag)
        case .automaticGroup(let group): c.automaticGroup == group && c.customGroup == nil
        case .customGroups(let ids): c.customGroup.map(ids.contains) ?? false
        case .newsletter(let wanted): c.newsletter == wanted
        case .firstContact(let range): range.contains(c.firstContact)
        case .lastOrder(let range): c.lastOrder.map(range.contains) ?? false
        case .orders(let range): range.contains(c.orders)
        case .spent(let range, let currency): range.contains(c.spend[currency] ?? 0)
        case .booking(let departure, let salesperson, let transport, let hotel):
            c.bookings.contains { b in
                (departure.map { range in b.departure.map(range.contains) ?? false } ?? true)
                    && (salesperson.map { $0 == b.salesperson } ?? true) && (transport.map { $0 == b.transport } ?? true)
                    && (hotel.map { $0 == b.hotel } ?? true)
            }
        }
    }

    /// The contract's order: names by their bytes, newest last order first (none last), biggest
    /// spend first, earliest first contact first; ties by id.
    static func key(_ c: CustomerFacts, _ sort: CustomerSearch.Sort, currency: String) -> (text: [UInt8], number: Int64) {
        switch sort {
        case .name: (Array(c.sortName.utf8), 0)
        case .lastOrder: ([], c.lastOrder.map { -$0 } ?? Int64.max)
        case .totalSpent: ([], -(c.spend[currency] ?? 0))
        case .firstContact: ([], c.firstContact)
        }
    }

    static func check(_ index: SearchIndex, _ customers: [CustomerID: CustomerFacts], _ random: inout SplitMix64, searches: Int) throws {
        for _ in 0..<searches {
            let conditions = (0..<Int(1 + random.next() % 3)).map { _ in condition(&random, customers: customers.count) }
            let sort = CustomerSearch.Sort.allCases[Int(random.next() % 4)]
            let currency = random.next() % 3 == 0 ? "USD" : "EUR"
            let expected = customers.values.filter { c in c.isLive && conditions.allSatisfy { holds($0, c) } }.sorted { a, b in
                let (ka, kb) = (key(a, sort, currency: currency), key(b, sort, currency: currency))
                if ka.text != kb.text { return ka.text.lexicographicallyPrecedes(kb.text) }
                if ka.number != kb.number { return ka.number < kb.number }
                return a.id < b.id
            }.map(\.id)
            let limit = Int(1 + random.next() % 7)
            var found: [CustomerID] = []
            var after: CustomerSearch.Cursor?
            repeat {
                let page = try index.search(conditions, sort: sort, currency: currency, after: after, limit: limit)
                #expect(page.total == expected.count, "\(conditions) \(sort)")
                found += page.rows.prefix(limit).map(\.id)
                after = page.rows.count > limit ? page.rows[limit - 1].cursor(sort) : nil
                if found.count > expected.count + limit { break }
            } while after != nil
            #expect(found == expected, "\(conditions) by \(sort) in \(currency)")
        }
    }

    @Test(arguments: [UInt64(1), 2, 3]) func everyConditionAndSortAgreesWithThePlainReadingBeforeAndAfterChanges(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var customers: [CustomerID: CustomerFacts] = [:]
        var index = SearchIndex()
        // Loaded as at start: customers, then spend, then how many bookings each has, then the
        // bookings in any order.
        for id in 1...300 {
            let facts = Self.facts(CustomerID(id), &random)
            customers[facts.id] = facts
            index.load(facts)
            for (currency, minor) in facts.spend { index.load(spend: minor, of: facts.id, currency: currency) }
        }
        var bookings = LoadedBookings()
        for facts in customers.values where !facts.bookings.isEmpty { bookings.count(facts.bookings.count, of: facts.id) }
        for facts in customers.values.shuffled(using: &random) {
            for booking in facts.bookings { bookings.add(booking, of: facts.id) }
        }
        index.load(bookings)
        try Self.check(index, customers, &random, searches: 300)
        // Changes as the database reports them: a customer's new facts, whole. Enough of them
        // that the bookings are laid out again (more than 4,096 changed customers).
        for round in 0..<6_000 {
            let id = CustomerID(1 + random.next() % (round < 5_000 ? 300 : 340))
            let facts = Self.facts(id, &random)
            customers[id] = facts
            index.apply(facts)
        }
        try Self.check(index, customers, &random, searches: 300)
        #expect(index.liveCustomers == customers.values.filter(\.isLive).count)
    }

    /// A changed customer is written into the columns in place: a column copied per change (as
    /// iterating the spend dictionary while writing it did) costs its whole size each time.
    @Test func applyingAChangeWritesTheColumnsInPlace() {
        var index = SearchIndex()
        for id in 1...1_000 { index.apply(CustomerFacts(id: CustomerID(id), isLive: true, spend: ["EUR": 100, "USD": 5])) }
        let currency = index.currencies.existingNumber(of: "EUR")!
        func addresses() -> [UnsafeRawPointer?] {
            [index.spend[currency]!.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) },
             index.orders.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }]
        }
        let before = addresses()
        index.apply(CustomerFacts(id: 500, isLive: true, orders: 3, spend: ["EUR": 250]))
        #expect(addresses() == before)
        #expect(index.spend[currency]![500] == 250)
    }

    @Test func aCursorWhoseKeyIsNotANumberIsRefusedByTheNumericSorts() throws {
        var index = SearchIndex()
        index.apply(CustomerFacts(id: 1, isLive: true))
        let cursor = CustomerSearch.Cursor(sort: "last_order", key: "garcia", id: 1)
        #expect(throws: CustomerSearch.InvalidCursor.self) {
            try index.search([], sort: .lastOrder, currency: "EUR", after: cursor, limit: 5)
        }
        #expect(try index.search([], sort: .name, currency: "EUR", after: CustomerSearch.Cursor(sort: "name", key: "9", id: 1), limit: 5).total == 1)
    }

    @Test func aValueNoCustomerHasMatchesNobodyWithoutScanning() throws {
        var index = SearchIndex()
        index.apply(CustomerFacts(id: 1, isLive: true, country: "ES", bookings: [BookingFacts(departure: nil, salesperson: "ane", transport: nil, hotel: nil)]))
        for condition: IndexCondition in [.country("PT"), .tag("vip"), .customGroups([7]), .booking(departure: nil, salesperson: "borja", transport: nil, hotel: nil)] {
            #expect(try index.search([condition], sort: .name, currency: "EUR", after: nil, limit: 5) == IndexPage(total: 0, rows: []))
        }
        // A booking without a departure matches the other booking conditions, not a date range.
        #expect(try index.search([.booking(departure: nil, salesperson: "ane", transport: nil, hotel: nil)], sort: .name, currency: "EUR",
                                 after: nil, limit: 5).total == 1)
        #expect(try index.search([.booking(departure: "0000-01-01"..."9999-12-31", salesperson: "ane", transport: nil, hotel: nil)], sort: .name,
                                 currency: "EUR", after: nil, limit: 5).total == 0)
    }
}

private extension IndexPage.Row {
    func cursor(_ sort: CustomerSearch.Sort) -> CustomerSearch.Cursor { CustomerSearch.Cursor(sort: sort.rawValue, key: key, id: id) }
}
