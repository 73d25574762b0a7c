import Foundation
import GRDB
import PatronDomain

/// `customers.search` on SQLite: the request's conditions as one WHERE over live customers and
/// their folded search row, ordered by one key per sort plus the id, so that a page continues
/// strictly after the previous one's last (key, id) however many rows ingest adds meanwhile.
public struct SQLiteCustomerSearch: CustomerSearchSource {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func search(_ request: CustomerSearch) async throws -> SearchPage {
        try await database.pool.read { db in
            let filter = try SearchFilter(request.conditions, db: db)
            let key = Self.sortKey(request.sort)
            if key.walksNameIndex, let (words, clause) = filter.wordsWithIndexedSearchRow {
                return try Self.wordSearch(request, words: words, clause: clause, db: db)
            }
            let total = try Int.fetchOne(db, sql: filter.segmentTotal ?? "SELECT count(*) FROM \(filter.matches)", arguments: filter.arguments) ?? 0
            var cursor: (clause: String, arguments: StatementArguments) = ("", [])
            var after: StatementArguments?
            if let token = request.after {
                guard key.isText || Int64(token.key) != nil else { throw CustomerSearch.InvalidCursor() }
                let value: (any DatabaseValueConvertible)? = key.isText ? token.key : Int64(token.key)
                after = [value, token.id]
                // A row value, so that an index on (key, id) can start right after the cursor.
                cursor = ("(\(key.expression), \(key.id)) > (?, ?)", key.arguments(currency: request.currency) + [value, token.id])
            }
            var page: [Row] = []
            if key.walksNameIndex || key.walk != nil, let budget = try Self.walkBudget(matches: total, limit: request.limit, db: db) {
                let correlated = filter.correlates(walking: budget, matches: total)
                page = if let order = key.walk {
                    try Self.walk(order, currency: request.currency, filter: filter, after: after, budget: budget, limit: request.limit,
                                  correlated: correlated, db: db)
                } else {
                    try Self.walkNameIndex(filter: filter, after: after, budget: budget, limit: request.limit, correlated: correlated, db: db)
                }
            }
            if page.count <= request.limit {
                page = try Self.sortMatches(filter: filter, cursor: cursor, key: key, request: request, db: db)
            }
            let rows = page.map { row in (id: row["id"] as CustomerID, key: key.isText ? row["sort_key"] as String : String(row["sort_key"] as Int64)) }
            return try Self.page(rows, total: total, request: request, db: db)
        }
    }

    /// The page of `rows` (ids and sort keys in order, one more than a page when more follow):
    /// their summaries, and the cursor after the last one shown.
    private static func page(_ rows: [(id: CustomerID, key: String)], total: Int, request: CustomerSearch, db: Database) throws -> SearchPage {
        let shown = rows.prefix(request.limit)
        let ids = shown.map(\.id)
        let summaries = try CustomerSummaries.of(ids, in: SQLiteStatements(db: db))
        var next: String?
        if rows.count > request.limit, let last = shown.last {
            next = CustomerSearch.Cursor(sort: request.sort.rawValue, key: last.key, id: last.id).token
        }
        return SearchPage(customers: ids.compactMap { summaries[$0] }, nextCursor: next, total: total)
    }

