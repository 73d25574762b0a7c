import GRDB

/// v23: live customers counted per segment (country, language, automatic and custom group,
/// newsletter), kept by triggers on `customers`. A search whose conditions are all segment
/// fields takes its total from here: patron-bench search, 1M customers, country + group +
/// newsletter counted 21,000 of a country's 111,000 customers in 80–100 ms, each looked up in
/// two more indexes; marketing lists are drawn on exactly these fields. Each customer write
/// that changes one of them, or liveness, moves one count (a few hundred rows in all).
///
/// NULLs are stored as '' (country, language, city), -1 (newsletter) and 0 (custom group),
/// because a primary key holds NULLs apart and the counts would not add up.
///
/// v24 adds the city, folded as the search row holds it: a city with newsletter yes (a local
/// offer's list) counted 18,500 of 55,600 customers in 25 ms, each tested in the newsletter
/// index. Cities are few next to customers; zips are not, and stay out.
enum SegmentSchema {
    static let table = "customer_segments"
    /// Column → the value of a customers row (`%` for `new`, `old` or an alias) it holds, and its type.
    static let v23Columns: [(name: String, value: String, type: String)] = [
        ("country", "coalesce(%.country, '')", "TEXT"), ("language", "coalesce(%.language, '')", "TEXT COLLATE NOCASE"),
        ("auto_group", "%.auto_group", "INTEGER"), ("newsletter", "coalesce(%.newsletter, -1)", "INTEGER"),
        ("custom_group_id", "coalesce(%.custom_group_id, 0)", "INTEGER"),
    ]
    static let columns = v23Columns + [("city", "coalesce(patron_fold(%.city), '')", "TEXT")]

    static func create(_ db: Database) throws {
        try create(db, columns: v23Columns)
    }

    /// v24: the counts again, by city too.
    static func addCity(_ db: Database) throws {
        try db.execute(sql: """
            DROP TRIGGER customer_segments_insert;
            DROP TRIGGER customer_segments_leave;
            DROP TRIGGER customer_segments_enter;
            DROP TABLE \(table);
            """)
        try create(db, columns: columns)
    }

    private static func create(_ db: Database, columns: [(name: String, value: String, type: String)]) throws {
        let names = columns.map(\.name).joined(separator: ", ")
        func values(_ row: String) -> String { columns.map { $0.value.replacingOccurrences(of: "%", with: row) }.joined(separator: ", ") }
        let matchesOld = columns.map { "\($0.name) = \($0.value.replacingOccurrences(of: "%", with: "old"))" }.joined(separator: " AND ")
        let changed = (columns.map(\.name) + ["merged_into", "erased_at"]).map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        let live = { (row: String) in "\(row).merged_into IS NULL AND \(row).erased_at IS NULL" }
        let count = "ON CONFLICT (\(names)) DO UPDATE SET customers = customers + 1"
        try db.execute(sql: """
            CREATE TABLE \(table) (
                \(columns.map { "\($0.name) \($0.type) NOT NULL" }.joined(separator: ", ")), customers INTEGER NOT NULL,
                PRIMARY KEY (\(names))
            ) WITHOUT ROWID;
            INSERT INTO \(table) (\(names), customers)
                SELECT \(values("c")), count(*) FROM customers c WHERE \(live("c")) GROUP BY \(values("c"))
                -- Languages that differ only in case are one segment, as the filter compares them.
                ON CONFLICT (\(names)) DO UPDATE SET customers = customers + excluded.customers;
            CREATE TRIGGER customer_segments_insert AFTER INSERT ON customers WHEN \(live("new")) BEGIN
                INSERT INTO \(table) (\(names), customers) VALUES (\(values("new")), 1) \(count);
            END;
            CREATE TRIGGER customer_segments_leave AFTER UPDATE ON customers WHEN \(live("old")) AND (\(changed)) BEGIN
                UPDATE \(table) SET customers = customers - 1 WHERE \(matchesOld);
            END;
            CREATE TRIGGER customer_segments_enter AFTER UPDATE ON customers WHEN \(live("new")) AND (\(changed)) BEGIN
                INSERT INTO \(table) (\(names), customers) VALUES (\(values("new")), 1) \(count);
            END;
            """)
    }
}
