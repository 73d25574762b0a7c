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
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(filter.matches)", arguments: filter.arguments) ?? 0
            let key = Self.sortKey(request.sort)
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
            if let order = key.walk, let budget = try Self.walkBudget(matches: total, limit: request.limit, db: db) {
                page = try Self.walk(order, currency: request.currency, filter: filter, after: after, budget: budget, limit: request.limit,
                                     correlated: filter.correlates(walking: budget, matches: total), db: db)
            }
            if page.count <= request.limit {
                page = try Self.sortMatches(filter: filter, cursor: cursor, key: key, request: request, db: db)
            }
            let shown = page.prefix(request.limit)
            let ids = shown.map { $0["id"] as CustomerID }
            let summaries = try CustomerSummaries.of(ids, in: SQLiteStatements(db: db))
            var next: String?
            if page.count > request.limit, let last = shown.last {
                let lastKey: String = key.isText ? last["sort_key"] : String(last["sort_key"] as Int64)
                next = CustomerSearch.Cursor(sort: request.sort.rawValue, key: lastKey, id: last["id"]).token
            }
            return SearchPage(customers: ids.compactMap { summaries[$0] }, nextCursor: next, total: total)
        }
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
        /// The name is in the search row (so the matches' ids are all a sort by it needs).
        var walksNameIndex = false
        var walk: SortIndex?

        func arguments(currency: String) -> StatementArguments { bindsCurrency ? [currency] : [] }
    }

    /// One never-NULL ascending key per sort: names A–Z, newest last order first (none last),
    /// biggest spender first, earliest first contact first.
    private static func sortKey(_ sort: CustomerSearch.Sort) -> SortKey {
        switch sort {
        case .name:
            // By last name, or the first name where there is none (kept by the search trigger).
            SortKey(expression: "s.sort_name", id: "s.customer_id", isText: true, bindsCurrency: false, walksNameIndex: true,
                    walk: SortIndex(source: "customer_search INDEXED BY customer_search_sort_name", id: "customer_id", key: "sort_name"))
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