    /// A search by words (and city or zip), by name: the word index lists the matches once,
    /// narrowed by the city or zip index; their number is the total. The page walks the name
    /// index testing each id against that list, and stops at the page's end. Testing a walked row
    /// costs about 0.15 µs and looking up a match's name about 0.75 µs (patron-bench search, 1M
    /// customers), so the walk reads at most as many rows as there are matches before the
    /// matches' names are looked up and sorted instead. Before this, the count and the page each
    /// asked the word index, and the page sorted the matches whenever they did not lie where an
    /// even spread puts them (a first name behind a block of last names): 37–55 ms for 25,000
    /// matches, 75–105 ms for 100,000, 76 ms for a name in a city.
    private static func wordSearch(_ request: CustomerSearch, words: String, clause: (sql: String, values: [String])?,
                                   db: Database) throws -> SearchPage {
        // Ascending (the word index's own order): a sorted list, searched by bisection.
        var matches = try Prepared(db, "SELECT rowid FROM \(SearchWordsSchema.table) WHERE \(SearchWordsSchema.table) MATCH ? ORDER BY rowid")
            .all([.text(words)]) { $0.integer(0) }
        if let clause, !matches.isEmpty {
            var narrowed: [CustomerID] = []
            try Prepared(db, "SELECT s.customer_id FROM customer_search s WHERE \(clause.sql)").each(clause.values.map(SQLValue.text), read: { columns in
                let id = columns.integer(0)
                if matches.containsSorted(id) { narrowed.append(id) }
            })
            matches = narrowed.sorted()
        }
        var after: (key: String, id: CustomerID)?
        if let token = request.after { after = (token.key, token.id) }
        if matches.isEmpty { return try page([], total: 0, request: request, db: db) }
        let rows = try walkNames(matching: matches, after: after, budget: matches.count, limit: request.limit, db: db)
            ?? sortNames(of: matches, after: after, limit: request.limit, db: db)
        return try page(rows, total: matches.count, request: request, db: db)
    }

    /// The first `limit + 1` of `ids` after `after` in name order, each id's name looked up.
    private static func sortNames(of ids: [CustomerID], after: (key: String, id: CustomerID)?, limit: Int,
                                  db: Database) throws -> [(id: CustomerID, key: String)] {
        let list = "[" + ids.map(String.init).joined(separator: ",") + "]"
        let from = "FROM json_each(?) j CROSS JOIN customer_search s INDEXED BY customer_search_id_sort ON s.customer_id = j.value"
        let order = "ORDER BY s.sort_name, s.customer_id LIMIT ?"
        let sorted = after == nil
            ? try Prepared(db, "SELECT s.customer_id, s.sort_name \(from) \(order)")
            : try Prepared(db, "SELECT s.customer_id, s.sort_name \(from) WHERE (s.sort_name, s.customer_id) > (?, ?) \(order)")
        let values: [SQLValue] = [.text(list)] + (after.map { [.text($0.key), .integer($0.id)] } ?? []) + [.integer(Int64(limit + 1))]
        return try sorted.all(values) { (id: $0.integer(0), key: $0.text(1)) }
    }

    /// The first `limit + 1` customers after `after` in name order whose id is in `matches`
    /// (ascending), or all of them when the name index ends first; nil when `budget` rows were
    /// read before that.
    private static func walkNames(matching matches: [CustomerID], after: (key: String, id: CustomerID)?, budget: Int, limit: Int,
                                  db: Database) throws -> [(id: CustomerID, key: String)]? {
        let order = "FROM customer_search INDEXED BY customer_search_sort_name"
        let walk = after == nil
            ? try Prepared(db, "SELECT customer_id, sort_name \(order) ORDER BY sort_name, customer_id")
            : try Prepared(db, "SELECT customer_id, sort_name \(order) WHERE (sort_name, customer_id) > (?, ?) ORDER BY sort_name, customer_id")
        var rows: [(id: CustomerID, key: String)] = []
        var read = 0
        var complete = true
        try walk.each(after.map { [.text($0.key), .integer($0.id)] } ?? [], while: { columns in
            read += 1
            let id = columns.integer(0)
            if matches.containsSorted(id) { rows.append((id, columns.text(1))) }
            if rows.count > limit { return false }
            if read >= budget { complete = false; return false }
            return true
        })
        return complete || rows.count > limit ? rows : nil
    }

