import PatronDomain

/// A search request's conditions as one WHERE over live customers (`customers c`), in
/// PostgreSQL: text through `patron_fold` and its trigram indexes (PostgresMigrations' p2),
/// bookings and spend through the same live-owner indexes as SQLite's.
struct PostgresSearchFilter {
    static let live = "c.merged_into IS NULL AND c.erased_at IS NULL"
    private(set) var clauses: [String] = [live]
    private(set) var values: [SQLValue] = []

    init(_ conditions: [CustomerSearch.Condition], statements: PostgresStatements) throws {
        for condition in conditions { try add(condition, statements: statements) }
    }

    var sql: String { clauses.joined(separator: " AND ") }

    private mutating func add(_ clause: String, _ values: [SQLValue] = []) {
        clauses.append(clause)
        self.values += values
    }

    /// `value` with LIKE's wildcards taken literally.
    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    private mutating func add(_ condition: CustomerSearch.Condition, statements: PostgresStatements) throws {
        switch condition {
        case .customerNo(let number):
            add("c.id = ?", [.integer(try SQLRecordTransaction(statements).customer(numbered: number) ?? -1)])
        case .words(let field, let words):
            for word in words where !word.isEmpty {
                // As SQLite's word index: three letters or more anywhere, fewer at a word's start.
                let anywhere = word.count >= 3
                let tests = field.columns.map { column in
                    anywhere ? "patron_fold(\(column)) LIKE '%' || patron_fold(?) || '%'" : "(' ' || patron_fold(\(column))) LIKE '% ' || patron_fold(?) || '%'"
                }
                add("(" + tests.joined(separator: " OR ") + ")", Array(repeating: .text(Self.escaped(word)), count: tests.count))
            }
        case .city(let city): add("patron_fold(c.city) = patron_fold(?)", [.text(city)])
        case .zip(let zip): add("patron_fold(c.zip) = patron_fold(?)", [.text(zip)])
        case .tag(let tag):
            // The trigram index finds the candidates; the separators make it the whole tag.
            add("patron_fold(c.tags) LIKE '%' || patron_fold(?) || '%' AND position(chr(31) || patron_fold(?) || chr(31) IN chr(31) || patron_fold(c.tags) || chr(31)) > 0",
                [.text(Self.escaped(tag)), .text(tag)])
        case .group(let name):
            // The group the customer's summary shows: a custom one set by staff, else the automatic
            // one; its name whole, ignoring case and accents (EVENTS.md).
            if let automatic = AutomaticGroup.allCases.first(where: { SearchText.fold($0.name) == SearchText.fold(name) }) {
                add("c.auto_group = ? AND c.custom_group_id IS NULL", [.integer(Int64(automatic.rawValue))])
            } else {
                add("c.custom_group_id IN (SELECT id FROM customer_groups WHERE patron_fold(name) = patron_fold(?))", [.text(name)])
            }
        case .email(let key):
            add("c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'email' AND key = ?)", [.text(key)])
        case .phone(let e164):
            add("c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", [.text(e164)])
        case .country(let code): add("c.country = ?", [.text(code)])
        case .language(let language): add("lower(c.language) = lower(?)", [.text(language)])
        case .newsletter(let optedIn): add(optedIn ? "c.newsletter = 1" : "coalesce(c.newsletter, 0) = 0")
        case .firstContact(let range): add("c.first_contact_at BETWEEN ? AND ?", [.of(range.lowerBound), .of(range.upperBound)])
        case .lastOrder(let range): add("c.last_order_at BETWEEN ? AND ?", [.of(range.lowerBound), .of(range.upperBound)])
        case .orders(let range): add("c.orders BETWEEN ? AND ?", [.integer(range.lowerBound), .integer(range.upperBound)])
        case .spent(let range, let currency) where range.lowerBound > 0:
            add("""
                c.id IN (SELECT p.live_customer_id FROM customer_spend p
                         WHERE p.live_customer_id IS NOT NULL AND p.currency = ? AND p.total_minor BETWEEN ? AND ?)
                """, [.text(currency), .integer(range.lowerBound), .integer(range.upperBound)])
        case .spent(let range, let currency):
            add("coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?), 0) BETWEEN ? AND ?",
                [.text(currency), .integer(range.lowerBound), .integer(range.upperBound)])
        case .booking(let departure, let salesperson, let transport, let hotel):
            var on = ["b.live_customer_id IS NOT NULL"]
            var values: [SQLValue] = []
            if let departure {
                on.append("b.departure BETWEEN ? AND ?")
                values += [.text(departure.lowerBound), .text(departure.upperBound)]
            }
            for (column, value) in [("salesperson_key", salesperson), ("transport_key", transport), ("hotel_key", hotel)] {
                guard let value else { continue }
                on.append("b.\(column) = ?")
                values.append(.text(value))
            }
            add("c.id IN (SELECT b.live_customer_id FROM bookings b WHERE \(on.joined(separator: " AND ")))", values)
        }
    }
}

private extension CustomerSearch.WordField {
    /// The customers' columns that hold this field: a name is a first or a last name.
    var columns: [String] {
        switch self {
        case .name: ["c.first_name", "c.last_name"]
        case .firstName: ["c.first_name"]
        case .lastName: ["c.last_name"]
        case .company: ["c.company"]
        case .contact: ["c.contact"]
        case .address: ["coalesce(c.address_line1, '') || ' ' || coalesce(c.address_line2, '')"]
        }
    }
}

