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
        try db.execute(sql: """
            CREATE TABLE customer_search (
                customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
                \(names.map { "\($0) TEXT NOT NULL DEFAULT ''" }.joined(separator: ",\n    "))
            );
            -- A customer gets its row when a searched field is first set (a new customer's row
            -- has none yet), and it changes only when one of them does.
            \(updateTrigger(names: names, values: values))
            """)
        try db.execute(sql: """
            INSERT INTO customer_search (customer_id, \(names.joined(separator: ", ")))
            SELECT new.id, \(values) FROM customers AS new
            """)
    }

    /// The trigger that upserts a customer's search row when one of its searched fields changes.
    static func updateTrigger(names: [String], values: String) -> String {
        let changed = sourceColumns.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        return """
            CREATE TRIGGER customer_search_update AFTER UPDATE ON customers WHEN \(changed) BEGIN
                INSERT INTO customer_search (customer_id, \(names.joined(separator: ", "))) VALUES (new.id, \(values))
                ON CONFLICT (customer_id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "));
            END;
            """
    }
}

/// v9: the name sort as a column of `customer_search` with an index, and a search row for every
/// customer, so that a page sorted by name walks that index and stops after a page's worth
/// instead of sorting every match (patron-bench search: tens of thousands of matches on a
/// million customers took hundreds of milliseconds to sort).
enum SearchOrderSchema {
    /// Last name, or the first name where there is none, then the first name: folded.
    static let sortName = """
        coalesce(nullif(patron_fold(new.last_name), ''), patron_fold(new.first_name), '') || char(1) || coalesce(patron_fold(new.first_name), '')
        """

    static func create(_ db: Database) throws {
        let names = SearchSchema.columns.map(\.name) + ["sort_name"]
        let values = (SearchSchema.columns.map { "coalesce(patron_fold(\($0.source)), '')" } + [sortName]).joined(separator: ", ")
        try db.execute(sql: """
            ALTER TABLE customer_search ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';
            UPDATE customer_search SET sort_name = coalesce(nullif(last_name, ''), first_name) || char(1) || first_name;
            INSERT INTO customer_search (customer_id, sort_name) SELECT id, char(1) FROM customers
                WHERE id NOT IN (SELECT customer_id FROM customer_search);
            CREATE INDEX customer_search_sort_name ON customer_search(sort_name, customer_id);
            DROP TRIGGER customer_search_update;
            \(SearchSchema.updateTrigger(names: names, values: values))
            -- Counting a filter's matches reads only its index when the index holds live customers only.
            DROP INDEX customers_country;
            DROP INDEX customers_language;
            DROP INDEX customers_newsletter;
            DROP INDEX customers_orders;
            DROP INDEX customers_last_order;
            DROP INDEX customers_first_contact;
            DROP INDEX customers_auto_group;
            CREATE INDEX customers_country ON customers(country) WHERE merged_into IS NULL AND erased_at IS NULL;
            CREATE INDEX customers_language ON customers(language COLLATE NOCASE) WHERE merged_into IS NULL AND erased_at IS NULL;
            CREATE INDEX customers_newsletter ON customers(newsletter) WHERE merged_into IS NULL AND erased_at IS NULL;
            CREATE INDEX customers_orders ON customers(orders) WHERE merged_into IS NULL AND erased_at IS NULL;
            CREATE INDEX customers_last_order ON customers(last_order_at) WHERE merged_into IS NULL AND erased_at IS NULL;
            CREATE INDEX customers_first_contact ON customers(first_contact_at) WHERE merged_into IS NULL AND erased_at IS NULL;
            CREATE INDEX customers_auto_group ON customers(auto_group) WHERE merged_into IS NULL AND erased_at IS NULL;
            ANALYZE;
            """)
    }
}
