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

    /// The trigger that upserts a customer's search row when one of its searched fields changes;
    /// with `liveOnly` (v11), only while the customer is live, and again when it becomes live.
    static func updateTrigger(names: [String], values: String, liveOnly: Bool = false) -> String {
        var changed = sourceColumns.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        if liveOnly {
            changed = "new.merged_into IS NULL AND new.erased_at IS NULL AND (\(changed) OR old.merged_into IS NOT NULL OR old.erased_at IS NOT NULL)"
        }
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

    /// The search table's columns, and the values the trigger folds them from.
    static let names = folded.map(\.name)
    static let values = folded.map(\.value).joined(separator: ", ")
    /// Each column with its value over the customers row (`new.`).
    static let folded: [(name: String, value: String)] = SearchSchema.columns.map { ($0.name, "coalesce(patron_fold(\($0.source)), '')") }
        + [("sort_name", sortName)]
    /// The customer's whole search row, made from the customers row `new` (v21 and v22 triggers).
    static let insertRow = "INSERT INTO customer_search (customer_id, \(names.joined(separator: ", "))) VALUES (new.id, \(values))"

    static func create(_ db: Database) throws {
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

/// v10: an FTS5 trigram index of the word-searched fields and the tags, so that `name`,
/// `company`, `contact`, `address` and `tag` find their matches through an index instead of
/// reading every search row (patron-bench search, 1M customers: a word search scanned for
/// 430–600 ms, a tag for 230 ms).
///
/// The trigram tokenizer, because the contract asks for substrings (`arcí` finds García), which
/// a word tokenizer's prefix queries cannot give. It indexes the folded copies in
/// `customer_search`, so accents and case are already gone (3.40's trigram tokenizer has no
/// `remove_diacritics`). Each value is indexed behind a space: every word then starts after a
/// space, and a two-letter word's "start of a word" is the trigram " ma".
///
/// Contentless: the text lives in `customer_search`, and a trigger hands FTS5 the old values to
/// delete. A deleted entry stays in the older segments until they are merged, so an erasure
/// merges the index (``optimize``) before its checkpoint.
enum SearchWordsSchema {
    static let table = "customer_words"
    /// The indexed columns of `customer_search`, in the index's column order (v12). `tags` too:
    /// its tags sit between separators, so the phrase "␟vip␟" is the whole tag VIP.
    static let columns = ["first_name", "last_name", "company", "contact", "address", "tags"]
    /// The columns v10 and v11 made the index with: one `name` for first and last names together.
    static let v10Columns = ["name", "company", "contact", "address", "tags"]

    static func create(_ db: Database) throws {
        try create(db, columns: v10Columns)
    }

    static func create(_ db: Database, columns: [String]) throws {
        let list = columns.joined(separator: ", ")
        let changed = columns.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        try db.execute(sql: """
            CREATE VIRTUAL TABLE \(table) USING fts5(\(list), content='', columnsize=0, tokenize='trigram case_sensitive 1');
            INSERT INTO \(table) (rowid, \(list)) SELECT customer_id, \(values("new", columns)) FROM customer_search AS new;
            CREATE TRIGGER customer_words_insert AFTER INSERT ON customer_search BEGIN
                INSERT INTO \(table) (rowid, \(list)) VALUES (new.customer_id, \(values("new", columns)));
            END;
            CREATE TRIGGER customer_words_update AFTER UPDATE ON customer_search WHEN \(changed) BEGIN
                INSERT INTO \(table) (\(table), rowid, \(list)) VALUES ('delete', old.customer_id, \(values("old", columns)));
                INSERT INTO \(table) (rowid, \(list)) VALUES (new.customer_id, \(values("new", columns)));
            END;
            """)
        try optimize(db)
    }

    /// What the index holds of a search row (`new` or `old`): each value behind a space.
    static func values(_ row: String, _ columns: [String]) -> String { columns.map { "' ' || \(row).\($0)" }.joined(separator: ", ") }

    /// Merges the index into one segment, which drops every deleted entry with its text.
    static func optimize(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO \(table) (\(table)) VALUES ('optimize')")
    }

    /// The FTS5 query for a word condition on `columns`: every word as a substring of one of
    /// them, a two-letter word at the start of a word. Words of one letter are left to the caller
    /// (no trigram).
    static func query(columns: [String], words: [String]) -> String? {
        let phrases = words.filter { $0.count >= 2 }.map { $0.count == 2 ? phrase(" " + $0) : phrase($0) }
        guard !phrases.isEmpty else { return nil }
        return "{\(columns.joined(separator: " "))} : (\(phrases.joined(separator: " AND ")))"
    }

    /// The FTS5 query for `text` as a substring of `column`.
    static func query(column: String, phrase text: String) -> String {
        "\(column) : \(phrase(text))"
    }

    private static func phrase(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// v25: the word index is written once per transaction, from a queue that the search row's
/// triggers fill, instead of by the triggers themselves. SQLite 3.40's FTS5 writes its pending
/// terms out as a new segment at every savepoint, and every statement that fires triggers in a
/// transaction opens one: three small segments per imported row, each then merged into larger
/// ones (perf: 12 % of the writer thread in `sqlite3VtabSavepoint`). One flush per transaction
/// writes one segment. `patron-bench import` into 1M customers, paired runs: 5,100 → 6,010,
/// 5,290 → 5,970 and 5,460 → 5,850 rows/s; CPU per row 10 % lower.
///
/// Every SQLite write transaction therefore ends with ``flush(_:)``: they all go through
/// ``PatronDatabase/write(rollingBack:_:)`` (the event batches, staff changes, the shared
/// stores, the bench's seeding), and a later migration that changes search rows must flush
/// too. A commit that skipped it would leave its words out of search until the next flush.
/// The queued rows hold folded names only within the transaction, and an erasure's are
/// deleted with `secure_delete` like any other row.
enum SearchWordsQueueSchema {
    static let table = "customer_words_pending"

    static func create(_ db: Database) throws {
        let words = SearchWordsSchema.self
        let list = words.columns.joined(separator: ", ")
        /// Queues what the index is handed for `row` (`new` or `old`); `command` is FTS5's: NULL
        /// to add the row's words, 'delete' to take them out.
        func enqueue(_ command: String, _ row: String) -> String {
            "INSERT INTO \(table) (command, customer_id, \(list)) VALUES (\(command), \(row).customer_id, \(words.values(row, words.columns)));"
        }
        let changed = words.columns.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        try db.execute(sql: """
            CREATE TABLE \(table) (
                seq INTEGER PRIMARY KEY,
                command TEXT CHECK (command IS NULL OR command = 'delete'),
                customer_id INTEGER NOT NULL,
                \(words.columns.map { "\($0) TEXT NOT NULL" }.joined(separator: ", "))
            );
            DROP TRIGGER customer_words_insert;
            DROP TRIGGER customer_words_update;
            DROP TRIGGER customer_words_delete;
            CREATE TRIGGER customer_words_insert AFTER INSERT ON customer_search BEGIN
                \(enqueue("NULL", "new"))
            END;
            CREATE TRIGGER customer_words_update AFTER UPDATE ON customer_search WHEN \(changed) BEGIN
                \(enqueue("'delete'", "old"))
                \(enqueue("NULL", "new"))
            END;
            CREATE TRIGGER customer_words_delete AFTER DELETE ON customer_search BEGIN
                \(enqueue("'delete'", "old"))
            END;
            """)
    }

    /// Hands the queued changes to the word index in the order they were made, as one statement
    /// (one segment), and empties the queue.
    static func flush(_ db: Database) throws {
        let list = SearchWordsSchema.columns.joined(separator: ", ")
        try db.cachedStatement(sql: """
            INSERT INTO \(SearchWordsSchema.table) (\(SearchWordsSchema.table), rowid, \(list))
            SELECT command, customer_id, \(list) FROM \(table) ORDER BY seq
            """).execute()
        try db.cachedStatement(sql: "DELETE FROM \(table)").execute()
    }
}

/// v11: search rows of live customers only. A merged-away or erased customer's row (and its word
/// index entries) is deleted, and made again if an unmerge brings the customer back. A count over
/// search fields and the word index then reads only those, without looking up every match in
/// `customers` to see whether it is live (patron-bench search, 1M customers: 55,000 lookups took
/// 60–90 ms of a city search's 170 ms).
///
/// With it come booking indexes that hold the customer id, so a booking filter finds its
/// customers in the index alone instead of reading each booking row.
enum LiveSearchSchema {
    static func create(_ db: Database) throws {
        let words = SearchWordsSchema.self
        let list = words.v10Columns.joined(separator: ", ")
        try db.execute(sql: """
            CREATE TRIGGER customer_words_delete AFTER DELETE ON customer_search BEGIN
                INSERT INTO \(words.table) (\(words.table), rowid, \(list)) VALUES ('delete', old.customer_id, \(words.values("old", words.v10Columns)));
            END;
            DROP TRIGGER customer_search_update;
            \(SearchSchema.updateTrigger(names: SearchOrderSchema.names, values: SearchOrderSchema.values, liveOnly: true))
            CREATE TRIGGER customer_search_retire AFTER UPDATE OF merged_into, erased_at ON customers
                WHEN new.merged_into IS NOT NULL OR new.erased_at IS NOT NULL BEGIN
                DELETE FROM customer_search WHERE customer_id = new.id;
            END;
            DELETE FROM customer_search WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NOT NULL OR erased_at IS NOT NULL);
            DROP INDEX bookings_departure;
            DROP INDEX bookings_hotel_folded;
            DROP INDEX bookings_salesperson_folded;
            DROP INDEX bookings_transport_folded;
            CREATE INDEX bookings_departure ON bookings(departure, customer_id);
            CREATE INDEX bookings_hotel_folded ON bookings(patron_fold(hotel), departure, customer_id);
            CREATE INDEX bookings_salesperson_folded ON bookings(patron_fold(salesperson), departure, customer_id);
            CREATE INDEX bookings_transport_folded ON bookings(patron_fold(transport), departure, customer_id);
            ANALYZE;
            """)
        try words.optimize(db)
    }
}

/// v12: first and last names in their own columns of the word index, so that a first- or
/// last-name search is answered by the index alone, and a search on words only is counted in
/// the index without reading a search row per match (patron-bench search, 1M customers: counting
/// 27,000 name matches took 43 ms through the search rows, 6 ms in the index).
enum SearchNameWordsSchema {
    static func create(_ db: Database) throws {
        let words = SearchWordsSchema.self
        try db.execute(sql: """
            DROP TRIGGER customer_words_insert;
            DROP TRIGGER customer_words_update;
            DROP TRIGGER customer_words_delete;
            DROP TABLE \(words.table);
            """)
        try words.create(db, columns: words.columns)
        try db.execute(sql: """
            CREATE TRIGGER customer_words_delete AFTER DELETE ON customer_search BEGIN
                INSERT INTO \(words.table) (\(words.table), rowid, \(words.columns.joined(separator: ", ")))
                VALUES ('delete', old.customer_id, \(words.values("old", words.columns)));
            END;
            """)
    }
}

/// v16: the lookups a search makes per match read narrow index entries instead of wide rows
/// (patron-bench search, 1M customers, seconds measured with sqlite3 on the bench's file).
///
/// - Whether a match is live, and its name for the sort, come from an index of the search table
///   on (customer_id, sort_name): a page sorted by name over 25,000 word matches 35 → 25 ms.
/// - The booking filters' folded hotel, salesperson and transport are columns that the booking's
///   upsert fills, instead of expression indexes: SQLite 3.40 cannot answer from an index on
///   `patron_fold(hotel)` without reading each booking row (nor from one on a virtual generated
///   column), and reading 32,000 bookings for a transport in a month took 60–70 ms; from the
///   index alone, 4 ms. The upsert folds them in the same statement (no trigger on ingest's
///   hottest write); a trigger catches any other UPDATE of the fields.
enum NarrowLookupSchema {
    /// The booking fields a filter compares folded, and the column that holds each folded.
    static let foldedBookingFields: [(field: String, column: String)] = [
        ("hotel", "hotel_key"), ("salesperson", "salesperson_key"), ("transport", "transport_key"),
    ]

    static func create(_ db: Database) throws {
        let fields = foldedBookingFields
        try db.execute(sql: """
            CREATE INDEX customer_search_id_sort ON customer_search(customer_id, sort_name);
            \(fields.map { "DROP INDEX bookings_\($0.field)_folded; ALTER TABLE bookings ADD COLUMN \($0.column) TEXT;" }.joined(separator: "\n"))
            UPDATE bookings SET \(fields.map { "\($0.column) = patron_fold(\($0.field))" }.joined(separator: ", "));
            \(fields.map { "CREATE INDEX bookings_\($0.column) ON bookings(\($0.column), departure, customer_id);" }.joined(separator: "\n"))
            -- The upsert folds them as it writes; an UPDATE of the fields (none in Patron's code
            -- today, but a repair by hand) must not leave them stale.
            CREATE TRIGGER bookings_folded_keys AFTER UPDATE OF \(fields.map(\.field).joined(separator: ", ")) ON bookings BEGIN
                UPDATE bookings SET \(fields.map { "\($0.column) = patron_fold(new.\($0.field))" }.joined(separator: ", ")) WHERE ref = new.ref;
            END;
            ANALYZE customer_search;
            ANALYZE bookings;
            """)
    }
}

/// v17: each booking names its owner again in `live_customer_id` while that owner is live (NULL
/// once it is merged away or erased), and the booking filters' indexes hold that column. A
/// booking filter then finds live customers in its index alone, instead of looking each match
/// up in the search table (one B-tree seek per match: 30 ms per 30,000), and a filter on
/// bookings only is counted as the distinct owners in one index range (patron-bench search, 1M
/// customers, sqlite3: 32,000 bookings of a transport in a month 39 → 11 ms).
///
/// The hotel and the salesperson also get an index in owner order, so that the owners of all
/// their bookings are counted without sorting (SQLite counts DISTINCT over ordered values by
/// comparing neighbours: 250,000 bookings of one salesperson 115 → about 25 ms). A transport
/// has too few values for that to be worth an index.
enum LiveBookingOwnerSchema {
    /// A live customer's id, or NULL: `?2` is the customer id in the booking upsert's parameters.
    static let liveOwner = LiveOwnerColumn.owner(of: "?2")

    static func create(_ db: Database) throws {
        let keys = NarrowLookupSchema.foldedBookingFields.map(\.column)
        try db.execute(sql: """
            \(keys.map { "DROP INDEX bookings_\($0);" }.joined(separator: "\n"))
            \(LiveOwnerColumn.add(to: "bookings", trigger: "customers_live_bookings"))
            CREATE INDEX bookings_departure_live ON bookings(departure, live_customer_id) WHERE live_customer_id IS NOT NULL;
            \(keys.map { "CREATE INDEX bookings_\($0) ON bookings(\($0), departure, live_customer_id) WHERE live_customer_id IS NOT NULL;" }.joined(separator: "\n"))
            CREATE INDEX bookings_hotel_owners ON bookings(hotel_key, live_customer_id) WHERE live_customer_id IS NOT NULL;
            CREATE INDEX bookings_salesperson_owners ON bookings(salesperson_key, live_customer_id) WHERE live_customer_id IS NOT NULL;
            -- Merges and unmerges move bookings with an UPDATE of customer_id.
            CREATE TRIGGER bookings_live_owner AFTER UPDATE OF customer_id ON bookings BEGIN
                UPDATE bookings SET live_customer_id = \(LiveOwnerColumn.owner(of: "new.customer_id")) WHERE ref = new.ref;
            END;
            ANALYZE bookings;
            """)
    }
}

/// v18: the last-order index in the order of the `last_order` sort (newest first, customers
/// without an order last, then by id), so that a page sorted by last order walks it and stops
/// after a page's worth of matches instead of sorting every match (patron-bench search, 1M
/// customers: 100,000 VIPs by last order took 170 ms to sort). It replaces the index on
/// `last_order_at`: the `last_order` filter asks for the same range of this expression.
enum LastOrderSortSchema {
    /// The sort key, of the customers row `prefix` names (`c.`, or none); never NULL.
    static func key(of prefix: String = "") -> String { "coalesce(-\(prefix)last_order_at, 9223372036854775807)" }

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            DROP INDEX customers_last_order;
            CREATE INDEX customers_last_order ON customers(\(key())) WHERE merged_into IS NULL AND erased_at IS NULL;
            """)
    }
}

/// v19: a customer's spend rows name it in `live_customer_id` while it is live, as bookings do
/// (``LiveBookingOwnerSchema``), and the spend filter's index holds that column: the customers
/// who spent at least an amount are counted in one index range instead of looking each up
/// (patron-bench search, 1M customers: 35,000 big spenders 75 ms). Erased customers keep
/// their spend rows for the figures; merged-away ones have none.
enum LiveSpendOwnerSchema {
    /// A live customer's id, or NULL: `?1` is the customer id in the spend inserts' parameters.
    static let liveOwner = LiveOwnerColumn.owner(of: "?1")

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            \(LiveOwnerColumn.add(to: "customer_spend", trigger: "customers_live_spend"))
            CREATE INDEX customer_spend_live ON customer_spend(currency, total_minor, live_customer_id) WHERE live_customer_id IS NOT NULL;
            ANALYZE customer_spend;
            """)
    }
}

/// `live_customer_id` on a table of rows a customer owns (`customer_id`): the owner while it is
/// live, NULL once it is merged away or erased, so that an index of those rows holds live
/// customers only (v17 bookings, v19 spend).
enum LiveOwnerColumn {
    /// The live customer whose id is `customer` (a parameter or a column), or NULL.
    ///
    /// Liveness is tested on the row found by its key, not in the WHERE clause: there, it matches
    /// the predicate of every partial index of live customers, and PostgreSQL's planner, before
    /// the table's first statistics, chose one of those and scanned it whole for the one id
    /// (2 ms a booking at 2,000 customers, and growing with them).
    static func owner(of customer: String) -> String {
        "(SELECT CASE WHEN merged_into IS NULL AND erased_at IS NULL THEN id END FROM customers WHERE id = \(customer))"
    }

    /// The column, filled for the rows there are, and the trigger that follows merges, unmerges
    /// and erasures (they change whether an owner is live).
    static func add(to table: String, trigger: String) -> String {
        """
        ALTER TABLE \(table) ADD COLUMN live_customer_id INTEGER;
        UPDATE \(table) SET live_customer_id = customer_id
            WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NULL AND erased_at IS NULL);
        CREATE TRIGGER \(trigger) AFTER UPDATE OF merged_into, erased_at ON customers BEGIN
            UPDATE \(table) SET live_customer_id = CASE WHEN new.merged_into IS NULL AND new.erased_at IS NULL THEN new.id END
            WHERE customer_id = new.id;
        END;
        """
    }
}

/// v20: live customers who spent, in the `total_spent` sort's order (biggest first, then by id),
/// so that a page sorted by spend walks this index and stops after a page's worth of matches
/// (patron-bench search, 1M customers: sorting 444,000 customers of one country by spend took
/// 270–370 ms). It holds only positive totals: those sort before every customer without one.
enum SpendOrderSchema {
    /// The index's condition, with the currency bound.
    static let condition = "currency = ? AND live_customer_id IS NOT NULL AND total_minor > 0"

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE INDEX customer_spend_order ON customer_spend(currency, -total_minor, live_customer_id)
                WHERE live_customer_id IS NOT NULL AND total_minor > 0;
            """)
    }
}

/// v21: a new customer's search row comes from the insert of its customers row, which the
/// record rules now write once with the event's values (``SQLiteRecordTransaction``): before,
/// the row was inserted empty, with an empty search row, and both were then updated.
enum NewCustomerSearchSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TRIGGER customer_search_insert AFTER INSERT ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL BEGIN
                \(SearchOrderSchema.insertRow);
            END;
            """)
    }
}

