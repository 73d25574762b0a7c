import PatronDomain

/// The live customers whose fields hold every word of the word conditions, in PostgreSQL: text
/// through `patron_fold` and its trigram indexes (PostgresMigrations' p2). The search index
/// answers the other conditions.
enum PostgresWordSearch {
    static let live = "c.merged_into IS NULL AND c.erased_at IS NULL"

    /// `value` with LIKE's wildcards taken literally.
    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    /// The customers, or nil when the conditions hold no word to look for.
    static func customers(_ conditions: [(field: CustomerSearch.WordField, words: [String])], _ statements: PostgresStatements) throws -> [CustomerID]? {
        var clauses = [live]
        var values: [SQLValue] = []
        for (field, words) in conditions {
            for word in words where !word.isEmpty {
                // As SQLite's word index: three letters or more anywhere, fewer at a word's start.
                let anywhere = word.count >= 3
                let tests = field.columns.map { column in
                    anywhere ? "patron_fold(\(column)) LIKE '%' || patron_fold(?) || '%'" : "(' ' || patron_fold(\(column))) LIKE '% ' || patron_fold(?) || '%'"
                }
                clauses.append("(" + tests.joined(separator: " OR ") + ")")
                values += Array(repeating: .text(escaped(word)), count: tests.count)
            }
        }
        guard clauses.count > 1 else { return nil }
        return try statements.all("SELECT c.id FROM customers c WHERE \(clauses.joined(separator: " AND "))", values) { $0.integer(0) }
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

/// `customers.search` on PostgreSQL, as on SQLite (``SQLiteCustomerSearch``): words through the
/// trigram indexes, identifiers through their tables, the rest in this replica's search index
/// brought up to the search's snapshot.
struct PostgresCustomerSearch: CustomerSearchSource {
    let engine: PostgresEngine

    func search(_ request: CustomerSearch) async throws -> SearchPage {
        try await engine.read { [index = engine.database.searchIndex] statements in
            let conditions = try Self.indexConditions(request.conditions, statements)
            let found = try index.withCurrentIndex(statements, database: engine.database) { index in
                try index.search(conditions, sort: request.sort, currency: request.currency, after: request.after, limit: request.limit)
            }
            let shown = found.rows.prefix(request.limit)
            let ids = shown.map(\.id)
            let summaries = try CustomerSummaries.of(ids, in: statements)
            var next: String?
            if found.rows.count > request.limit, let last = shown.last {
                next = CustomerSearch.Cursor(sort: request.sort.rawValue, key: last.key, id: last.id).token
            }
            return SearchPage(customers: ids.compactMap { summaries[$0] }, nextCursor: next, total: found.total)
        }
    }

    /// The request's conditions as the index tests them; words through the trigram indexes.
    static func indexConditions(_ conditions: [CustomerSearch.Condition], _ statements: PostgresStatements) throws -> [IndexCondition] {
        try SearchIndexConditions.resolve(conditions, statements) { try PostgresWordSearch.customers($0, statements) }
    }
}

/// Exports' and sends' customers on PostgreSQL, streamed through a cursor of one REPEATABLE
/// READ transaction (``PostgresStatements/each(_:_:read:)``), in name order; the search index
/// says who matches a filter.
struct PostgresCustomerRows: CustomerRowSource {
    let engine: PostgresEngine

    func rows(_ request: ExportRequest, currency: String, row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int {
        try await engine.read { [index = engine.database.searchIndex] statements in
            let conditions = try PostgresCustomerSearch.indexConditions(request.search.conditions, statements)
            let columns = request.fields.map { ExportColumns.sql($0, .postgres) }
            let currencyValues: [SQLValue] = ExportColumns.bindsCurrency(request.fields) ? [.text(currency)] : []
            let from = "FROM customers c LEFT JOIN customer_groups g ON g.id = c.custom_group_id"
            var count = 0
            func emit(_ stored: PostgresColumns, from column: Int32) throws {
                try row(request.fields.indices.map { ExportColumns.cell(request.fields[$0], stored.value(Int32($0) + column)) })
                count += 1
            }
            guard !conditions.isEmpty else {
                try statements.each("""
                    SELECT \(columns.joined(separator: ", ")) \(from) WHERE \(PostgresWordSearch.live)
                    ORDER BY (patron_sort_name(c.first_name, c.last_name) COLLATE "C"), c.id
                    """, currencyValues) { try emit($0, from: 0) }
                return count
            }
            let ids = try index.withCurrentIndex(statements, database: engine.database) { index in index.inNameOrder(index.customers(matching: conditions)) }
            // A thousand at a time, in the index's order.
            for start in stride(from: 0, to: ids.count, by: 1000) {
                let part = Array(ids[start..<min(start + 1000, ids.count)])
                let list = try statements.isOneOf("c.id", part.map(SQLValue.integer))
                var rows: [CustomerID: PostgresColumns] = [:]
                for stored in try statements.all("SELECT c.id, \(columns.joined(separator: ", ")) \(from) WHERE \(list.sql)",
                                                 currencyValues + [list.parameter], read: { $0 }) {
                    rows[stored.integer(0)] = stored
                }
                for id in part { if let stored = rows[id] { try emit(stored, from: 1) } }
            }
            return count
        }
    }

    func customerIDs(matching search: CustomerSearch) async throws -> [CustomerID] {
        try await engine.read { [index = engine.database.searchIndex] statements in
            let conditions = try PostgresCustomerSearch.indexConditions(search.conditions, statements)
            return try index.withCurrentIndex(statements, database: engine.database) { $0.customers(matching: conditions) }
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
