import GRDB

// What the record SQL and the search read and write of SQLite's search structures. The
// structures themselves are made by migrations (``SQLiteMigrations``); each section here says
// which, and why it exists.

/// v10, v12: an FTS5 trigram index of the word-searched fields and the tags, so that `name`,
/// `company`, `contact`, `address` and `tag` find their matches through an index instead of
/// reading every search row (patron-bench search, 1M customers: a word search scanned for
/// 430–600 ms, a tag for 230 ms); first and last names in columns of their own (v12), so that a
/// name search is answered by the index alone.
///
/// The trigram tokenizer, because the contract asks for substrings (`arcí` finds García), which
/// a word tokenizer's prefix queries cannot give. It indexes the folded copies in
/// `customer_search`, so accents and case are already gone (3.40's trigram tokenizer has no
/// `remove_diacritics`). Each value is indexed behind a space: every word then starts after a
/// space, and a two-letter word's "start of a word" is the trigram " ma".
///
/// Contentless: the text lives in `customer_search`, and triggers queue the old values to
/// delete (``SearchWordsQueueSchema``). A deleted entry stays in the older segments until they
/// are merged, so an erasure merges the index (``optimize(_:)``) before its checkpoint.
enum SearchWordsSchema {
    static let table = "customer_words"
    /// The indexed columns of `customer_search`, in the index's column order. `tags` too: its
    /// tags sit between separators, so the phrase "␟vip␟" is the whole tag VIP.
    static let columns = ["first_name", "last_name", "company", "contact", "address", "tags"]

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

/// v16: the booking filters' folded hotel, salesperson and transport are columns that the
/// booking's upsert fills, instead of expression indexes: SQLite 3.40 cannot answer from an
/// index on `patron_fold(hotel)` without reading each booking row (nor from one on a virtual
/// generated column), and reading 32,000 bookings for a transport in a month took 60–70 ms;
/// from the index alone, 4 ms. The upsert folds them in the same statement (no trigger on
/// ingest's hottest write); a trigger catches any other UPDATE of the fields.
enum NarrowLookupSchema {
    /// The booking fields a filter compares folded, and the column that holds each folded.
    static let foldedBookingFields: [(field: String, column: String)] = [
        ("hotel", "hotel_key"), ("salesperson", "salesperson_key"), ("transport", "transport_key"),
    ]
}

/// v17: each booking names its owner again in `live_customer_id` while that owner is live (NULL
/// once it is merged away or erased), and the booking filters' indexes hold that column. A
/// booking filter then finds live customers in its index alone, instead of looking each match
/// up in the search table (one B-tree seek per match: 30 ms per 30,000), and a filter on
/// bookings only is counted as the distinct owners in one index range (patron-bench search, 1M
/// customers, sqlite3: 32,000 bookings of a transport in a month 39 → 11 ms).
enum LiveBookingOwnerSchema {
    /// A live customer's id, or NULL: `?2` is the customer id in the booking upsert's parameters.
    static let liveOwner = LiveOwnerColumn.owner(of: "?2")
}

/// v19: a customer's spend rows name it in `live_customer_id` while it is live, as bookings do
/// (``LiveBookingOwnerSchema``), and the spend filter's index holds that column: the customers
/// who spent at least an amount are counted in one index range instead of looking each up
/// (patron-bench search, 1M customers: 35,000 big spenders 75 ms). Erased customers keep
/// their spend rows for the figures; merged-away ones have none.
enum LiveSpendOwnerSchema {
    /// A live customer's id, or NULL: `?1` is the customer id in the spend inserts' parameters.
    static let liveOwner = LiveOwnerColumn.owner(of: "?1")
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
}
