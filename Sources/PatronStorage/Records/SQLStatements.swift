import PatronDomain

/// A bound value: the few kinds the record tables hold. Flags are integers (0 or 1) on both
/// engines, so that a record's values and the SQL that reads them are spelled once.
enum SQLValue: Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    static func of(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    static func of(_ value: Int64?) -> SQLValue { value.map(SQLValue.integer) ?? .null }
    static func of(_ value: Bool?) -> SQLValue { value.map { .integer($0 ? 1 : 0) } ?? .null }
    static func of(_ value: Timestamp?) -> SQLValue { of(value?.microseconds) }
}

/// One row of a result, read by column index.
protocol ColumnReader {
    func isNull(_ index: Int32) -> Bool
    func integerOrNil(_ index: Int32) -> Int64?
    func textOrNil(_ index: Int32) -> String?
    func bytesOrNil(_ index: Int32) -> [UInt8]?
    /// For reading rows whole (`SELECT *`): how many columns, their names, each as stored.
    var columnCount: Int32 { get }
    func columnName(_ index: Int32) -> String
    func value(_ index: Int32) -> SQLValue
}

extension ColumnReader {
    func integer(_ index: Int32) -> Int64 { integerOrNil(index) ?? 0 }
    func bool(_ index: Int32) -> Bool { integer(index) != 0 }
    func text(_ index: Int32) -> String { textOrNil(index) ?? "" }
}

/// How one database connection, inside a write transaction, runs the record rules' statements.
/// The record SQL (``SQLRecordTransaction``) is written once, with `?` or `?N` parameters, in the
/// part of SQL that SQLite and PostgreSQL share; what they spell differently is asked of this
/// protocol.
protocol SQLStatements {
    associatedtype Row: ColumnReader

    func run(_ sql: String, _ values: [SQLValue]) throws
    /// Runs a statement and says how many rows it inserted, updated or deleted.
    func changes(_ sql: String, _ values: [SQLValue]) throws -> Int
    /// Hands each row to `read` as it comes, without holding the result: for exports of any length.
    func each(_ sql: String, _ values: [SQLValue], read: (Row) throws -> Void) throws
    /// The first row, read by `read`; nil when there is none.
    func first<T>(_ sql: String, _ values: [SQLValue], read: (Row) throws -> T) throws -> T?
    func all<T>(_ sql: String, _ values: [SQLValue], read: (Row) throws -> T) throws -> [T]

    /// A fresh customer id, larger than any stored and than `reserved` (taken, not yet saved).
    func newCustomerID(reserved: CustomerID?) throws -> CustomerID
    /// Writes rows whole, each replacing the one with the same key; `values` are one row's SQL
    /// expressions, one per column (parameters `?N` or subqueries of them).
    func replaceRows(table: String, key: String, columns: [String], values: [String]) -> RowInsert
    /// `expression` compared with a list of texts or of integers held in one parameter: one
    /// statement shape for any length, which each engine plans as an index lookup per value.
    func isOneOf(_ expression: String, _ values: [SQLValue]) throws -> (sql: String, parameter: SQLValue)
    /// Counts an event dropped because it predates an erasure.
    func countSuppressed() throws

    /// What the engines spell differently outside the record rules.
    static var dialect: SQLDialect { get }
}

/// The few expressions SQLite and PostgreSQL write differently.
enum SQLDialect {
    case sqlite, postgres

    /// `expression` compared and sorted without regard to ASCII case (as SQLite's NOCASE, which
    /// the unique names of groups and contacts use; PostgreSQL's unique indexes are on `lower`).
    func caseless(_ expression: String) -> String {
        switch self {
        case .sqlite: "\(expression) COLLATE NOCASE"
        case .postgres: "lower(\(expression))"
        }
    }

    /// SQLite's `INDEXED BY`, where its planner was measured choosing worse; PostgreSQL has no hints.
    func indexedBy(_ index: String) -> String {
        self == .sqlite ? " INDEXED BY \(index)" : ""
    }

    /// After a query's WHERE: its rows locked against other writers until commit, taken in
    /// `column` order (PostgreSQL, where replicas write at once, ``PostgresKeyLocks``); nothing on
    /// SQLite, whose one writer holds the file.
    func lockingRows(orderedBy column: String) -> String {
        self == .postgres ? " ORDER BY \(column) FOR UPDATE" : ""
    }

    /// The notes of a customer joined with ` | ` in the order they were written.
    func joinedNotes(of customer: String) -> String {
        switch self {
        case .sqlite: "(SELECT group_concat(text, ' | ') FROM (SELECT text FROM customer_notes n WHERE n.customer_id = \(customer) ORDER BY n.id))"
        case .postgres: "(SELECT string_agg(text, ' | ' ORDER BY n.id) FROM customer_notes n WHERE n.customer_id = \(customer))"
        }
    }
}

/// A database whose connections run ``SQLStatements``. The stores written once for both engines
/// (``SQLCustomerCatalog`` and the others in `Stores/`) take one, so their SQL is shared as the
/// record rules' is.
protocol SQLEngine: Sendable {
    associatedtype Statements: SQLStatements
    /// `body` in a read-only transaction (one snapshot), on a thread where it may block.
    func read<T: Sendable>(_ body: @escaping @Sendable (Statements) throws -> T) async throws -> T
    /// `body` in a write transaction, committed when it returns and rolled back when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (Statements) throws -> T) async throws -> T
}

extension SQLStatements {
    func run(_ sql: String, _ values: SQLValue...) throws { try run(sql, values) }
    func changes(_ sql: String, _ values: SQLValue...) throws -> Int { try changes(sql, values) }
    var dialect: SQLDialect { Self.dialect }
    func first<T>(_ sql: String, _ values: SQLValue..., read: (Row) throws -> T) throws -> T? { try first(sql, values, read: read) }
    func all<T>(_ sql: String, _ values: SQLValue..., read: (Row) throws -> T) throws -> [T] { try all(sql, values, read: read) }
}

/// `?, ?, …` for `count` values.
func parameterList(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

/// `?1, ?2, …, ?count`.
func numberedParameters(_ count: Int) -> [String] {
    (1...count).map { "?\($0)" }
}
