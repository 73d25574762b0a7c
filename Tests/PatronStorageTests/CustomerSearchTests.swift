import Foundation
import GRDB
import PatronDomain
import PatronStorage
import Testing

/// Every search filter alone and combined, sorting and paging, on records built by real events;
/// the filters, sorts and pages on both engines, SQLite's index walks on SQLite.
struct CustomerSearchTests {
    /// Seven customers with the fields the filters read.
    static func fixture(_ engine: Engine = .sqlite) async throws -> RecordsFixture {
        let fixture = try await RecordsFixture.open(engine)
        func person(_ number: String, _ fields: String) -> String { #"{"customer_no":"\#(number)",\#(fields)}"# }
        try await fixture.ingest([
            Events.booking("e1", minute: 1, customer: person("C-1", #""first_name":"Ana María","last_name":"García","email":"ana@example.com","mobile":"600111222","company":"Acme SL","address":{"line1":"Calle Mayor 1","city":"Donostia","zip":"20001","country":"ES"},"language":"es","newsletter":true,"tags":["VIP"]"#),
                           ref: "BK-1", amount: "\"412.50\""),
            Events.booking("e2", minute: 2, customer: person("C-2", #""first_name":"Luis","last_name":"Garcés","email":"luis@example.com","address":{"city":"San Sebastián","country":"Spain"},"language":"es","newsletter":false"#),
                           ref: "BK-2", amount: "\"90.00\""),
            Events.profile("e3", minute: 3, person("C-3", #""first_name":"Øyvind","last_name":"Berg","email":"oyvind@example.no","phone":"+47 22 33 44 55","address":{"city":"Oslo","country":"NO"},"language":"nb","contact":"Kari Berg""#)),
            Events.profile("e4", minute: 4, person("C-4", #""first_name":"Zoë","last_name":"Smith","email":"zoe@example.co.uk","address":{"city":"London","country":"GB"},"language":"en-GB","tags":["Business"]"#)),
            Events.booking("e5", minute: 5, customer: person("C-5", #""first_name":"Ana","last_name":"Ruiz","email":"ruiz@example.com","address":{"city":"Donostia"}"#),
                           ref: "BK-5", amount: "\"1000.00\""),
            Events.booking("e6", minute: 6, customer: person("C-5", #""email":"ruiz@example.com""#), ref: "BK-6", amount: "\"20.00\""),
            Events.profile("e7", minute: 7, person("C-7", #""first_name":"李","last_name":"小龙","email":"li@example.cn""#)),
            Events.profile("e8", minute: 8, person("C-8", #""first_name":"Robert'); DROP TABLE customers;--","email":"bobby@example.com""#)),
        ])
        // Booking details the shared booking builder does not set, with the folded keys the record rules would write.
        try await fixture.run("UPDATE bookings SET salesperson = 'María', salesperson_key = 'maria', transport = 'flight', transport_key = 'flight', "
                              + "departure = '2026-12-04' WHERE ref = 'BK-1'")
        try await fixture.run("UPDATE bookings SET salesperson = 'Jon', salesperson_key = 'jon', transport = 'train', transport_key = 'train', "
                              + "departure = '2027-01-10' WHERE ref = 'BK-5'")
        return fixture
    }

    struct Phones: PhoneNormalizer {
        func e164(_ text: String, defaultRegion: String) -> String? {
            let digits = text.filter(\.isNumber)
            if text.hasPrefix("+") { return "+" + digits }
            return digits.count == 9 ? "+34" + digits : nil
        }
    }

    /// `on`: another replica's search (PostgreSQL), else the fixture's.
    static func search(_ fixture: RecordsFixture, _ args: [String: JSONValue], rules: RecordRules = RecordRules(),
                       on source: (any CustomerSearchSource)? = nil) async throws -> SearchPage {
        let request = try CustomerSearch.parse(CommandArguments(args), phones: Phones(), rules: rules)
        return try await (source ?? fixture.stores.search).search(request)
    }

    static func numbers(_ page: SearchPage) -> [String] { page.customers.compactMap { $0["customer_no"]?.stringValue } }

    /// Every page of a search, cursor after cursor: the customer numbers in order, and each page's total.
    static func allPages(_ fixture: RecordsFixture, _ args: [String: JSONValue], rules: RecordRules = RecordRules(),
                         on source: (any CustomerSearchSource)? = nil) async throws -> (numbers: [String], totals: [Int]) {
        var numbers: [String] = []
        var totals: [Int] = []
        var cursor: JSONValue?
        repeat {
            var pageArgs = args
            if let cursor { pageArgs["cursor"] = cursor }
            let page = try await search(fixture, pageArgs, rules: rules, on: source)
            numbers += Self.numbers(page)
            totals.append(page.total)
            cursor = page.nextCursor.map(JSONValue.string)
        } while cursor != nil
        return (numbers, totals)
    }

    /// The word index takes a transaction's changes from its queue at the end of the
    /// transaction, in order: a customer created and renamed in one batch is found by the new
    /// name only, one created and erased in it by neither; a tag added in the staff edits' path
    /// (`change`) and a rename in the shared stores' path (`SQLiteEngine.write`) are found at once.
    @Test func wordsChangedWithinOneTransactionAreSearchableAfterIt() async throws {
        let fixture = try await RecordsFixture.open(.sqlite)
        try await fixture.ingest([
            Events.profile("q1", minute: 1, #"{"customer_no":"C-1","first_name":"Zoe","last_name":"Xylophone","email":"zoe@example.com"}"#),
            Events.profile("q2", minute: 2, #"{"customer_no":"C-1","last_name":"Yodel"}"#),
            Events.profile("q3", minute: 3, #"{"customer_no":"C-2","first_name":"Quentin","last_name":"Vanishing","email":"q@example.com"}"#),
            Events.make("q4", "customer.erasure_requested", minute: 4, #"{"customer":{"email":"q@example.com"}}"#),
        ])
        func found(_ words: String) async throws -> [String] { Self.numbers(try await Self.search(fixture, ["name": .string(words)])) }
        #expect(try await found("yodel") == ["C-1"])
        #expect(try await found("xylophone") == [])
        #expect(try await found("vanishing") == [])
        #expect(try await found("quentin") == [])
        let zoe = try await StaffEditTests.id(fixture, "C-1")
        try await fixture.store.change { applier, records in try applier.tag(zoe, "Warbler", store: records) }
        #expect(Self.numbers(try await Self.search(fixture, ["tag": .string("warbler")])) == ["C-1"])
        try await fixture.run("UPDATE customers SET last_name = 'Ukulele' WHERE customer_no = 'C-1'")
        #expect(try await found("ukulele") == ["C-1"])
        #expect(try await found("yodel") == [])
        #expect(try await fixture.searchIndexDisagreements() == [])
    }

    /// The triggers' `patron_fold` (SQLite's C API on the bytes) is ``SearchText/fold(_:)``;
    /// NULL stays NULL, and text that folds to nothing is empty, not NULL.
    @Test func foldInSQLIsTheSearchFold() async throws {
        let fixture = try await RecordsFixture.open(.sqlite)
        for text in ["  GARCÍA  López ", "Παπαδόπουλος", "Ǆemal Straße", "Jose\u{301}", "plain", " \t ", ""] {
            let folded = try await fixture.read { try String.fetchOne($0, sql: "SELECT patron_fold(?)", arguments: [text]) }
            #expect(folded == SearchText.fold(text), "\(text)")
        }
        #expect(try await fixture.read { try DatabaseValue.fetchOne($0, sql: "SELECT patron_fold(NULL)") } == .null)
    }

    /// EVENTS.md, "Definitions": periods are whole days on the business's zone. A guest who first
    /// wrote and booked at 23:30 UTC on 1 March did so on 2 March in Madrid.
    @Test(arguments: Engine.allCases) func dateFiltersAreWholeDaysOnTheBusinessClock(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        func event(_ id: String, _ type: String, _ time: String, _ data: String) -> String {
            #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(time)","source":"test","data":\#(data)}"#
        }
        try await fixture.ingest([
            event("late", "booking.created", "2026-03-01T23:30:00Z",
                  #"{"customer":{"customer_no":"C-1","email":"late@example.com"},"booking":{"ref":"BK-1","status":"confirmed","amount":"10.00"}}"#),
            event("early", "booking.created", "2026-03-02T12:00:00Z",
                  #"{"customer":{"customer_no":"C-2","email":"early@example.com"},"booking":{"ref":"BK-2","status":"confirmed","amount":"10.00"}}"#),
        ])
        var madrid = RecordRules()
        madrid.businessZone = TimeZone(identifier: "Europe/Madrid")!
        for name in ["first_contact", "last_order"] {
            let secondOfMarch: [String: JSONValue] = ["\(name)_from": .string("2026-03-02"), "\(name)_to": .string("2026-03-02")]
            let firstOfMarch: [String: JSONValue] = ["\(name)_from": .string("2026-03-01"), "\(name)_to": .string("2026-03-01")]
            #expect(Set(Self.numbers(try await Self.search(fixture, secondOfMarch, rules: madrid))) == ["C-1", "C-2"], "\(name)")
            #expect(Self.numbers(try await Self.search(fixture, firstOfMarch, rules: madrid)) == [], "\(name)")
            #expect(Self.numbers(try await Self.search(fixture, firstOfMarch)) == ["C-1"], "\(name), UTC")
        }
    }

    @Test(arguments: Engine.allCases) func everyFilterAloneAndCombined(engine: Engine) async throws {
        let fixture = try await Self.fixture(engine)
        let cases: [([String: JSONValue], [String])] = [
            (["last_name": .string("garc")], ["C-2", "C-1"]),
            (["last_name": .string("arcí")], ["C-1"]),
            (["name": .string("ana garcia")], ["C-1"]),
            (["name": .string("ma")], ["C-1"]),
            // Two letters match the start of a word, in the field asked for; one letter too.
            (["name": .string("ar")], []),
            (["last_name": .string("GA")], ["C-2", "C-1"]),
            (["first_name": .string("ga")], []),
            (["first_name": .string("ma")], ["C-1"]),
            (["name": .string("a r")], ["C-5"]),
            (["last_name": .string("小龙")], ["C-7"]),
            (["name": .string("ana \"garcia")], []),
            (["first_name": .string("ØYVIND")], ["C-3"]),
            (["first_name": .string("李")], ["C-7"]),
            (["first_name": .string("'); DROP")], ["C-8"]),
            (["company": .string("acme")], ["C-1"]),
            (["contact": .string("kari")], ["C-3"]),
            (["address": .string("mayor")], ["C-1"]),
            (["city": .string("DONOSTIA")], ["C-1", "C-5"]),
            (["city": .string("san sebastian")], ["C-2"]),
            (["city": .string("donos")], []),
            (["zip": .string("20001")], ["C-1"]),
            (["country": .string("Spain")], ["C-2", "C-1"]),
            (["country": .string("no")], ["C-3"]),
            (["language": .string("en-gb")], ["C-4"]),
            (["email": .string("ANA@example.com")], ["C-1"]),
            (["phone": .string("600 111 222")], ["C-1"]),
            (["mobile": .string("+34 600111222")], ["C-1"]),
            (["phone": .string("+4722334455")], ["C-3"]),
            (["customer_no": .string("C-4")], ["C-4"]),
            (["newsletter": .bool(true)], ["C-1"]),
            (["tag": .string("vip")], ["C-1"]),
            (["group": .string("guest")], ["C-2", "C-1", "C-5"]),
            (["group": .string("Visitor")], ["C-3", "C-8", "C-4", "C-7"]),
            (["orders_min": .integer(2)], ["C-5"]),
            (["orders_max": .integer(0)], ["C-3", "C-8", "C-4", "C-7"]),
            (["spent_min": .string("100"), "currency": .string("eur")], ["C-1", "C-5"]),
            (["spent_max": .string("100.00")], ["C-2", "C-3", "C-4", "C-7", "C-8"]),
            (["hotel": .string("hotel donostia")], ["C-2", "C-1", "C-5"]),
            (["salesperson": .string("maria")], ["C-1"]),
            (["salesperson": .string("maria"), "transport": .string("train")], []),
            (["departure_from": .string("2027-01-01"), "departure_to": .string("2027-01-10")], ["C-5"]),
            (["first_contact_from": .string("2026-11-20"), "first_contact_to": .string("2026-11-20")], ["C-2", "C-1", "C-3", "C-5", "C-8", "C-4", "C-7"]),
            (["last_order_from": .string("2026-11-21")], []),
            // Open at its start: SQLite negated Int64.min for the last-order index and crashed.
            (["last_order_to": .string("2026-11-20")], ["C-2", "C-1", "C-5"]),
            (["city": .string("Donostia"), "newsletter": .bool(false)], ["C-5"]),
            // A customer column next to a condition that selects elsewhere is tested in its index.
            (["city": .string("Donostia"), "newsletter": .bool(true)], ["C-1"]),
            (["city": .string("donostia"), "group": .string("guest"), "language": .string("ES")], ["C-1"]),
            (["name": .string("ana"), "country": .string("ES")], ["C-1"]),
            (["zip": .string("20001"), "country": .string("es"), "newsletter": .bool(true), "group": .string("Guest")], ["C-1"]),
            (["email": .string("ruiz@example.com"), "country": .string("ES")], []),
            (["tag": .string("business"), "language": .string("en-gb")], ["C-4"]),
            (["name": .string("ana"), "orders_min": .integer(1), "tag": .string("VIP")], ["C-1"]),
            // Word and tag conditions alone are one question to the word index, each in its columns.
            (["first_name": .string("garc")], []),
            (["first_name": .string("ana"), "last_name": .string("ruiz")], ["C-5"]),
            (["name": .string("ana"), "tag": .string("VIP")], ["C-1"]),
            (["name": .string("ana"), "tag": .string("business")], []),
            (["tag": .string("vip"), "company": .string("acme"), "city": .string("donostia")], ["C-1"]),
            (["name": .string("a"), "tag": .string("vip")], ["C-1"]),
        ]
        for (args, expected) in cases {
            let page = try await Self.search(fixture, args)
            #expect(Set(Self.numbers(page)) == Set(expected), "\(args)")
            #expect(page.total == expected.count, "\(args)")
        }
        let ana = try await Self.search(fixture, ["customer_no": .string("C-1")]).customers.first
        #expect(ana?["total_spent"] == .object(["EUR": .string("412.50")]))
        #expect(ana?["tags"] == .array([.string("VIP")]))
        #expect(ana?["group"] == .string("Guest"))
    }

    @Test func badArgumentsNameTheirField() async throws {
        let fixture = try await Self.fixture()
        let cases: [([String: JSONValue], String)] = [
            (["citty": .string("x")], "args.citty"), (["country": .string("Atlantis")], "args.country"), (["email": .string("x")], "args.email"),
            (["phone": .string("12")], "args.phone"), (["newsletter": .string("yes")], "args.newsletter"), (["orders_min": .integer(-1)], "args.orders_min"),
            (["spent_min": .string("1.234")], "args.spent_min"), (["departure_from": .string("2027-02-30")], "args.departure_from"),
            (["first_contact_from": .string("2026-12-01"), "first_contact_to": .string("2026-11-01")], "args.first_contact_to"),
            (["sort": .string("age")], "args.sort"), (["limit": .integer(0)], "args.limit"), (["cursor": .string("not-a-cursor")], "args.cursor"),
            (["currency": .string("EURO")], "args.currency"), (["language": .string("español")], "args.language"),
        ]
        for (args, field) in cases {
            do {
                _ = try await Self.search(fixture, args)
                Issue.record("\(args) accepted")
            } catch let error as CommandError {
                #expect(error.code == .invalidArgument, "\(args)")
                #expect(error.field == field, "\(args)")
            }
        }
    }

    @Test(arguments: Engine.allCases, CustomerSearch.Sort.allCases)
    func pagesFollowEachOtherWithoutGapOrRepeatWhileIngestAdds(engine: Engine, _ sort: CustomerSearch.Sort) async throws {
        let fixture = try await Self.fixture(engine)
        let all = Self.numbers(try await Self.search(fixture, ["sort": .string(sort.rawValue), "limit": .integer(100)]))
        #expect(all.count == 7)
        var seen: [String] = []
        var cursor: JSONValue?
        var round = 0
        repeat {
            var args: [String: JSONValue] = ["sort": .string(sort.rawValue), "limit": .integer(3)]
            if let cursor { args["cursor"] = cursor }
            let page = try await Self.search(fixture, args)
            seen += Self.numbers(page)
            cursor = page.nextCursor.map(JSONValue.string)
            // Ingest between pages: new customers, some sorting before and some after the cursor.
            round += 1
            try await fixture.ingest(Events.profile("new\(round)", minute: 50 + round, #"{"customer_no":"N-\#(round)","last_name":"Aaron \#(round)"}"#))
        } while cursor != nil
        let original = seen.filter { $0.hasPrefix("C-") }
        #expect(original == all, "\(sort): every customer once, in order")
        #expect(Set(seen).count == seen.count, "\(sort): no repeats")
    }

    @Test(arguments: Engine.allCases) func sortsOrderAsDocumented(engine: Engine) async throws {
        let fixture = try await Self.fixture(engine)
        func first(_ sort: String) async throws -> [String] {
            Array(Self.numbers(try await Self.search(fixture, ["sort": .string(sort), "limit": .integer(3)])))
        }
        #expect(try await first("total_spent") == ["C-5", "C-1", "C-2"])
        #expect(try await first("first_contact") == ["C-1", "C-2", "C-3"])
        #expect(try await first("last_order").first == "C-5")
        #expect(try await first("name").first == "C-3", "Berg before García")
    }

    /// A page sorted by name either walks the name index within a budget (many matches) or sorts
    /// the matches (few, or a walk that ran out of budget because the matches sort last). Both
    /// give the same pages: 89 Latin names in Donostia and Bilbao, 60 Greek ones in Athina after
    /// every Latin name and one Latin one there; a merged-away and an erased customer are in no
    /// page and no total.
    @Test func namePagesAreTheSameWhetherTheIndexIsWalkedOrTheMatchesSorted() async throws {
        let fixture = try await Self.latinAndGreekNames()
        func expected(_ city: String) async throws -> [String] {
            try await fixture.read { db in
                try String.fetchAll(db, sql: """
                    SELECT c.customer_no FROM customers c JOIN customer_search s ON s.customer_id = c.id
                    WHERE c.merged_into IS NULL AND c.erased_at IS NULL AND c.city = ? ORDER BY s.sort_name, c.id
                    """, arguments: [city])
            }
        }
        for (city, count) in [("Donostia", 43), ("Athina", 61), ("Bilbao", 44)] {
            let (seen, totals) = try await Self.allPages(fixture, ["city": .string(city), "limit": .integer(2)])
            #expect(totals.allSatisfy { $0 == count }, "\(city)")
            #expect(seen == (try await expected(city)), "\(city)")
            #expect(seen.count == count, "\(city)")
        }
    }

    /// A search by words (and a city) walks the name index testing ids against the word index's
    /// matches, for as many rows as there are matches, and sorts the matches when that runs
    /// out: the same pages either way. "apellido" matches most rows (the walk finds every page);
    /// "παπαδοπουλος 14" matches ten Greek names, and "παπαδοπουλος" in Athina sixty, that sort
    /// after 88 Latin ones (the first page's walk runs out, the next pages walk on from the
    /// cursor among them); "apellido" in Athina is one.
    @Test func wordPagesAreTheSameWhetherTheIndexIsWalkedOrTheMatchesSorted() async throws {
        let fixture = try await Self.latinAndGreekNames()
        for (words, city, like, count) in [("apellido", nil, "Apellido %", 88), ("παπαδοπουλος 14", nil, "Παπαδόπουλος 14_", 10),
                                           ("παπαδοπουλος", "Athina", "Παπαδόπουλος %", 60), ("apellido", "Athina", "Apellido %", 1),
                                           ("apellido", "Bilbao", "Apellido %", 44)] {
            let expected = try await fixture.read { db in
                try String.fetchAll(db, sql: """
                    SELECT c.customer_no FROM customers c JOIN customer_search s ON s.customer_id = c.id
                    WHERE c.merged_into IS NULL AND c.erased_at IS NULL AND c.last_name LIKE ? AND c.city = coalesce(?, c.city)
                    ORDER BY s.sort_name, c.id
                    """, arguments: [like, city])
            }
            var args: [String: JSONValue] = ["last_name": .string(words), "limit": .integer(2)]
            if let city { args["city"] = .string(city) }
            let (seen, totals) = try await Self.allPages(fixture, args)
            #expect(totals.allSatisfy { $0 == count }, "\(words) \(city ?? "")")
            #expect(seen == expected, "\(words) \(city ?? "")")
            #expect(seen.count == count, "\(words) \(city ?? "")")
        }
        let nobody = try await Self.search(fixture, ["last_name": .string("nadie")])
        #expect(nobody.total == 0 && nobody.customers.isEmpty && nobody.nextCursor == nil)
    }

    /// 90 Latin last names in Donostia and Bilbao, 60 Greek ones in Athina after every Latin name
    /// and one Latin one there; W-6 merged into W-4, and W-8 erased.
    static func latinAndGreekNames() async throws -> RecordsFixture {
        let fixture = try RecordsFixture()
        var events: [String] = []
        for index in 0..<150 {
            let greek = index >= 90
            let last = greek ? "Παπαδόπουλος \(index)" : "Apellido \(index)"
            // Apellido 1 lives in Athina too: a walk's budget then finds it and no more.
            let city = greek || index == 1 ? "Athina" : (index.isMultiple(of: 2) ? "Donostia" : "Bilbao")
            // W-6 has no number of its own, so the bridge below can merge it into W-4.
            let number = index == 6 ? "" : #""customer_no":"W-\#(index)","#
            events.append(Events.profile("p\(index)", minute: 1, #"{\#(number)"email":"w\#(index)@example.com","last_name":"\#(last)","address":{"city":"\#(city)"}}"#))
        }
        events.append(Events.profile("bridge", minute: 2, #"{"customer_no":"W-4","email":"w6@example.com"}"#))
        events.append(Events.make("erase", "customer.erasure_requested", minute: 3, #"{"customer":{"email":"w8@example.com"}}"#))
        try await fixture.ingest(events)
        return fixture
    }

    /// Pages sorted by last order, first contact or spend walk their index when the matches are
    /// many, like names: the same pages as sorting the matches, with ties (same minute, same
    /// amount) in id order, customers without an order last, and a merged-away and an erased
    /// customer nowhere.
    @Test(arguments: [("last_order", "coalesce(-c.last_order_at, 9223372036854775807), c.id"), ("first_contact", "c.first_contact_at, c.id"),
                      ("total_spent", "coalesce((SELECT -total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = 'EUR'), 0), c.id")])
    func otherSortsWalkTheirIndexWithTheSamePages(sort: String, order: String) async throws {
        let fixture = try RecordsFixture()
        var events: [String] = []
        for index in 0..<120 {
            let number = index == 6 ? "" : #""customer_no":"W-\#(index)","#
            let city = index.isMultiple(of: 3) ? "Bilbao" : "Donostia"
            events.append(Events.profile("p\(index)", minute: index % 5, #"{\#(number)"email":"w\#(index)@example.com","address":{"city":"\#(city)"}}"#))
            if !index.isMultiple(of: 4) {
                events.append(Events.booking("b\(index)", minute: 10 + index % 7, customer: #"{"email":"w\#(index)@example.com"}"#, ref: "BK-\(index)",
                                             amount: "\"\(10 + index % 6).00\""))
            }
        }
        events.append(Events.profile("bridge", minute: 30, #"{"customer_no":"W-4","email":"w6@example.com"}"#))
        events.append(Events.make("erase", "customer.erasure_requested", minute: 31, #"{"customer":{"email":"w8@example.com"}}"#))
        try await fixture.ingest(events)
        let expected = try await fixture.read { db in
            try String.fetchAll(db, sql: "SELECT customer_no FROM customers c WHERE merged_into IS NULL AND erased_at IS NULL AND city = 'Donostia' ORDER BY \(order)")
        }
        let (seen, totals) = try await Self.allPages(fixture, ["city": .string("Donostia"), "sort": .string(sort), "limit": .integer(2)])
        #expect(totals.allSatisfy { $0 == expected.count })
        #expect(seen == expected)
        #expect(expected.count == 79)
    }

    /// When a word and a tag match nearly everyone, a page walks the name index: by words alone,
    /// testing ids against the word index's matches; with a country too, testing each walked
    /// customer's search row and country index. The same pages either way, and a merged-away and
    /// an erased customer in none of them.
    @Test(arguments: [nil, "ES"])
    func broadWordSearchTestsWalkedRowsWithTheSamePages(country: String?) async throws {
        let fixture = try RecordsFixture()
        var events: [String] = []
        for index in 0..<300 {
            let last = index.isMultiple(of: 25) ? "Other \(index)" : "Marín \(index)"
            let tags = index % 30 == 7 ? "[]" : #"["VIP"]"#
            let number = index == 6 ? "" : #""customer_no":"W-\#(index)","#
            let place = index % 11 == 3 ? "FR" : "ES"
            events.append(Events.profile("p\(index)", minute: 1,
                                         #"{\#(number)"email":"w\#(index)@example.com","last_name":"\#(last)","tags":\#(tags),"address":{"country":"\#(place)"}}"#))
        }
        events.append(Events.profile("bridge", minute: 2, #"{"customer_no":"W-4","email":"w6@example.com"}"#))
        events.append(Events.make("erase", "customer.erasure_requested", minute: 3, #"{"customer":{"email":"w8@example.com"}}"#))
        try await fixture.ingest(events)
        let expected = try await fixture.read { db in
            try String.fetchAll(db, sql: """
                SELECT c.customer_no FROM customers c JOIN customer_search s ON s.customer_id = c.id
                WHERE c.merged_into IS NULL AND c.erased_at IS NULL AND c.last_name LIKE 'Marín%' AND c.tags = 'VIP'
                AND c.country = coalesce(?, c.country)
                ORDER BY s.sort_name, c.id
                """, arguments: [country])
        }
        var args: [String: JSONValue] = ["name": .string("ma"), "tag": .string("vip"), "limit": .integer(1)]
        if let country { args["country"] = .string(country) }
        let (seen, totals) = try await Self.allPages(fixture, args)
        #expect(totals.allSatisfy { $0 == expected.count })
        #expect(seen == expected)
        #expect(expected.count > 230)
    }
}
