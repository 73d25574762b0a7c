import GRDB
import PatronDomain

/// The WHERE clause, built condition by condition with its arguments in order. A clause names
/// the customer id as `{id}`: `c.id`, or `s.customer_id` when it is counted on the search
/// table alone. The word index is asked once, for all word and tag conditions together, last.
struct SearchFilter {
    static let live = "c.merged_into IS NULL AND c.erased_at IS NULL"
    /// ``live`` on `customers` without an alias: the condition of its partial indexes.
    static let liveColumns = "merged_into IS NULL AND erased_at IS NULL"
    private static let wordIndex = "\(SearchWordsSchema.table) WHERE \(SearchWordsSchema.table) MATCH ?"
    private var clauses: [String] = []
    /// Each clause as a condition on one customer (`{id}`) that reads only that customer's rows,
    /// where that differs from the clause: cheaper when a walk tests few customers.
    private var correlatedClauses: [String] = []
    /// The live customers the one clause selects, as a subquery that lists each once
    /// (`customer_id`), when that clause names its customers in an index of its own rows.
    private var ownerList: String?
    private var clauseArguments: StatementArguments = []
    /// The word index queries, AND-ed into one.
    private var wordQueries: [String] = []
    /// The same word and tag conditions as substring tests of one customer's search row (the
    /// word index finds exactly those rows: the fixtures' consistency check compares the two),
    /// with their arguments.
    private var wordTests: [String] = []
    private var wordTestArguments: StatementArguments = []
    /// Some clause reads `customers` (`c.`), not only the search row and indexes by id.
    private(set) var readsCustomers = false
    /// Some clause reads the search row (`s.`).
    private(set) var readsSearchRow = false

    /// Per clause, the same condition tested in the partial index of live customers on its
    /// column, where there is one (``liveIndexed(_:index:)``).
    private var liveIndexClauses: [String?] = []
    /// Per clause, the same condition on a row of the segment counts (``SegmentSchema``), where
    /// its field is a segment field.
    private var segmentClauses: [String?] = []

    /// The total as a sum of segment counts, when every condition is on a segment field.
    var segmentTotal: String? {
        guard !clauses.isEmpty, !readsWordIndex, segmentClauses.allSatisfy({ $0 != nil }) else { return nil }
        return "SELECT coalesce(sum(customers), 0) FROM \(SegmentSchema.table) WHERE \(segmentClauses.compactMap { $0 }.joined(separator: " AND "))"
    }

    /// The conditions of a request, combined.
    init(_ conditions: [CustomerSearch.Condition], db: Database) throws {
        for condition in conditions { try add(condition, db: db) }
        testCustomerColumnsInTheirIndexes()
    }

    /// When another condition selects the candidates (the search row's city or zip, the word
    /// index, an identifier, bookings or spend), a condition on a column of `customers` is tested
    /// in that column's partial index of live customers rather than in the customer's row: the
    /// index is a few MB, the rows hundreds. patron-bench search, 1M customers: a city with
    /// newsletter yes counted 18,500 of 55,600 in 51–68 ms through the rows, 25 ms through the
    /// index. Alone, such conditions are counted in their index as before.
    private mutating func testCustomerColumnsInTheirIndexes() {
        let selectsElsewhere = readsWordIndex || clauses.contains { !Self.clause($0, reads: "c") }
        guard selectsElsewhere, liveIndexClauses.contains(where: { $0 != nil }) else { return }
        for (offset, narrow) in liveIndexClauses.enumerated() {
            guard let narrow else { continue }
            clauses[offset] = narrow
            correlatedClauses[offset] = narrow
        }
        readsCustomers = clauses.contains { Self.clause($0, reads: "c") }
    }

    /// The clause names a column of the table aliased `alias` (`c.` customers, `s.` search row).
    private static func clause(_ clause: String, reads alias: String) -> Bool {
        clause.range(of: "\\b\(alias)\\.", options: .regularExpression) != nil
    }

    /// `condition` (on `n`, a live customer) tested for the customer `{id}` in `index`.
    private static func liveIndexed(_ condition: String, index: String) -> String {
        "EXISTS (SELECT 1 FROM customers n INDEXED BY \(index) WHERE n.id = {id} AND \(condition) AND n.merged_into IS NULL AND n.erased_at IS NULL)"
    }

    /// Some condition asks the word index.
    var readsWordIndex: Bool { !wordQueries.isEmpty }

    /// Every condition is a word or tag: the word index alone answers (it holds live customers only).
    private var onlyWords: Bool { clauses.isEmpty && readsWordIndex }

    /// The city and zip values, when those equalities (on the search row's own indexes) are the
    /// only clauses besides words.
    private var indexedSearchRowValues: [String] = []

    /// A search by words and tags, with at most the search row's indexed equalities (city, zip):
    /// the word index query, and those equalities as a WHERE clause on `customer_search s` with
    /// their values (nil when there are none).
    var wordsWithIndexedSearchRow: (words: String, clause: (sql: String, values: [String])?)? {
        guard readsWordIndex, clauses.count == indexedSearchRowValues.count else { return nil }
        if clauses.isEmpty { return (wordQuery, nil) }
        return (wordQuery, (sql(id: "s.customer_id", words: false), indexedSearchRowValues))
    }

