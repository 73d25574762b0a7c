import Foundation
import PatronDomain
@testable import PatronStorage
import SearchWorkload
import SeededRandom
import Testing

/// Issue "Search that holds for any combination of filters": every generated search returns
/// exactly the live customers that a plain SQL reading of EVENTS.md's matching rules returns,
/// in its sort's order, page after page, on both engines. The records come from real events
/// (bookings in several statuses and currencies, profiles, consent, a bridge merge, erasures).
struct SearchEquivalenceTests {
    static let firstNames = ["José", "María", "Íñigo", "Ainhoa", "Lucía", "Álvaro", "François", "Jürgen", "Γιώργος", "Ana", "Luis", "Zoë",
                             "Ana María", "Mª Jesús"]
    static let lastNames = ["García", "Pérez", "López", "Etxeberria", "Müller", "Dubois", "Nowak", "Παπαδόπουλος", "O'Brien", "Núñez",
                            "Ibáñez", "de la Fuente", "Smith"]
    static let places: [(city: String, zip: String, country: String, language: String)] = [
        ("Donostia", "20001", "ES", "es"), ("Bilbao", "48001", "ES", "es"), ("València", "46001", "ES", "ca"), ("Paris", "75001", "FR", "fr"),
        ("München", "80331", "DE", "de"), ("Αθήνα", "105 51", "GR", "el"), ("London", "SW1A 1AA", "GB", "en-GB"),
    ]
    static let companies = ["Acme SL", "Kutxabank", "Société Générale", "Müller GmbH"]
    static let contacts = ["Kari Berg", "Iñaki Goñi", "Marie Curie"]
    static let streets = ["Calle Mayor", "Avenida de la Libertad", "Rue de Rivoli", "Hauptstraße", "Plaza Gipuzkoa"]
    static let tags = ["VIP", "Business", "Golf", "Familia"]
    static let hotels = ["Hotel Donostia", "Hotel Bilbao Centro", "Hôtel Étoile", "Parador Hondarribia"]
    static let salespeople = ["Ane", "Borja", "Fermín", "Leire"]
    static let transports = ["flight", "bus", "train", "own"]
    static let statuses = ["confirmed", "confirmed", "completed", "pending", "cancelled", "no_show"]
    static let firstDay = "2025-01-01"
    static let customers = 160

    /// 2025-01-01 plus `day` days and `second` seconds, as an event's `occurred_at`.
    static func time(day: Int, second: Int) -> String {
        let date = CalendarDate.text(ofDay: CalendarDate.dayNumber(firstDay)! + Int64(day))
        return "\(date)T\(String(format: "%02d:%02d:%02d", second / 3600 % 24, second / 60 % 60, second % 60))Z"
    }

    static func event(_ id: String, _ type: String, day: Int, second: Int, _ data: String) -> String {
        #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(time(day: day, second: second))","source":"test","data":\#(data)}"#
    }

    static func quoted(_ text: String) -> String { String(decoding: JSONValue.string(text).canonicalBytes, as: UTF8.self) }