    /// The page's ids and sort keys as the matches sorted: right when they are few, and always correct.
    private static func sortMatches(filter: SearchFilter, cursor: (clause: String, arguments: StatementArguments), key: SortKey,
                                    request: CustomerSearch, db: Database) throws -> [Row] {
        var arguments = key.arguments(currency: request.currency)
        let from: String
        var conditions: [String]
        if key.walksNameIndex {
            // The name is in the search row: the matches' ids are all the sort needs of customers.
            from = "customer_search s"
            conditions = filter.readsCustomers ? ["s.customer_id IN (SELECT \(filter.id) FROM \(filter.matches))"] : [filter.sql(id: "s.customer_id")]
        } else {
            from = "customers c" + (filter.readsSearchRow ? " JOIN customer_search s ON s.customer_id = c.id" : "")
            conditions = [SearchFilter.live, filter.sql(id: "c.id")]
        }
        arguments += filter.arguments
        if !cursor.clause.isEmpty { conditions.append(cursor.clause) }
        arguments += cursor.arguments
        arguments += [request.limit + 1]
        // `+sort_key`: SQLite would otherwise walk a sort index and test every customer in turn
        // until a page matched: seconds when the matches sort last, as word matches may (Greek
        // names after Latin ones). ``walk`` does that within a budget.
        let sorted = key.walksNameIndex || filter.readsWordIndex ? "+sort_key" : "sort_key"
        return try Row.fetchAll(db, sql: """
            SELECT \(key.id) AS id, \(key.expression) AS sort_key FROM \(from)
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(sorted), id LIMIT ?
            """, arguments: arguments)
    }

    /// How many customers in name order a page may test when the matches are many: expected
    /// (limit + 1) × customers ÷ matches if they are spread evenly over the alphabet, times four,
    /// because they may not be (a Greek country's names sort after every Latin one). Nil when
    /// sorting the matches costs less.
    private static func walkBudget(matches: Int, limit: Int, db: Database) throws -> Int? {
        guard matches > 0 else { return nil }
        let customers = try Int.fetchOne(db, sql: "SELECT max(id) FROM customers") ?? 0
        let budget = 4 * (limit + 1) * customers / matches
        return budget < matches ? budget : nil
    }

    /// The page's ids and sort keys as the next `budget` customers in the sort's order that
    /// match: few rows read when the matches are many. Fewer than a page when the budget ran out
    /// (or the list did). CROSS JOIN keeps the walk outermost: SQLite's own choice was to
    /// skip-scan the name index once per match (15 s on a million customers).
    private static func walk(_ order: SortIndex, currency: String, filter: SearchFilter, after: StatementArguments?, budget: Int, limit: Int,
                             correlated: Bool,
                             db: Database) throws -> [Row] {
        var arguments: StatementArguments = order.bindsCurrency ? [currency] : []
        arguments += after ?? []
        arguments += [budget]
        arguments += filter.arguments(correlated: correlated)
        arguments += [limit + 1]
        let searchRow = filter.readsSearchRow(correlated: correlated) ? "CROSS JOIN customer_search s ON s.customer_id = walked.customer_id" : ""
        let customer = filter.readsCustomers ? "CROSS JOIN customers c ON c.id = walked.customer_id" : ""
        let conditions = (filter.readsCustomers ? [SearchFilter.live] : []) + [filter.sql(id: "walked.customer_id", correlated: correlated)]
        let walked = [order.live, after == nil ? nil : "(\(order.key), \(order.id)) > (?, ?)"].compactMap { $0 }
        return try Row.fetchAll(db, sql: """
            SELECT walked.customer_id AS id, walked.sort_key
            FROM (SELECT \(order.id) AS customer_id, \(order.key) AS sort_key FROM \(order.source)
                  WHERE \(walked.isEmpty ? "1" : walked.joined(separator: " AND "))
                  ORDER BY \(order.key), \(order.id) LIMIT ?) AS walked
            \(searchRow) \(customer)
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY walked.sort_key, walked.customer_id LIMIT ?
            """, arguments: arguments)
    }

