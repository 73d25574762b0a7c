import Foundation
import GRDB
import GRDBSQLite
import PatronDomain

/// The SQLite database of one Patron installation: one `DatabasePool` (WAL) per file, opened and
/// migrated before anything else runs.
///
/// ## Topics
/// - ``open(directory:fileName:)``
/// - ``migrator``
public final class PatronDatabase: Sendable {
    /// Internal: a write transaction outside ``write(rollingBack:_:)`` would leave its search
    /// words queued (``SearchWordsQueueSchema``). Code beyond this module reads with ``read(_:)``.
    let pool: DatabasePool
    public let path: String
    let checkpointer: BackgroundCheckpointer

    /// Opens (creating if needed) the database in `directory` and runs pending migrations.
    ///
    /// - Throws: if the directory cannot be created, the file cannot be opened, or the file's
    ///   schema is newer than this binary knows (a downgrade).
    public static func open(directory: String, fileName: String = "patron.sqlite") throws -> PatronDatabase {
        try open(directory: directory, fileName: fileName, checkpoints: BackgroundCheckpointer.Thresholds())
    }

    /// `checkpoints`: when the WAL is copied into the file (tests make it small).
    static func open(directory: String, fileName: String, checkpoints: BackgroundCheckpointer.Thresholds) throws -> PatronDatabase {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = (directory as NSString).appendingPathComponent(fileName)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let checkpointer = BackgroundCheckpointer(path: path, configuration: configuration, thresholds: checkpoints)
        configuration.prepareDatabase { db in
            // 4 KiB pages. Each event changes a leaf page in each of some twenty indexes, spread
            // over the file, and each such page is written whole to the WAL and again at the
            // checkpoint. With 16 KiB pages (chosen when the journal was most of the writing)
            // patron-bench wrote 92 KB per imported row. 4 KiB: import into 1M customers
            // 3.7k -> 4.9k rows/s, ingest into an empty database 3.9k -> 4.7k msg/s, search the same.
            // Takes effect when the file is created: an existing file keeps its page size until
            // it is rebuilt (README, "Database page size").
            try db.execute(sql: "PRAGMA page_size = 4096")
            // Checkpoint every ~40 MiB of WAL instead of ~4 MiB: the journal's hot pages (the last
            // leaf, the id index) change in every batch, and each checkpoint copies them again.
            // The writer leaves that to a connection of its own (BackgroundCheckpointer).
            if !db.configuration.readonly { checkpointer.install(on: db) }
            // Erasure must leave no bytes behind: freed and overwritten content is zeroed in the
            // page, and the erasing batch checkpoints the WAL (SQLiteEventStore).
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // SQLite caches 2 MiB of pages by default. With a million customers each new customer
            // updates some fifteen index pages spread over the file; the writer keeps 256 MiB of
            // them (patron-bench import at 1M customers: 2.7k rows/s with the default cache),
            // each reader 32 MiB for search pages.
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -32_768 : -262_144)")
            // Readers map the file (up to 2 GiB, SQLite's compiled limit here) instead of copying
            // each page through read(2): a search that looks up tens of thousands of rows spends
            // most of its time there otherwise (patron-bench search: a 55,000-row count 62 → 36 ms).
            // That holds while nothing is written: after any commit SQLite drops a reader's cache
            // and mapping, and the next search reads cold either way (the bench's round-trip
            // column, where each command's audit entry is a commit: the same with and without).
            if db.configuration.readonly { try db.execute(sql: "PRAGMA mmap_size = 2147418112") }
            // The search index's folding (triggers call it, so every connection needs it).
            try Self.addFold(to: db)
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // WAL's `synchronous = NORMAL` keeps the database consistent after a power cut but may
        // lose the last commits. Patron acknowledges a message to the broker right after its
        // commit, so the broker forgets it: that commit must survive power loss too. FULL fsyncs
        // the WAL on every commit; batching keeps that to one fsync per batch. Set here, not in
        // `prepareDatabase`: the pool sets NORMAL on its writer after that, when it turns WAL on.
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let database = PatronDatabase(pool: pool, path: path, checkpointer: checkpointer)
        try database.migrate()
        return database
    }

