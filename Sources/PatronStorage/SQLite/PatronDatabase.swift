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
    /// What `customers.search` filters and sorts in memory, kept in step with the file.
    let searchIndex = SQLiteSearchIndex()

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
                try searchIndex.prune(db)
                return rollingBack ? .rollback : .commit
            }
            return result!
        }
    }

    /// Loads the search index, or applies the changes committed since it last looked. patrond
    /// loads it before it reports READY, so that the first search does not wait for it, and
    /// then keeps it current every quarter second, so that a search finds few changes waiting.
    public func updateSearchIndex() async throws {
        try await pool.read { [searchIndex] db in try searchIndex.withCurrentIndex(db) { _ in } }
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

    /// Every schema change, in order, as literal SQL (``SQLiteMigrations``).
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, sql) in SQLiteMigrations.all {
            migrator.registerMigration(identifier) { db in try db.execute(sql: sql) }
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
