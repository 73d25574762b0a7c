import PatronDomain

/// The customer summaries of a search page (EVENTS.md, "customers.search"), on either engine.
enum CustomerSummaries {
    /// The summaries of `ids`, by id.
    static func of<Statements: SQLStatements>(_ ids: [CustomerID], in statements: Statements) throws -> [CustomerID: JSONValue] {
        guard !ids.isEmpty else { return [:] }
        let list = parameterList(ids.count)
        let values = ids.map(SQLValue.integer)
        var spend: [CustomerID: [String: Int64]] = [:]
        for (id, currency, total) in try statements.all("SELECT customer_id, currency, total_minor FROM customer_spend WHERE customer_id IN (\(list))",
                                                        values, read: { ($0.integer(0), $0.text(1), $0.integer(2)) }) {
            spend[id, default: [:]][currency] = total
        }
        let rows = try statements.all("""
            SELECT c.id, c.customer_no, c.title, c.first_name, c.last_name, c.company, c.email, c.phone, c.city, c.country, c.language,
                   c.newsletter, c.auto_group, g.name AS custom_group, c.tags, c.orders, c.last_order_at
            FROM customers c LEFT JOIN customer_groups g ON g.id = c.custom_group_id WHERE c.id IN (\(list))
            """, values) { row in (row.integer(0), summary(row, spent: spend[row.integer(0)] ?? [:])) }
        return Dictionary(uniqueKeysWithValues: rows)
    }

    private static func summary(_ row: some ColumnReader, spent: [String: Int64]) -> JSONValue {
        func text(_ index: Int32) -> JSONValue { row.textOrNil(index).map(JSONValue.string) ?? .null }
        let tags = row.text(14)
        let group = row.textOrNil(13) ?? (AutomaticGroup(rawValue: Int(row.integer(12))) ?? .visitor).name
        return .object([
            "customer_no": text(1), "title": text(2), "first_name": text(3), "last_name": text(4),
            "company": text(5), "email": text(6), "phone": text(7), "city": text(8), "country": text(9),
            "language": text(10), "newsletter": row.integerOrNil(11).map { JSONValue.bool($0 != 0) } ?? .null,
            "group": .string(group), "tags": .array(tags.isEmpty ? [] : tags.split(separator: "\u{1F}").map { .string(String($0)) }),
            "orders": .integer(row.integer(15)),
            "total_spent": .object(JSONObject(Dictionary(uniqueKeysWithValues: spent.map { ($0.key, JSONValue.string(Money.format($0.value, currency: $0.key))) }))),
            "last_order_at": row.integerOrNil(16).map { .string(Timestamp(microseconds: $0).description) } ?? .null,
        ])
    }
}
