import GRDB
import PatronDomain

/// `customers.search` on SQLite: the request's conditions as one WHERE over live customers and
/// their folded search row, ordered by one key per sort plus the id, so that a page continues
/// strictly after the previous one's last (key, id) however many rows ingest adds meanwhile.
public struct SQLiteCustomerSearch: Sendable {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func search(_ request: CustomerSearch) async throws -> SearchPage {
        try await database.pool.read { db in
            var filter = Filter()
            filter.add("c.merged_into IS NULL AND c.erased_at IS NULL")
            for condition in request.conditions { try filter.add(condition, db: db) }
            let key = Self.sortKey(request.sort)
            var arguments = key.arguments(currency: request.currency)
            // The search row only when a condition reads it: counting then needs no join.
            let searchRow = filter.sql.contains("s.") ? "JOIN customer_search s ON s.customer_id = c.id" : ""
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM customers c \(searchRow) WHERE \(filter.sql)",
                                         arguments: filter.arguments) ?? 0
            var page = filter
            if let after = request.after {
                // A row value, so that an index on (key, id) can start right after the cursor.
                page.add("(\(key.expression), \(key.id)) > (?, ?)")
                guard key.isText || Int64(after.key) != nil else { throw CustomerSearch.InvalidCursor() }
                let value: (any DatabaseValueConvertible)? = key.isText ? after.key : Int64(after.key)
                page.arguments += arguments + [value, after.id]
            }
            arguments += page.arguments
            arguments += [request.limit + 1]
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.id, c.customer_no, c.title, c.first_name, c.last_name, c.company, c.email, c.phone, c.city, c.country, c.language,
                       c.newsletter, c.auto_group, g.name AS custom_group, c.tags, c.orders, c.last_order_at, \(key.expression) AS sort_key
                FROM customers c JOIN customer_search s ON s.customer_id = c.id LEFT JOIN customer_groups g ON g.id = c.custom_group_id
                WHERE \(page.sql) ORDER BY \(filter.scansText ? "+" : "")sort_key, \(key.id) LIMIT ?
                """, arguments: arguments)
            let shown = rows.prefix(request.limit)
            let spend = try Self.spend(of: shown.map { $0["id"] as CustomerID }, db: db)
            var next: String?
            if rows.count > request.limit, let last = shown.last {
                let lastKey: String = key.isText ? last["sort_key"] : String(last["sort_key"] as Int64)
                next = CustomerSearch.Cursor(sort: request.sort.rawValue, key: lastKey, id: last["id"]).token
            }
            return SearchPage(customers: shown.map { Self.summary($0, spent: spend[$0["id"] as CustomerID] ?? [:]) }, nextCursor: next, total: total)
        }
    }

    private struct SortKey {
        let expression: String
        /// The tie-breaker: the customer id, from the table whose index serves the order.
        var id = "c.id"
        let isText: Bool
        /// The currency `total_spent` binds.
        let bindsCurrency: Bool

        func arguments(currency: String) -> StatementArguments { bindsCurrency ? [currency] : [] }
    }

    /// One never-NULL ascending key per sort: names A–Z, newest last order first (none last),
    /// biggest spender first, earliest first contact first.
    private static func sortKey(_ sort: CustomerSearch.Sort) -> SortKey {
        switch sort {
        case .name:
            // By last name, or the first name where there is none (kept by the search trigger).
            SortKey(expression: "s.sort_name", id: "s.customer_id", isText: true, bindsCurrency: false)
        case .lastOrder:
            SortKey(expression: "coalesce(-c.last_order_at, 9223372036854775807)", isText: false, bindsCurrency: false)
        case .totalSpent:
            SortKey(expression: "(-coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?), 0))",
                    isText: false, bindsCurrency: true)
        case .firstContact:
            SortKey(expression: "c.first_contact_at", isText: false, bindsCurrency: false)
        }
    }

    /// The WHERE clause, built condition by condition with its arguments in order.
    private struct Filter {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        /// A word condition reads every search row anyway. Walking the name index instead would
        /// test rows in name order until a page matched: seconds when the matches sort last
        /// (Greek names after Latin ones), so such a page is scanned and sorted.
        var scansText = false

        var sql: String { clauses.joined(separator: " AND ") }

        mutating func add(_ clause: String, _ values: [(any DatabaseValueConvertible)?] = []) {
            clauses.append(clause)
            arguments += StatementArguments(values)
        }

        mutating func add(_ condition: CustomerSearch.Condition, db: Database) throws {
            switch condition {
            case .customerNo(let number):
                add("c.id = ?", [try SQLiteRecordTransaction(db: db).customer(numbered: number) ?? -1])
            case .words(let field, let words):
                scansText = true
                for word in words {
                    if word.count >= 3 {
                        add("instr(s.\(field.rawValue), ?) > 0", [word])
                    } else {
                        let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                            .replacingOccurrences(of: "_", with: "\\_")
                        add("(s.\(field.rawValue) LIKE ? ESCAPE '\\' OR s.\(field.rawValue) LIKE ? ESCAPE '\\')", [escaped + "%", "% " + escaped + "%"])
                    }
                }
            case .city(let city): add("s.city = ?", [city])
            case .zip(let zip): add("s.zip = ?", [zip])
            case .tag(let tag): add("instr(s.tags, char(31) || ? || char(31)) > 0", [tag])
            case .group(let name):
                if let automatic = AutomaticGroup.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) {
                    add("c.auto_group = ?", [automatic.rawValue])
                } else {
                    add("c.custom_group_id = (SELECT id FROM customer_groups WHERE name = ?)", [name])
                }
            case .email(let key):
                add("c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'email' AND key = ?)", [key])
            case .phone(let e164):
                add("c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", [e164])
            case .country(let code): add("c.country = ?", [code])
            case .language(let language): add("c.language = ? COLLATE NOCASE", [language])
            case .newsletter(let optedIn): add(optedIn ? "c.newsletter = 1" : "coalesce(c.newsletter, 0) = 0")
            case .firstContact(let range): add("c.first_contact_at BETWEEN ? AND ?", [range.lowerBound.microseconds, range.upperBound.microseconds])
            case .lastOrder(let range): add("c.last_order_at BETWEEN ? AND ?", [range.lowerBound.microseconds, range.upperBound.microseconds])
            case .orders(let range): add("c.orders BETWEEN ? AND ?", [range.lowerBound, range.upperBound])
            case .spent(let range, let currency) where range.lowerBound > 0:
                // Customers with no spend in the currency (0) are out: read the spend index.
                add("c.id IN (SELECT customer_id FROM customer_spend WHERE currency = ? AND total_minor BETWEEN ? AND ?)",
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
                for (column, value) in [("salesperson", salesperson), ("transport", transport), ("hotel", hotel)] {
                    guard let value else { continue }
                    on.append("patron_fold(b.\(column)) = ?")
                    values.append(value)
                }
                // Not correlated, so SQLite reads the matching bookings once through their index.
                add("c.id IN (SELECT b.customer_id FROM bookings b WHERE \(on.joined(separator: " AND ")))", values)
            }
        }
    }

    private static func spend(of customers: [CustomerID], db: Database) throws -> [CustomerID: [String: Int64]] {
        guard !customers.isEmpty else { return [:] }
        var spend: [CustomerID: [String: Int64]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT customer_id, currency, total_minor FROM customer_spend WHERE customer_id IN (\(databaseQuestionMarks(count: customers.count)))",
                                    arguments: StatementArguments(customers)) {
            spend[row["customer_id"], default: [:]][row["currency"]] = row["total_minor"]
        }
        return spend
    }

    /// The customer summary of EVENTS.md.
    private static func summary(_ row: Row, spent: [String: Int64]) -> JSONValue {
        func text(_ column: String) -> JSONValue { (row[column] as String?).map(JSONValue.string) ?? .null }
        let tags: String = row["tags"]
        let group = (row["custom_group"] as String?) ?? (AutomaticGroup(rawValue: row["auto_group"]) ?? .visitor).name
        return .object([
            "customer_no": text("customer_no"), "title": text("title"), "first_name": text("first_name"), "last_name": text("last_name"),
            "company": text("company"), "email": text("email"), "phone": text("phone"), "city": text("city"), "country": text("country"),
            "language": text("language"), "newsletter": (row["newsletter"] as Bool?).map(JSONValue.bool) ?? .null,
            "group": .string(group), "tags": .array(tags.isEmpty ? [] : tags.split(separator: "\u{1F}").map { .string(String($0)) }),
            "orders": .integer(row["orders"]),
            "total_spent": .object(JSONObject(Dictionary(uniqueKeysWithValues: spent.map { ($0.key, JSONValue.string(Money.format($0.value, currency: $0.key))) }))),
            "last_order_at": (row["last_order_at"] as Int64?).map { .string(Timestamp(microseconds: $0).description) } ?? .null,
        ])
    }
}