/// v22: a changed customer updates only the search columns made from what changed. The upsert
/// of every column rewrote all four search indexes and the row on each change: a tag added
/// moved the customer's entries in the city, zip and name indexes too (measured on the
/// 1M-customer file: a tag 291 -> 200 µs, new names and city 398 -> 316 µs, commit included).
/// A customer that becomes live again (unmerge) gets its whole row back.
enum SearchFieldTriggers {
    /// Search columns written together. The word index is rewritten once per statement that
    /// changes one of its columns, so the names stay together, and so do the other word columns.
    static let groups: [(trigger: String, columns: [String])] = [
        ("customer_search_names", ["name", "first_name", "last_name", "sort_name"]),
        ("customer_search_texts", ["company", "contact", "address", "tags"]),
        ("customer_search_city", ["city"]),
        ("customer_search_zip", ["zip"]),
    ]

    static func create(_ db: Database) throws {
        let folded = Dictionary(uniqueKeysWithValues: SearchOrderSchema.folded.map { ($0.name, $0.value) })
        precondition(Set(groups.flatMap(\.columns)) == Set(folded.keys), "every search column in one group")
        let live = "new.merged_into IS NULL AND new.erased_at IS NULL"
        let names = SearchOrderSchema.names
        var sql = """
            DROP TRIGGER customer_search_update;
            CREATE TRIGGER customer_search_revive AFTER UPDATE OF merged_into, erased_at ON customers
                WHEN \(live) AND (old.merged_into IS NOT NULL OR old.erased_at IS NOT NULL) BEGIN
                \(SearchOrderSchema.insertRow)
                ON CONFLICT (customer_id) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", "));
            END;
            """
        for group in groups {
            let values = group.columns.map { folded[$0]! }
            let sources = Set(values.flatMap { $0.matches(of: /new\.(\w+)/).map { String($0.output.1) } }).sorted()
            sql += """

                CREATE TRIGGER \(group.trigger) AFTER UPDATE OF \(sources.joined(separator: ", ")) ON customers
                    WHEN \(live) AND (\(sources.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR "))) BEGIN
                    UPDATE customer_search SET \(zip(group.columns, values).map { "\($0) = \($1)" }.joined(separator: ", ")) WHERE customer_id = new.id;
                END;
                """
        }
        try db.execute(sql: sql)
    }
}