    /// ``walk(_:currency:filter:after:budget:limit:correlated:db:)`` in the name index, ending
    /// at the entry `budget` rows on (reading index entries alone costs about 15 ns each), as one
    /// query that reads the index in order and stops at the page's end. The general walk tests
    /// every row of its budget before it sorts what matched: four times the rows a page needs
    /// when the matches are spread evenly.
    private static func walkNameIndex(filter: SearchFilter, after: StatementArguments?, budget: Int, limit: Int, correlated: Bool,
                                  db: Database) throws -> [Row] {
        let index = "customer_search s INDEXED BY customer_search_sort_name"
        let start = after == nil ? "1" : "(s.sort_name, s.customer_id) > (?, ?)"
        let end = try Row.fetchOne(db, sql: "SELECT sort_name, customer_id FROM \(index) WHERE \(start) ORDER BY sort_name, customer_id LIMIT 1 OFFSET ?",
                                   arguments: (after ?? []) + [budget - 1])
        let customer = filter.readsCustomers ? "CROSS JOIN customers c ON c.id = s.customer_id" : ""
        // `+`: the id is tested, not looked up in the index's second column (a skip-scan out of order).
        let conditions = [start, end == nil ? nil : "(s.sort_name, s.customer_id) <= (?, ?)", filter.readsCustomers ? SearchFilter.live : nil,
                          filter.sql(id: "+s.customer_id", correlated: correlated)].compactMap { $0 }
        let endValues: StatementArguments = end.map { [$0[0] as DatabaseValue, $0[1] as DatabaseValue] } ?? []
        return try Row.fetchAll(db, sql: """
            SELECT s.customer_id AS id, s.sort_name AS sort_key FROM \(index) \(customer)
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY s.sort_name, s.customer_id LIMIT ?
            """, arguments: (after ?? []) + endValues + filter.arguments(correlated: correlated) + [limit + 1])
    }

    /// An index in a sort's order that a page may walk (``walk(_:currency:filter:after:budget:limit:correlated:db:)``):
    /// its rows' customer id and sort key, and the condition that makes it hold live customers
    /// only. It may hold only the first customers in that order (the spend index: those who
    /// spent); a walk that runs off its end finds less than a page, and the matches are sorted.
    private struct SortIndex {
        let source: String
        let id: String
        let key: String
        var live: String?
        /// `live` binds the currency.
        var bindsCurrency = false
    }

    private struct SortKey {
        let expression: String
        /// The tie-breaker: the customer id, from the table whose index serves the order.
        var id = "c.id"
        let isText: Bool
        /// The currency `total_spent` binds.
        let bindsCurrency: Bool
        /// The name is in the search row (so the matches' ids are all a sort by it needs); a page
        /// walks the name index (``walkNameIndex(filter:after:budget:limit:correlated:db:)``).
        var walksNameIndex = false
        /// The index the other sorts' pages walk.
        var walk: SortIndex?

        func arguments(currency: String) -> StatementArguments { bindsCurrency ? [currency] : [] }
    }

    /// One never-NULL ascending key per sort: names A–Z, newest last order first (none last),
    /// biggest spender first, earliest first contact first.
    private static func sortKey(_ sort: CustomerSearch.Sort) -> SortKey {
        switch sort {
        case .name:
            // By last name, or the first name where there is none (kept by the search trigger).
            SortKey(expression: "s.sort_name", id: "s.customer_id", isText: true, bindsCurrency: false, walksNameIndex: true)
        case .lastOrder:
            SortKey(expression: LastOrderSortSchema.key(of: "c."), isText: false, bindsCurrency: false,
                    walk: SortIndex(source: "customers INDEXED BY customers_last_order", id: "id", key: LastOrderSortSchema.key(), live: SearchFilter.liveColumns))
        case .totalSpent:
            // Those who spent come first, biggest first, and are in the spend order index; everyone
            // else (no spend, or a refund bigger than the orders) is not, and comes after them.
            SortKey(expression: "(-coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?), 0))",
                    isText: false, bindsCurrency: true,
                    walk: SortIndex(source: "customer_spend INDEXED BY customer_spend_order", id: "live_customer_id", key: "-total_minor",
                                    live: SpendOrderSchema.condition, bindsCurrency: true))
        case .firstContact:
            SortKey(expression: "c.first_contact_at", isText: false, bindsCurrency: false,
                    walk: SortIndex(source: "customers INDEXED BY customers_first_contact", id: "id", key: "first_contact_at", live: SearchFilter.liveColumns))
        }
    }
}

private extension Array where Element == CustomerID {
    /// Whether the ascending array holds `id`, by bisection.
    func containsSorted(_ id: CustomerID) -> Bool {
        var (low, high) = (startIndex, endIndex)
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < endIndex && self[low] == id
    }
}
