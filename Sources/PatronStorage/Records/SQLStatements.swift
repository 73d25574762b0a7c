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
    /// The first row, read by `read`; nil when there is none.
    func first<T>(_ sql: String, _ values: [SQLValue], read: (Row) throws -> T) throws -> T?
    func all<T>(_ sql: String, _ values: [SQLValue], read: (Row) throws -> T) throws -> [T]

    /// A fresh customer id, larger than any stored and than `reserved` (taken, not yet saved).
    func newCustomerID(reserved: CustomerID?) throws -> CustomerID
    /// Writes the row whole, replacing the one with the same key; `values` are SQL expressions,
    /// one per column (parameters `?N` or subqueries of them).
    func replaceSQL(table: String, key: String, columns: [String], values: [String]) -> String
    /// Counts an event dropped because it predates an erasure.
    func countSuppressed() throws
}

extension SQLStatements {
    func run(_ sql: String, _ values: SQLValue...) throws { try run(sql, values) }
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