    private var wordQuery: String { wordQueries.map { "(\($0))" }.joined(separator: " AND ") }

    var arguments: StatementArguments { arguments(correlated: false) }

    /// The arguments of ``sql(id:correlated:)``.
    func arguments(correlated: Bool) -> StatementArguments {
        if wordQueries.isEmpty { return clauseArguments }
        return clauseArguments + (correlated ? wordTestArguments : [wordQuery])
    }

    /// Some clause reads the search row when tested per customer (word tests do).
    func readsSearchRow(correlated: Bool) -> Bool { readsSearchRow || (correlated && !wordQueries.isEmpty) }

    /// The conditions on the customer id `id`; `correlated`: each tested for that one customer.
    func sql(id: String, correlated: Bool = false, words includesWords: Bool = true) -> String {
        let words = wordQueries.isEmpty || !includesWords ? [] : correlated ? wordTests : ["{id} IN (SELECT rowid FROM \(Self.wordIndex))"]
        let all = (correlated ? correlatedClauses : clauses) + words
        return all.isEmpty ? "1" : all.joined(separator: " AND ").replacingOccurrences(of: "{id}", with: id)
    }

    /// The matching customers (`FROM …`), reading as little as it can: the search table and
    /// the word index hold live customers only, so a filter on them (or on indexes by
    /// customer id) is answered there without looking up each match in `customers` to see
    /// whether it is live; a filter on `customers` alone is answered by its partial indexes
    /// of live customers.
    var matches: String {
        if onlyWords { return Self.wordIndex }
        // The owners of the matching bookings or spend, in one index range.
        if let owners = ownersOfOnlyClause { return "\(owners) d" }
        return switch (readsCustomers, readsSearchRow) {
        case (false, _): "customer_search s WHERE \(sql(id: "s.customer_id"))"
        case (true, false): "customers c WHERE \(Self.live) AND \(sql(id: "c.id"))"
        case (true, true): "customers c JOIN customer_search s ON s.customer_id = c.id WHERE \(Self.live) AND \(sql(id: "c.id"))"
        }
    }

    /// The customer id column of ``matches``.
    var id: String {
        if ownersOfOnlyClause != nil { return "d.customer_id" }
        return onlyWords ? "rowid" : readsCustomers ? "c.id" : "s.customer_id"
    }

    /// ``ownerList`` when its clause is the filter's only condition.
    private var ownersOfOnlyClause: String? { clauses.count == 1 && wordQueries.isEmpty ? ownerList : nil }

    /// Whether a walk should test each walked customer with the correlated clauses: when a
    /// filter reads bookings, spend or words and the walk is short next to the matches. Listing
    /// the matching bookings' owners costs about 0.3 µs per booking, testing one customer's
    /// bookings about 5 µs (patron-bench search, 1M customers: one salesperson's 250,000
    /// bookings listed for a page of 51 walked about 1,000 customers).
    func correlates(walking budget: Int, matches: Int) -> Bool {
        (correlatedClauses != clauses || !wordQueries.isEmpty) && budget * 16 < matches
    }

    mutating func add(_ clause: String, _ values: [(any DatabaseValueConvertible)?] = [], correlated: String? = nil,
                      liveIndex: (condition: String, index: String)? = nil, segment: String? = nil) {
        clauses.append(clause)
        correlatedClauses.append(correlated ?? clause)
        liveIndexClauses.append(liveIndex.map { Self.liveIndexed($0.condition, index: $0.index) })
        segmentClauses.append(segment)
        clauseArguments += StatementArguments(values)
        readsCustomers = readsCustomers || Self.clause(clause, reads: "c")
        readsSearchRow = readsSearchRow || Self.clause(clause, reads: "s")
    }