    /// `patron_fold(text)`: ``SearchText/fold(utf8:)`` in SQL; NULL stays NULL.
    ///
    /// Through SQLite's C API rather than GRDB's `DatabaseFunction`, which makes an array of
    /// values, a String of the argument and another of the result: 1.15 µs a call more than
    /// `lower()`, 0.47 µs now (300,000 names), and the search triggers fold about a dozen values
    /// of each new customer.
    static func addFold(to db: Database) throws {
        let code = sqlite3_create_function_v2(db.sqliteConnection, "patron_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, { context, _, arguments in
            guard let argument = arguments?[0], sqlite3_value_type(argument) != SQLITE_NULL else { return sqlite3_result_null(context) }
            let text = UnsafeBufferPointer(start: sqlite3_value_text(argument), count: Int(sqlite3_value_bytes(argument)))
            let folded = SearchText.fold(utf8: text)
            guard !folded.isEmpty else { return sqlite3_result_text(context, "", 0, nil) }
            folded.withUnsafeBytes { bytes in
                sqlite3_result_text(context, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), sqliteTransient)
            }
        }, nil, nil, nil)
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "patron_fold could not be registered") }
    }

    /// Copies the WAL into the database file and truncates it, so that no old page is left in
    /// it (after an erasure, or a bulk load before a measurement).
    public func checkpoint() async throws {
        try await pool.writeWithoutTransaction { [checkpointer] db in try checkpointer.truncate(on: db) }
    }

    /// A write transaction, as the stores make theirs, committed when `body` returns (or
    /// rolled back, `rollingBack`: a dry run) and rolled back when it throws. It ends by handing
    /// the word index the changes its triggers queued, as every write transaction must
    /// (``SearchWordsQueueSchema``).
    public func write<T: Sendable>(rollingBack: Bool = false, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction {
                result = try body(db)
                try SearchWordsQueueSchema.flush(db)
                return rollingBack ? .rollback : .commit
            }
            return result!
        }
    }

    /// A read on a snapshot of the last commit, on one of the reader connections.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    private init(pool: DatabasePool, path: String, checkpointer: BackgroundCheckpointer) {
        self.pool = pool
        self.path = path
        self.checkpointer = checkpointer
    }

    private func migrate() throws {
        let migrator = Self.migrator
        try pool.read { db in
            if try migrator.hasBeenSuperseded(db) {
                throw DatabaseSchemaTooNew(path: path)
            }
        }
        try migrator.migrate(pool)
    }

    /// Every schema change, in order. A shipped migration is never edited: add a new one.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-event-journal") { db in
            try db.execute(sql: """
                CREATE TABLE event_journal (
                    seq INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL,
                    source TEXT,
                    routing_key TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    payload BLOB NOT NULL
                );
                CREATE TABLE ingest_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    recorded INTEGER NOT NULL,
                    duplicates INTEGER NOT NULL,
                    last_received_at INTEGER,
                    last_occurred_at INTEGER
                );
                INSERT INTO ingest_state (id, recorded, duplicates) VALUES (1, 0, 0);
                """)
        }
        migrator.registerMigration("v2-customer-records", migrate: RecordSchema.create)
        migrator.registerMigration("v3-command-audit") { db in
            // Who ran which command when, and the outcome; never arguments (personal data).
            try db.execute(sql: """
                CREATE TABLE command_audit (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    user TEXT,
                    command TEXT,
                    outcome TEXT NOT NULL
                );
                CREATE INDEX command_audit_at ON command_audit(at);
                """)
        }
        migrator.registerMigration("v4-customer-catalog") { db in
            try db.execute(sql: """
                CREATE TABLE customer_groups (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    discount_bp INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                );
                ALTER TABLE customers ADD COLUMN custom_group_id INTEGER REFERENCES customer_groups(id);
                CREATE INDEX customers_custom_group ON customers(custom_group_id) WHERE custom_group_id IS NOT NULL;
                CREATE INDEX customers_auto_group ON customers(auto_group) WHERE merged_into IS NULL;
                -- Departments that customer-service threads go to.
                CREATE TABLE contacts (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    email TEXT,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX threads_open_contact ON threads(is_open, contact, opened_at);
                CREATE INDEX carts_status_updated ON carts(status, updated_at);
                CREATE INDEX carts_visitor_updated ON carts(updated_at) WHERE customer_id IS NULL;
                """)
        }
        migrator.registerMigration("v5-customer-search-text", migrate: SearchSchema.create)
        migrator.registerMigration("v6-stats-indexes") { db in
            // stats.get counts by period; these keep each KPI one index range.
            try db.execute(sql: """
                CREATE INDEX bookings_status_seen ON bookings(status, first_seen_at);
                CREATE INDEX customers_first_contact ON customers(first_contact_at) WHERE merged_into IS NULL;
                CREATE INDEX payments_occurred ON payments(occurred_at);
                CREATE INDEX threads_opened ON threads(opened_at);
                CREATE INDEX carts_updated ON carts(updated_at);
                CREATE INDEX customer_spend_currency ON customer_spend(currency, total_minor);
                """)
        }
        migrator.registerMigration("v7-consent-purpose") { db in
            // Imports from QloApps state consent to partners' offers beside the newsletter's.
            try db.execute(sql: "ALTER TABLE consent_statements ADD COLUMN purpose TEXT NOT NULL DEFAULT 'newsletter'")
        }
        migrator.registerMigration("v8-search-indexes") { db in
            // customers.search: each equality filter one index range (patron-bench search). The
            // booking filters compare folded values, so their indexes are on patron_fold().
            try db.execute(sql: """
                CREATE INDEX customer_search_city ON customer_search(city);
                CREATE INDEX customer_search_zip ON customer_search(zip);
                CREATE INDEX customers_country ON customers(country);
                CREATE INDEX customers_language ON customers(language COLLATE NOCASE);
                CREATE INDEX customers_newsletter ON customers(newsletter);
                CREATE INDEX customers_orders ON customers(orders);
                CREATE INDEX customers_last_order ON customers(last_order_at);
                CREATE INDEX bookings_departure ON bookings(departure);
                CREATE INDEX bookings_hotel_folded ON bookings(patron_fold(hotel), departure);
                CREATE INDEX bookings_salesperson_folded ON bookings(patron_fold(salesperson), departure);
                CREATE INDEX bookings_transport_folded ON bookings(patron_fold(transport), departure);
                ANALYZE;
                """)
        }
        migrator.registerMigration("v9-search-order", migrate: SearchOrderSchema.create)
        migrator.registerMigration("v10-search-words", migrate: SearchWordsSchema.create)
        migrator.registerMigration("v11-live-search", migrate: LiveSearchSchema.create)
        migrator.registerMigration("v12-name-words", migrate: SearchNameWordsSchema.create)
        migrator.registerMigration("v13-export-log") { db in
            // Every export written (issue 7): who, when, filter, fields, rows, file, sha256; and
            // when retention removed the file.
            try db.execute(sql: """
                CREATE TABLE export_log (
                    id TEXT PRIMARY KEY,
                    requested_by TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    completed_at INTEGER NOT NULL,
                    format TEXT NOT NULL,
                    filter TEXT NOT NULL,
                    fields TEXT NOT NULL,
                    rows INTEGER NOT NULL,
                    file TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    removed_at INTEGER
                );
                CREATE INDEX export_log_completed ON export_log(completed_at);
                """)
        }
        migrator.registerMigration("v14-schedules") { db in
            // Show Schedules. A run is claimed by moving next_run in the same UPDATE that checks
            // it (so it happens once, across restarts and replicas); running_since stays set
            // until the run's result is written, so a run cut short by a crash is reported.
            try db.execute(sql: """
                CREATE TABLE schedules (
                    name TEXT PRIMARY KEY,
                    cron TEXT NOT NULL,
                    timezone TEXT NOT NULL,
                    action TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    next_run INTEGER,
                    last_run INTEGER,
                    last_result TEXT,
                    running_since INTEGER
                );
                CREATE INDEX schedules_next_run ON schedules(next_run);
                """)
        }
        migrator.registerMigration("v15-dispatch") { db in
            // The dispatch outbox: a job is inserted in the transaction of what triggered it, and
            // its job_id (derived from the trigger) is unique, so a trigger delivered twice queues
            // one job. A published job keeps its row without body: its id stays taken.
            // not_before holds marketing SMS until quiet hours end.
            // Timers: rules due later (pre-arrival, post-stay, abandoned cart), one per rule and
            // subject; they hold references only, no personal data.
            try db.execute(sql: """
                CREATE TABLE dispatch_outbox (
                    id INTEGER PRIMARY KEY,
                    job_id TEXT NOT NULL UNIQUE,
                    channel TEXT NOT NULL,
                    customer_id INTEGER,
                    template TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    body BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    not_before INTEGER NOT NULL,
                    published_at INTEGER
                );
                CREATE INDEX dispatch_outbox_pending ON dispatch_outbox(channel, id) WHERE published_at IS NULL;
                CREATE INDEX dispatch_outbox_customer ON dispatch_outbox(customer_id) WHERE published_at IS NULL;
                CREATE TABLE dispatch_timers (
                    key TEXT PRIMARY KEY,
                    rule TEXT NOT NULL,
                    subject_kind TEXT NOT NULL,
                    subject_id TEXT NOT NULL,
                    subject_date TEXT,
                    reply_event_id TEXT,
                    due_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX dispatch_timers_due ON dispatch_timers(due_at);
                """)
        }
        migrator.registerMigration("v16-narrow-search-lookups", migrate: NarrowLookupSchema.create)
        migrator.registerMigration("v17-live-booking-owners", migrate: LiveBookingOwnerSchema.create)
        migrator.registerMigration("v18-last-order-order", migrate: LastOrderSortSchema.create)
        migrator.registerMigration("v19-live-spend-owners", migrate: LiveSpendOwnerSchema.create)
        migrator.registerMigration("v20-spend-order", migrate: SpendOrderSchema.create)
        migrator.registerMigration("v21-new-customer-search", migrate: NewCustomerSearchSchema.create)
        migrator.registerMigration("v22-search-updates-by-field", migrate: SearchFieldTriggers.create)
        migrator.registerMigration("v23-customer-segments", migrate: SegmentSchema.create)
        migrator.registerMigration("v24-customer-segments-by-city", migrate: SegmentSchema.addCity)
        migrator.registerMigration("v25-search-words-queue", migrate: SearchWordsQueueSchema.create)
        // Sends safe to repeat: the answer kept per idempotency key, and who was sent a template
        // lately (the resend window), over published jobs too.
        migrator.registerMigration("v26-dispatch-sends") { db in
            try db.execute(sql: """
                CREATE TABLE dispatch_sends (
                    idempotency_key TEXT PRIMARY KEY,
                    request_digest TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    result TEXT NOT NULL,
                    completed_at INTEGER NOT NULL
                );
                CREATE INDEX dispatch_outbox_sent ON dispatch_outbox(customer_id, template, channel, created_at);
                """)
        }
        return migrator
    }
}

/// The database was written by a newer Patron; running old code on it could corrupt it.
public struct DatabaseSchemaTooNew: Error, CustomStringConvertible {
    public let path: String
    public var description: String {
        "\(path): the database schema is newer than this patrond; upgrade patrond instead of downgrading"
    }
}
