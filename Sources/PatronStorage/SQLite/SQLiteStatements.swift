import GRDB
import PatronDomain

/// The record rules' statements on one GRDB connection inside a write transaction: each SQL text
/// is prepared once per connection (``Prepared``).
struct SQLiteStatements: SQLStatements {
    let db: Database

    func run(_ sql: String, _ values: [SQLValue]) throws { try Prepared(db, sql).run(values) }

    func changes(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try Prepared(db, sql).run(values)
        return db.changesCount
    }

    func each(_ sql: String, _ values: [SQLValue], read: (Prepared.Columns) throws -> Void) throws {
        try Prepared(db, sql).each(values, read: read)
    }

    static let dialect = SQLDialect.sqlite

    func first<T>(_ sql: String, _ values: [SQLValue], read: (Prepared.Columns) throws -> T) throws -> T? {
        try Prepared(db, sql).first(values, read: read)
    }

    func all<T>(_ sql: String, _ values: [SQLValue], read: (Prepared.Columns) throws -> T) throws -> [T] {
        try Prepared(db, sql).all(values, read: read)
    }

    /// The id SQLite would give the row (the largest plus one): one writer, so no one else takes it.
    func newCustomerID(reserved: CustomerID?) throws -> CustomerID {
        let stored = try first("SELECT coalesce(max(id), 0) FROM customers") { $0.integer(0) } ?? 0
        return max(stored, reserved ?? 0) + 1
    }

    /// A delete and an insert: no UPDATE triggers fire (the booking's folded keys are written by
    /// the statement itself).
    func replaceRows(table: String, key: String, columns: [String], values: [String]) -> RowInsert {
        RowInsert(head: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", ")))", template: values)
    }

    /// A JSON array read by `json_each`.
    func isOneOf(_ expression: String, _ values: [SQLValue]) throws -> (sql: String, parameter: SQLValue) {
        let texts = values.compactMap { if case .text(let text) = $0 { text } else { nil } }
        let json = texts.count == values.count ? try JSONOutput.encode(texts)
            : try JSONOutput.encode(values.compactMap { if case .integer(let integer) = $0 { integer } else { nil } })
        return ("\(expression) IN (SELECT value FROM json_each(?))", .text(String(decoding: json, as: UTF8.self)))
    }

    func countSuppressed() throws {
        try run("UPDATE ingest_state SET suppressed = suppressed + 1 WHERE id = 1")
    }
}

/// The stores that share their SQL with PostgreSQL (``SQLEngine``), on the pool's connections.
struct SQLiteEngine: SQLEngine {
    let database: PatronDatabase

    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteStatements) throws -> T) async throws -> T {
        try await database.pool.read { try body(SQLiteStatements(db: $0)) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteStatements) throws -> T) async throws -> T {
        try await database.write { try body(SQLiteStatements(db: $0)) }
    }
}

/// The record rules on SQLite.
typealias SQLiteRecordTransaction = SQLRecordTransaction<SQLiteStatements>

extension SQLRecordTransaction where Statements == SQLiteStatements {
    init(db: Database) { self.init(SQLiteStatements(db: db)) }

    var db: Database { statements.db }
}