/// `customers.search` on PostgreSQL: the same pages as ``SQLiteCustomerSearch`` (one
/// never-NULL key per sort plus the id, so a page continues strictly after the previous one's
/// last row however many rows ingest adds meanwhile), left to PostgreSQL's planner.
struct PostgresCustomerSearch: CustomerSearchSource {
    let engine: PostgresEngine

    func search(_ request: CustomerSearch) async throws -> SearchPage {
        try await engine.read { statements in
            let filter = try PostgresSearchFilter(request.conditions, statements: statements)
            let total = try statements.first("SELECT count(*) FROM customers c WHERE \(filter.sql)", filter.values) { $0.integer(0) } ?? 0
            let key = Self.sortKey(request.sort)
            let keyValues: [SQLValue] = key.bindsCurrency ? [.text(request.currency)] : []
            var conditions = filter.sql
            var values = keyValues + filter.values
            if let token = request.after {
                guard key.isText || Int64(token.key) != nil else { throw CustomerSearch.InvalidCursor() }
                conditions += " AND (\(key.expression), c.id) > (?, ?)"
                values += keyValues + [key.isText ? .text(token.key) : .integer(Int64(token.key)!), .integer(token.id)]
            }
            values.append(.integer(Int64(request.limit + 1)))
            let page = try statements.all("""
                SELECT c.id, \(key.expression) AS sort_key FROM customers c WHERE \(conditions) ORDER BY sort_key, c.id LIMIT ?
                """, values) { ($0.integer(0), key.isText ? .text($0.text(1)) : SQLValue.integer($0.integer(1))) }
            let shown = page.prefix(request.limit)
            let ids = shown.map(\.0)
            let summaries = try CustomerSummaries.of(ids, in: statements)
            var next: String?
            if page.count > request.limit, let last = shown.last {
                let lastKey = switch last.1 {
                case .text(let text): text
                case .integer(let integer): String(integer)
                default: ""
                }
                next = CustomerSearch.Cursor(sort: request.sort.rawValue, key: lastKey, id: last.0).token
            }
            return SearchPage(customers: ids.compactMap { summaries[$0] }, nextCursor: next, total: Int(total))
        }
    }

    private struct SortKey {
        let expression: String
        let isText: Bool
        var bindsCurrency = false
    }

    /// As SQLite's: names A–Z (in byte order, as SQLite compares), newest last order first
    /// (none last), biggest spender first, earliest first contact first.
    private static func sortKey(_ sort: CustomerSearch.Sort) -> SortKey {
        switch sort {
        case .name: SortKey(expression: "(patron_sort_name(c.first_name, c.last_name) COLLATE \"C\")", isText: true)
        case .lastOrder: SortKey(expression: "coalesce(-c.last_order_at, 9223372036854775807)", isText: false)
        case .totalSpent:
            SortKey(expression: "(-coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?), 0))",
                    isText: false, bindsCurrency: true)
        case .firstContact: SortKey(expression: "c.first_contact_at", isText: false)
        }
    }
}

/// Exports' and sends' customers on PostgreSQL, streamed through a cursor of one REPEATABLE
/// READ transaction (``PostgresStatements/each(_:_:read:)``), in name order.
struct PostgresCustomerRows: CustomerRowSource {
    let engine: PostgresEngine

    func rows(_ request: ExportRequest, currency: String, row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int {
        try await engine.read { statements in
            let filter = try PostgresSearchFilter(request.search.conditions, statements: statements)
            let columns = request.fields.map { ExportColumns.sql($0, .postgres) }
            let values: [SQLValue] = (ExportColumns.bindsCurrency(request.fields) ? [.text(currency)] : []) + filter.values
            var count = 0
            try statements.each("""
                SELECT \(columns.joined(separator: ", ")) FROM customers c LEFT JOIN customer_groups g ON g.id = c.custom_group_id
                WHERE \(filter.sql) ORDER BY (patron_sort_name(c.first_name, c.last_name) COLLATE "C"), c.id
                """, values) { stored in
                try row(request.fields.indices.map { ExportColumns.cell(request.fields[$0], stored.value(Int32($0))) })
                count += 1
            }
            return count
        }
    }

    func customerIDs(matching search: CustomerSearch) async throws -> [CustomerID] {
        try await engine.read { statements in
            let filter = try PostgresSearchFilter(search.conditions, statements: statements)
            return try statements.all("SELECT c.id FROM customers c WHERE \(filter.sql) ORDER BY c.id", filter.values) { $0.integer(0) }
        }
    }
}

/// The command audit in the shared database: with several replicas there is no local file that
/// holds every command, and PostgreSQL's commits do not empty other sessions' caches as SQLite's
/// do (the reason SQLite keeps it apart, ``SQLiteCommandAudit``).
struct PostgresCommandAudit: CommandAudit {
    let engine: PostgresEngine

    func record(_ entry: CommandAuditEntry) async throws {
        try await engine.write { statements in
            try statements.run("INSERT INTO command_audit (at, \"user\", command, outcome) VALUES (?, ?, ?, ?)",
                               .of(entry.at), .of(entry.user), .of(entry.command), .text(entry.outcome))
        }
    }
}
