import GRDB

/// What search compares, folded (``SearchText``) and kept beside each customer by a trigger, so
/// that ingest pays for folding only when a searched field really changes, and an erasure's
/// blanked fields leave the search table too. Its indexes come with the search benchmark.
enum SearchSchema {
    /// Column → the expression over the customers row (`new.`) it is folded from.
    static let columns: [(name: String, source: String)] = [
        ("name", "coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')"),
        ("first_name", "new.first_name"), ("last_name", "new.last_name"), ("company", "new.company"), ("contact", "new.contact"),
        ("address", "coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')"),
        ("city", "new.city"), ("zip", "new.zip"),
        // Tags between separators, so a whole tag is found with instr(tags, char(31) || tag || char(31)).
        ("tags", "char(31) || new.tags || char(31)"),
    ]
    /// The customers columns the search table is made of.
    static let sourceColumns = ["first_name", "last_name", "company", "contact", "address_line1", "address_line2", "city", "zip", "tags"]

    static func create(_ db: Database) throws {
        let names = columns.map(\.name)
        let values = columns.map { "coalesce(patron_fold(\($0.source)), '')" }.joined(separator: ", ")
        let changed = sourceColumns.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        try db.execute(sql: """
            CREATE TABLE customer_search (
                customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
                \(names.map { "\($0) TEXT NOT NULL DEFAULT ''" }.joined(separator: ",\n    "))
            );
            -- A customer gets its row when a searched field is first set (a new customer's row
            -- has none yet), and it changes only when one of them does.
            CREATE TRIGGER customer_search_update AFTER UPDATE ON customers WHEN \(changed) BEGIN
                INSERT INTO customer_search (customer_id, \(names.joined(separator: ", "))) VALUES (new.id, \(values))
                ON CONFLICT (customer_id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "));
            END;
            """)
        try db.execute(sql: """
            INSERT INTO customer_search (customer_id, \(names.joined(separator: ", ")))
            SELECT new.id, \(values) FROM customers AS new
            """)
    }
}