    /// The events: each customer's profile, then bookings over the two years, then a bridge
    /// merge and erasures.
    static func events() -> [String] {
        var random = SplitMix64(seed: 20_261_207)
        func pick<T>(_ list: [T]) -> T { list[Int(random.next() % UInt64(list.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        var events: [String] = []
        for index in 0..<customers {
            let place = pick(places)
            var fields = [#""customer_no":"C-\#(index)""#, #""email":"guest\#(index)@example.org""#,
                          #""first_name":\#(quoted(pick(firstNames)))"#, #""last_name":\#(quoted(pick(lastNames)))"#,
                          #""language":"\#(place.language)""#,
                          #""address":{"line1":\#(quoted("\(pick(streets)) \(index % 40 + 1)")),"city":\#(quoted(chance(15) ? place.city.uppercased() : place.city)),"zip":"\#(place.zip)","country":"\#(place.country)"}"#]
            if chance(60) { fields.append(#""mobile":"+3460\#(String(format: "%07d", index))""#) }
            if chance(25) { fields.append(#""company":\#(quoted(pick(companies)))"#) }
            if chance(15) { fields.append(#""contact":\#(quoted(pick(contacts)))"#) }
            if chance(70) { fields.append(#""newsletter":\#(chance(50))"#) }
            if chance(40) { fields.append(#""tags":[\#(Set((0...Int(random.next() % 2)).map { _ in pick(tags) }).map(quoted).joined(separator: ","))]"#) }
            let firstDay = Int(random.next() % 700)
            // At any hour, so that some first contacts fall on another day in the business's zone than in UTC.
            events.append(event("p\(index)", "customer.updated", day: firstDay, second: Int(random.next() % 86_400), #"{"customer":{\#(fields.joined(separator: ","))}}"#))
            for booking in 0..<Int(random.next() % 4) {
                let day = firstDay + Int(random.next() % 60)
                let arrival = CalendarDate.text(ofDay: CalendarDate.dayNumber(Self.firstDay)! + Int64(day + 10))
                let departure = CalendarDate.text(ofDay: CalendarDate.dayNumber(Self.firstDay)! + Int64(day + 13))
                let currency = chance(15) ? "USD" : "EUR"
                let data = #"{"customer":{"email":"guest\#(index)@example.org"},"booking":{"ref":"BK-\#(index)-\#(booking)","status":"\#(pick(statuses))","hotel":\#(quoted(pick(hotels))),"salesperson":\#(quoted(pick(salespeople))),"transport":"\#(pick(transports))","arrival":"\#(arrival)","departure":"\#(departure)","amount":"\#(50 + random.next() % 3000).\#(random.next() % 100 / 10)0","currency":"\#(currency)"}}"#
                events.append(event("b\(index)-\(booking)", "booking.created", day: day, second: Int(random.next() % 86_400), data))
            }
        }
        // A guest who used two addresses, named together by one booking: one customer after it.
        events.append(event("bridge", "booking.created", day: 710, second: 1,
                            #"{"customer":{"email":"guest3@example.org","phone":"+34943000003","mobile":"+34600000004"},"booking":{"ref":"BK-bridge","status":"confirmed","hotel":"Hotel Donostia","amount":"100.00","currency":"EUR"}}"#))
        events.append(event("bridge2", "customer.updated", day: 711, second: 1,
                            #"{"customer":{"email":"guest4@example.org","phone":"+34943000003"}}"#))
        for erased in [5, 6, 7] {
            events.append(event("erase\(erased)", "customer.erasure_requested", day: 712, second: erased,
                                #"{"customer":{"email":"guest\#(erased)@example.org"}}"#))
        }
        return events
    }

    /// What the generator draws from: the values the events wrote.
    static var values: SearchValues {
        var values = SearchValues()
        values.firstNames = firstNames
        values.lastNames = lastNames
        values.companies = companies
        values.contacts = contacts
        values.addressWords = streets + ["mayor", "rivoli", "12"]
        values.cities = places.map(\.city) + ["San Sebastián"]
        values.zips = places.map(\.zip)
        values.countries = places.map(\.country) + ["Spain", "France"]
        values.languages = places.map(\.language)
        values.groups = AutomaticGroup.allCases.map(\.name) + ["Clientes Élite", "clientes elite", "AGENCIAS"]
        values.tags = tags + ["vip", "golf "]
        values.salespeople = salespeople + ["fermin"]
        values.transports = transports
        values.hotels = hotels + ["hotel etoile"]
        values.emails = (0..<12).map { "Guest\($0)@Example.org" }
        values.phones = (0..<12).map { "+3460\(String(format: "%07d", $0))" } + ["+34943000003"]
        values.customerNumbers = (0..<12).map { "C-\($0)" }
        values.firstDay = firstDay
        values.lastDay = "2026-12-31"
        values.mostOrders = 3
        values.largestSpend = 6_000
        values.currencies = ["EUR", "USD"]
        return values
    }

    /// `followed`: the search index is loaded before the events, so that everything it holds
    /// came from the changes it followed; on PostgreSQL it is another replica's, which
    /// follows the changes the fixture's replica commits. Otherwise it loads after them.
    @Test(arguments: [(Engine.sqlite, false), (.sqlite, true), (.postgres, false), (.postgres, true)])
    func everyGeneratedSearchFindsWhatThePlainReadingOfTheContractFinds(engine: Engine, followed: Bool) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let searcher: (any CustomerSearchSource)? = followed && engine == .postgres ? try await fixture.replicaStores().search : nil
        if followed { #expect(try await CustomerSearchTests.allPages(fixture, [:], on: searcher).numbers.isEmpty) }
        let events = Self.events()
        for start in stride(from: 0, to: events.count, by: 60) {
            let outcome = try await fixture.ingest(Array(events[start..<min(start + 60, events.count)]))
            #expect(outcome.failed.isEmpty)
        }
        // Custom groups, set by staff: a customer in one shows it as its group instead of the automatic one.
        for (name, members) in [("Clientes Élite", 0..<12), ("Agencias", 12..<20)] {
            _ = try await fixture.stores.catalog.createGroup(name: name, discountBasisPoints: 500, at: Timestamp(microseconds: 0))
            for index in members {
                let id = try #require(try await fixture.integer("SELECT id FROM customers WHERE customer_no = ?", [.text("C-\(index * 7)")]))
                #expect(try await fixture.stores.catalog.setGroup(id, group: name))
            }
        }
        var generator = SearchQueryGenerator(values: Self.values, seed: 7)
        var mismatches: [String] = []
        var nonEmpty = 0
        for _ in 0..<Self.queries {
            let query = generator.next()
            let reference = try await PlainSearch(engine: engine, zone: Self.rules.businessZone).matches(query.args, fixture: fixture)
            let found = try await CustomerSearchTests.allPages(fixture, query.args, rules: Self.rules, on: searcher)
            if !found.numbers.isEmpty { nonEmpty += 1 }
            if Set(found.numbers) != Set(reference.numbers) || found.numbers.count != Set(found.numbers).count {
                mismatches.append("\(query): found \(found.numbers.sorted()), the contract \(reference.numbers.sorted())")
            } else if found.totals.contains(where: { $0 != reference.numbers.count }) {
                mismatches.append("\(query): totals \(found.totals), the contract \(reference.numbers.count)")
            } else if let order = reference.order, found.numbers != order(found.numbers) {
                mismatches.append("\(query): order \(found.numbers), the contract's \(order(found.numbers))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(Self.queries) differ:\n\(mismatches.prefix(10).joined(separator: "\n"))")
        // The generator must not only produce empty searches.
        #expect(nonEmpty >= Self.queries / 3)
    }

    static let queries = 300

    /// A business away from UTC: date filters are its whole days (EVENTS.md, "Definitions").
    static let rules = {
        var rules = RecordRules()
        rules.businessZone = TimeZone(identifier: "Europe/Madrid")!
        return rules
    }()

    /// The generator's searches are valid requests (none refused), repeat from their seed, and
    /// over a run use every filter of the contract, every sort, one to four filters, and cursors.
    @Test func generatedSearchesAreValidRepeatableAndCoverTheContract() throws {
        var generator = SearchQueryGenerator(values: Self.values, seed: 11)
        var again = SearchQueryGenerator(values: Self.values, seed: 11)
        var names = Set<String>()
        var sorts = Set<String>()
        var filterCounts = Set<Int>()
        var followed = 0
        for _ in 0..<500 {
            let query = generator.next()
            #expect(query.args == again.next().args)
            _ = try CustomerSearch.parse(CommandArguments(query.args), phones: CustomerSearchTests.Phones(), rules: RecordRules())
            names.formUnion(query.args.keys)
            sorts.insert(query.args["sort"]?.stringValue ?? "")
            filterCounts.insert(query.filterCount)
            if query.followsCursor { followed += 1 }
        }
        #expect(CustomerSearch.filterNames.subtracting(names).isEmpty, "never drawn: \(CustomerSearch.filterNames.subtracting(names).sorted())")
        #expect(sorts == Set(CustomerSearch.Sort.allCases.map(\.rawValue)))
        #expect(filterCounts == [1, 2, 3, 4])
        #expect(followed > 100)
    }
}

/// EVENTS.md's "Search filters" read as plainly as SQL can: every condition on the raw rows of
/// one live customer (`patron_fold` is each engine's own folding of stored text, as its search
/// uses), no index or derived search table.
struct PlainSearch {
    let engine: Engine
    /// The business's zone, whose whole days date filters are.
    let zone: TimeZone

    private var unitSeparator: String { engine == .sqlite ? "char(31)" : "chr(31)" }

    private func contains(_ haystack: String, _ needle: String) -> String {
        engine == .sqlite ? "instr(\(haystack), \(needle)) > 0" : "strpos(\(haystack), \(needle)) > 0"
    }

    /// The matching customers' numbers, and (for the sorts whose key is a number) the contract's
    /// order of a list of them.
    func matches(_ args: [String: JSONValue], fixture: RecordsFixture) async throws -> (numbers: [String], order: (([String]) -> [String])?) {
        var conditions = ["c.merged_into IS NULL", "c.erased_at IS NULL"]
        var values: [SQLValue] = []
        func text(_ name: String) -> String? { args[name]?.stringValue }
        let orders = "b.status IN ('confirmed', 'completed')"
        let currency = text("currency")?.uppercased() ?? "EUR"
        for field in CustomerSearch.WordField.allCases {
            guard let query = text(field.rawValue) else { continue }
            let column = switch field {
            case .name: "coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')"
            case .address: "coalesce(c.address_line1, '') || ' ' || coalesce(c.address_line2, '')"
            case .firstName: "c.first_name"
            case .lastName: "c.last_name"
            case .company: "c.company"
            case .contact: "c.contact"
            }
            for word in SearchText.fold(query).split(separator: " ") {
                // A word shorter than three characters matches the start of a word.
                conditions.append(word.count < 3 ? contains("' ' || coalesce(patron_fold(\(column)), '')", "?")
                                                 : contains("coalesce(patron_fold(\(column)), '')", "?"))
                values.append(.text(word.count < 3 ? " " + word : String(word)))
            }
        }
        if let number = text("customer_no") {
            conditions.append("EXISTS (SELECT 1 FROM customer_numbers n WHERE n.customer_id = c.id AND n.number = ?)")
            values.append(.text(number))
        }
        if let email = text("email") {
            conditions.append("EXISTS (SELECT 1 FROM customer_identifiers i WHERE i.customer_id = c.id AND i.kind = 'email' AND i.key = ?)")
            values.append(.text(email.lowercased()))
        }
        for name in ["phone", "mobile", "fax", "ev_phone"] {
            guard let phone = text(name) else { continue }
            conditions.append("EXISTS (SELECT 1 FROM customer_identifiers i WHERE i.customer_id = c.id AND i.kind = 'phone' AND i.key = ?)")
            values.append(.text(phone))
        }
        for (name, column) in [("city", "c.city"), ("zip", "c.zip")] {
            guard let value = text(name) else { continue }
            conditions.append("patron_fold(\(column)) = ?")
            values.append(.text(SearchText.fold(value)))
        }
        if let country = text("country") {
            conditions.append("c.country = ?")
            values.append(.text(CountryNormalization.normalize(country) ?? country))
        }
        if let language = text("language") {
            conditions.append("lower(c.language) = lower(?)")
            values.append(.text(language))
        }
        if let newsletter = args["newsletter"]?.boolValue {
            conditions.append(newsletter ? "c.newsletter = 1" : "(c.newsletter IS NULL OR c.newsletter <> 1)")
        }
        // The customer's group as its summary shows it: the custom one, else the automatic one.
        if let group = text("group") {
            conditions.append("""
                SearchText.fold(group) = patron_fold(CASE WHEN c.custom_group_id IS NULL
                    THEN (CASE c.auto_group \(AutomaticGroup.allCases.map { "WHEN \($0.rawValue) THEN '\($0.name)'" }.joined(separator: " ")) END)
                    ELSE (SELECT g.name FROM customer_groups g WHERE g.id = c.custom_group_id) END)
                """.replacingOccurrences(of: "SearchText.fold(group)", with: "?"))
            values.append(.text(SearchText.fold(group)))
        }
        if let tag = text("tag") {
            let separator = unitSeparator
            conditions.append(contains("\(separator) || coalesce(patron_fold(c.tags), '') || \(separator)", "\(separator) || ? || \(separator)"))
            values.append(.text(SearchText.fold(tag)))
        }
        if let range = try days("first_contact", args) {
            conditions.append("c.first_contact_at BETWEEN ? AND ?")
            values += [.integer(range.lowerBound), .integer(range.upperBound)]
        }
        if let range = try days("last_order", args) {
            conditions.append("(SELECT max(b.first_seen_at) FROM bookings b WHERE b.customer_id = c.id AND \(orders)) BETWEEN ? AND ?")
            values += [.integer(range.lowerBound), .integer(range.upperBound)]
        }
        var booking: [String] = []
        if args["departure_from"] != nil || args["departure_to"] != nil {
            booking.append("b.departure BETWEEN ? AND ?")
            values += [.text(text("departure_from") ?? "0000-01-01"), .text(text("departure_to") ?? "9999-12-31")]
        }
        for name in ["salesperson", "transport", "hotel"] {
            guard let value = text(name) else { continue }
            booking.append("patron_fold(b.\(name)) = ?")
            values.append(.text(SearchText.fold(value)))
        }
        if !booking.isEmpty {
            conditions.append("EXISTS (SELECT 1 FROM bookings b WHERE b.customer_id = c.id AND \(booking.joined(separator: " AND ")))")
        }
        if args["orders_min"] != nil || args["orders_max"] != nil {
            conditions.append("(SELECT count(*) FROM bookings b WHERE b.customer_id = c.id AND \(orders)) BETWEEN ? AND ?")
            values += [.integer(args["orders_min"]?.intValue ?? 0), .integer(args["orders_max"]?.intValue ?? Int64(Int32.max))]
        }
        let spent = "CAST(coalesce((SELECT sum(b.amount_minor) FROM bookings b WHERE b.customer_id = c.id AND \(orders) AND b.currency = ?), 0) AS BIGINT)"
        if args["spent_min"] != nil || args["spent_max"] != nil {
            conditions.append("\(spent) BETWEEN ? AND ?")
            values += [.text(currency),
                       .integer(try text("spent_min").map { try Money.parse($0, currency: currency).minorUnits } ?? 0),
                       .integer(try text("spent_max").map { try Money.parse($0, currency: currency).minorUnits } ?? Int64.max)]
        }
        let sortKey: String? = switch text("sort") ?? "name" {
        case "last_order": "(SELECT max(b.first_seen_at) FROM bookings b WHERE b.customer_id = c.id AND \(orders))"
        case "total_spent": spent.replacingOccurrences(of: "b.currency = ?", with: "b.currency = '\(currency)'")
        case "first_contact": "c.first_contact_at"
        default: nil
        }
        let rows = try await fixture.rows("""
            SELECT c.customer_no AS number, \(sortKey ?? "0") AS sort_key, c.id AS id
            FROM customers c WHERE \(conditions.joined(separator: " AND "))
            """, values)
        let numbers = rows.compactMap { $0.text("number") }
        guard sortKey != nil else { return (numbers, nil) }
        // The contract's order: newest last order first (none last), biggest spender first,
        // earliest first contact first; ties by the customer's id.
        let sort = text("sort")
        var keys: [String: (key: Int64, id: Int64)] = [:]
        for row in rows {
            guard let number = row.text("number"), let id = row.int("id") else { continue }
            let key = row.int("sort_key")
            keys[number] = switch sort {
            case "last_order": (key.map { -$0 } ?? Int64.max, id)
            case "total_spent": (-(key ?? 0), id)
            default: (key ?? Int64.max, id)
            }
        }
        return (numbers, { list in list.sorted { (keys[$0]?.key ?? .max, keys[$0]?.id ?? .max) < (keys[$1]?.key ?? .max, keys[$1]?.id ?? .max) } })
    }

    /// `<name>_from` / `<name>_to` as an inclusive range of microseconds: from the local midnight
    /// that starts the first day to the one that ends the last, in ``zone`` (Foundation's calendar).
    private func days(_ name: String, _ args: [String: JSONValue]) throws -> ClosedRange<Int64>? {
        let from = args["\(name)_from"]?.stringValue
        let to = args["\(name)_to"]?.stringValue
        guard from != nil || to != nil else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        func midnight(_ date: String, plusDays: Int) -> Int64 {
            let parts = date.split(separator: "-").compactMap { Int($0) }
            let day = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!
            let start = calendar.date(byAdding: .day, value: plusDays, to: day)!
            return Int64((start.timeIntervalSince1970 * 1_000_000).rounded())
        }
        let lower = from.map { midnight($0, plusDays: 0) } ?? Int64.min
        let upper = to.map { midnight($0, plusDays: 1) - 1 } ?? Int64.max
        return lower...upper
    }
}

/// PostgreSQL's search index reads the bookings of a large database on a connection of its own
/// while the customers load; when that connection is refused, or the database is small, it
/// reads them on its own session, and finds the same.
struct PostgresSearchIndexLoadTests {
    struct Refused: Error {}

    @Test func aRefusedSecondConnectionLoadsTheBookingsOnTheFirst() async throws {
        let fixture = try await RecordsFixture.open(.postgres)
        let events = SearchEquivalenceTests.events()
        for start in stride(from: 0, to: events.count, by: 60) { try await fixture.ingest(Array(events[start..<min(start + 60, events.count)])) }
        let database = try #require(fixture.postgres)
        let engine = PostgresEngine(database: database)
        let conditions: [IndexCondition] = [.booking(departure: nil, salesperson: nil, transport: nil, hotel: "hotel donostia")]
        func found(_ index: PostgresSearchIndex) async throws -> [CustomerID] {
            try await engine.read { statements in try index.withCurrentIndex(statements, database: database) { $0.customers(matching: conditions) } }
        }
        let twoConnections = try await found(PostgresSearchIndex(parallelFromBytes: 0))
        let oneConnection = try await found(PostgresSearchIndex(parallelFromBytes: 0, bookingsConnection: { _ in throw Refused() }))
        let small = try await found(PostgresSearchIndex())
        #expect(!twoConnections.isEmpty)
        #expect(oneConnection == twoConnections && small == twoConnections)
    }
}
