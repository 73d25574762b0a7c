import GRDB
import PatronDomain

/// The WHERE clause, built condition by condition with its arguments in order. A clause names
/// the customer id as `{id}`: `c.id`, or `s.customer_id` when it is counted on the search
/// table alone. The word index is asked once, for all word and tag conditions together, last.
struct SearchFilter {
    static let live = "c.merged_into IS NULL AND c.erased_at IS NULL"
    private static let wordIndex = "\(SearchWordsSchema.table) WHERE \(SearchWordsSchema.table) MATCH ?"
    private var clauses: [String] = []
    private var clauseArguments: StatementArguments = []
    /// The word index queries, AND-ed into one.
    private var wordQueries: [String] = []
    /// Some clause reads `customers` (`c.`), not only the search row and indexes by id.
    private(set) var readsCustomers = false
    /// Some clause reads the search row (`s.`).
    private(set) var readsSearchRow = false

    /// The conditions of a request, combined.
    init(_ conditions: [CustomerSearch.Condition], db: Database) throws {
        for condition in conditions { try add(condition, db: db) }
    }

    /// Some condition asks the word index.
    var readsWordIndex: Bool { !wordQueries.isEmpty }

    /// Every condition is a word or tag: the word index alone answers (it holds live customers only).
    private var onlyWords: Bool { clauses.isEmpty && readsWordIndex }

    var arguments: StatementArguments {
        wordQueries.isEmpty ? clauseArguments : clauseArguments + [wordQueries.map { "(\($0))" }.joined(separator: " AND ")]
    }

    func sql(id: String) -> String {
        let all = clauses + (wordQueries.isEmpty ? [] : ["{id} IN (SELECT rowid FROM \(Self.wordIndex))"])
        return all.isEmpty ? "1" : all.joined(separator: " AND ").replacingOccurrences(of: "{id}", with: id)
    }

    /// The matching customers (`FROM …`), reading as little as it can: the search table and
    /// the word index hold live customers only, so a filter on them (or on indexes by
    /// customer id) is answered there without looking up each match in `customers` to see
    /// whether it is live; a filter on `customers` alone is answered by its partial indexes
    /// of live customers.
    var matches: String {
        if onlyWords { return Self.wordIndex }
        return switch (readsCustomers, readsSearchRow) {
        case (false, _): "customer_search s WHERE \(sql(id: "s.customer_id"))"
        case (true, false): "customers c WHERE \(Self.live) AND \(sql(id: "c.id"))"
        case (true, true): "customers c JOIN customer_search s ON s.customer_id = c.id WHERE \(Self.live) AND \(sql(id: "c.id"))"
        }
    }

    /// The customer id column of ``matches``.
    var id: String { onlyWords ? "rowid" : readsCustomers ? "c.id" : "s.customer_id" }

    mutating func add(_ clause: String, _ values: [(any DatabaseValueConvertible)?] = []) {
        clauses.append(clause)
        clauseArguments += StatementArguments(values)
        readsCustomers = readsCustomers || clause.range(of: #"\bc\."#, options: .regularExpression) != nil
        readsSearchRow = readsSearchRow || clause.range(of: #"\bs\."#, options: .regularExpression) != nil
    }

    mutating func add(_ condition: CustomerSearch.Condition, db: Database) throws {
        switch condition {
        case .customerNo(let number):
            add("{id} = ?", [try SQLiteRecordTransaction(db: db).customer(numbered: number) ?? -1])
        case .words(let field, let words):
            if let match = SearchWordsSchema.query(columns: field.indexedColumns, words: words) { wordQueries.append(match) }
            // A one-letter word has no trigram: the matches' search rows are scanned for it.
            for word in words where word.count < 2 {
                let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_")
                add("(s.\(field.rawValue) LIKE ? ESCAPE '\\' OR s.\(field.rawValue) LIKE ? ESCAPE '\\')", [escaped + "%", "% " + escaped + "%"])
            }
        case .city(let city): add("s.city = ?", [city])
        case .zip(let zip): add("s.zip = ?", [zip])
        case .tag(let tag):
            wordQueries.append(SearchWordsSchema.query(column: "tags", phrase: "\u{1F}" + tag + "\u{1F}"))
        case .group(let name):
            if let automatic = AutomaticGroup.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) {
                add("c.auto_group = ?", [automatic.rawValue])
            } else {
                add("c.custom_group_id = (SELECT id FROM customer_groups WHERE name = ?)", [name])
            }
        case .email(let key):
            add("{id} IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'email' AND key = ?)", [key])
        case .phone(let e164):
            add("{id} IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", [e164])
        case .country(let code): add("c.country = ?", [code])
        case .language(let language): add("c.language = ? COLLATE NOCASE", [language])
        case .newsletter(let optedIn): add(optedIn ? "c.newsletter = 1" : "coalesce(c.newsletter, 0) = 0")
        case .firstContact(let range): add("c.first_contact_at BETWEEN ? AND ?", [range.lowerBound.microseconds, range.upperBound.microseconds])
        case .lastOrder(let range): add("c.last_order_at BETWEEN ? AND ?", [range.lowerBound.microseconds, range.upperBound.microseconds])
        case .orders(let range): add("c.orders BETWEEN ? AND ?", [range.lowerBound, range.upperBound])
        case .spent(let range, let currency) where range.lowerBound > 0:
            // Customers with no spend in the currency (0) are out: read the spend index.
            add("{id} IN (SELECT customer_id FROM customer_spend WHERE currency = ? AND total_minor BETWEEN ? AND ?)",
                [currency, range.lowerBound, range.upperBound])
        case .spent(let range, let currency):
            add("coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?), 0) BETWEEN ? AND ?",
                [currency, range.lowerBound, range.upperBound])
        case .booking(let departure, let salesperson, let transport, let hotel):
            var on = ["b.customer_id IS NOT NULL"]
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
            // Not correlated, so SQLite reads the matching bookings once through their index.
            add("{id} IN (SELECT b.customer_id FROM bookings b WHERE \(on.joined(separator: " AND ")))", values)
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