    mutating func add(_ condition: CustomerSearch.Condition, db: Database) throws {
        switch condition {
        case .customerNo(let number):
            add("{id} = ?", [try SQLiteRecordTransaction(db: db).customer(numbered: number) ?? -1])
        case .words(let field, let words):
            if let match = SearchWordsSchema.query(columns: field.indexedColumns, words: words) {
                wordQueries.append(match)
                for word in words where word.count >= 2 {
                    // As indexed: each value behind a space; a two-letter word starts a word.
                    let needle = word.count == 2 ? " " + word : word
                    wordTests.append("(" + field.indexedColumns.map { "instr(' ' || s.\($0), ?) > 0" }.joined(separator: " OR ") + ")")
                    wordTestArguments += StatementArguments(Array(repeating: needle, count: field.indexedColumns.count))
                }
            }
            // A one-letter word has no trigram: the matches' search rows are scanned for it.
            for word in words where word.count < 2 {
                let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_")
                add("(s.\(field.rawValue) LIKE ? ESCAPE '\\' OR s.\(field.rawValue) LIKE ? ESCAPE '\\')", [escaped + "%", "% " + escaped + "%"])
            }
        case .city(let city):
            add("s.city = ?", [city], segment: "city = ?")
            indexedSearchRowValues.append(city)
        case .zip(let zip):
            add("s.zip = ?", [zip])
            indexedSearchRowValues.append(zip)
        case .tag(let tag):
            wordQueries.append(SearchWordsSchema.query(column: "tags", phrase: "\u{1F}" + tag + "\u{1F}"))
            wordTests.append("instr(s.tags, ?) > 0")
            wordTestArguments += ["\u{1F}" + tag + "\u{1F}"]
        case .group(let name):
            // The group the customer's summary shows: a custom one set by staff, else the automatic
            // one; its name whole, ignoring case and accents (EVENTS.md).
            if let automatic = AutomaticGroup.allCases.first(where: { SearchText.fold($0.name) == SearchText.fold(name) }) {
                add("c.auto_group = ? AND c.custom_group_id IS NULL", [automatic.rawValue],
                    liveIndex: ("n.auto_group = ? AND n.custom_group_id IS NULL", "customers_auto_group"),
                    segment: "auto_group = ? AND custom_group_id = 0")
            } else {
                add("c.custom_group_id IN (SELECT id FROM customer_groups WHERE patron_fold(name) = ?)", [SearchText.fold(name)],
                    segment: "custom_group_id IN (SELECT id FROM customer_groups WHERE patron_fold(name) = ?)")
            }
        case .email(let key):
            add("{id} IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'email' AND key = ?)", [key])
        case .phone(let e164):
            add("{id} IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", [e164])
        case .country(let code): add("c.country = ?", [code], liveIndex: ("n.country = ?", "customers_country"), segment: "country = ?")
        case .language(let language):
            add("c.language = ? COLLATE NOCASE", [language], liveIndex: ("n.language = ? COLLATE NOCASE", "customers_language"),
                segment: "language = ?")
        case .newsletter(true): add("c.newsletter = 1", liveIndex: ("n.newsletter = 1", "customers_newsletter"), segment: "newsletter = 1")
        case .newsletter(false): add("coalesce(c.newsletter, 0) = 0", segment: "newsletter IN (0, -1)")
        case .firstContact(let range): add("c.first_contact_at BETWEEN ? AND ?", [range.lowerBound.microseconds, range.upperBound.microseconds])
        case .lastOrder(let range):
            // The expression of the last-order index (LastOrderSortSchema): newest first.
            // A range open at its start (`last_order_to` alone) starts at Int64.min, which has no
            // negation; it ends before Int64.max, the key of customers without an order.
            let newest = range.lowerBound.microseconds == .min ? Int64.max - 1 : -range.lowerBound.microseconds
            add("\(LastOrderSortSchema.key(of: "c.")) BETWEEN ? AND ?", [-range.upperBound.microseconds, newest])
        case .orders(let range): add("c.orders BETWEEN ? AND ?", [range.lowerBound, range.upperBound])
        case .spent(let range, let currency) where range.lowerBound > 0:
            // Customers with no spend in the currency (0) are out: read the spend index, which
            // holds live owners (LiveSpendOwnerSchema); one row per customer and currency.
            let condition = "p.live_customer_id IS NOT NULL AND p.currency = ? AND p.total_minor BETWEEN ? AND ?"
            ownerList = "(SELECT p.live_customer_id AS customer_id FROM customer_spend p WHERE \(condition))"
            add("{id} IN (SELECT p.live_customer_id FROM customer_spend p WHERE \(condition))", [currency, range.lowerBound, range.upperBound],
                correlated: "EXISTS (SELECT 1 FROM customer_spend p WHERE p.customer_id = {id} AND \(condition))")
        case .spent(let range, let currency):
            add("coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?), 0) BETWEEN ? AND ?",
                [currency, range.lowerBound, range.upperBound])
        case .booking(let departure, let salesperson, let transport, let hotel):
            var on = ["b.live_customer_id IS NOT NULL"]
            var values: [(any DatabaseValueConvertible)?] = []
            if let departure {
                on.append("b.departure BETWEEN ? AND ?")
                values += [departure.lowerBound, departure.upperBound]
            }
            for (column, value) in [("salesperson_key", salesperson), ("transport_key", transport), ("hotel_key", hotel)] {
                guard let value else { continue }
                on.append("b.\(column) = ?")
                values.append(value)
            }
            // Not correlated, so SQLite reads the matching bookings once through their index,
            // which holds their live owners (LiveBookingOwnerSchema).
            let condition = on.joined(separator: " AND ")
            ownerList = "(SELECT DISTINCT b.live_customer_id AS customer_id FROM bookings b WHERE \(condition))"
            add("{id} IN (SELECT b.live_customer_id FROM bookings b WHERE \(condition))", values,
                correlated: "EXISTS (SELECT 1 FROM bookings b WHERE b.customer_id = {id} AND \(condition))")
        }
    }
}

private extension CustomerSearch.WordField {
    /// The columns of the word index that hold this field: a name is a first or a last name.
    var indexedColumns: [String] {
        switch self {
        case .name: ["first_name", "last_name"]
        case .firstName: ["first_name"]
        case .lastName: ["last_name"]
        case .company: ["company"]
        case .contact: ["contact"]
        case .address: ["address"]
        }
    }
}
