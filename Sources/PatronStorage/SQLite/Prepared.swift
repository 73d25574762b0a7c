import GRDB
import GRDBSQLite
import PatronDomain

/// One of GRDB's cached statements, bound and stepped through SQLite's C API: arguments by
/// position, columns by index. Every event runs about a dozen statements, and perf showed GRDB's
/// general machinery there (arguments as arrays of existentials, `Row` objects, column lookup by
/// lowercased name) costing more than SQLite's own work. GRDB still owns the statement: it
/// prepares it once per connection and finalizes it.
struct Prepared {
    private let handle: OpaquePointer
    private let db: Database
    private let sql: String

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        self.sql = sql
        handle = try db.cachedStatement(sql: sql).sqliteStatement
    }

    /// Runs a statement that returns no rows.
    func run(_ values: SQLValue...) throws { try run(values) }

    func run(_ values: [SQLValue]) throws {
        try bind(values)
        defer { sqlite3_reset(handle) }
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW { code = sqlite3_step(handle) }
        guard code == SQLITE_DONE else { throw error() }
    }

    /// The first row, read by `read`; nil when there is none.
    func first<T>(_ values: SQLValue..., read: (Columns) throws -> T) throws -> T? { try first(values, read: read) }

    func first<T>(_ values: [SQLValue], read: (Columns) throws -> T) throws -> T? {
        try bind(values)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw error() }
        return try read(Columns(handle: handle))
    }

    /// Every row, each read by `read`.
    func all<T>(_ values: SQLValue..., read: (Columns) throws -> T) throws -> [T] { try all(values, read: read) }

    func all<T>(_ values: [SQLValue], read: (Columns) throws -> T) throws -> [T] {
        try bind(values)
        defer { sqlite3_reset(handle) }
        var rows: [T] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error() }
            rows.append(try read(Columns(handle: handle)))
        }
    }

    /// Every row, each handed to `read` while it is current.
    func each(_ values: [SQLValue], read: (Columns) throws -> Void) throws {
        try each(values, while: { columns in
            try read(columns)
            return true
        })
    }

    /// Rows in order, each handed to `read` while it is current, until `read` returns false.
    func each(_ values: [SQLValue], while read: (Columns) throws -> Bool) throws {
        try bind(values)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error() }
            if try !read(Columns(handle: handle)) { return }
        }
    }

    private func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .integer(let integer):
                code = sqlite3_bind_int64(handle, index, integer)
            case .text(let text) where text.isEmpty:
                // Swift's empty buffers may have no address, which SQLite would take for NULL.
                code = sqlite3_bind_text(handle, index, "", 0, nil)
            case .text(let text):
                var text = text
                code = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
                }
            case .blob(let bytes) where bytes.isEmpty:
                code = sqlite3_bind_zeroblob(handle, index, 0)
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
            }
            guard code == SQLITE_OK else { throw error() }
        }
    }

    private func error() -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(db.sqliteConnection)),
                      message: db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }, sql: sql)
    }

    /// The current row's columns, by index.
    struct Columns: ColumnReader {
        fileprivate let handle: OpaquePointer

        func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }
        func integer(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
        func integerOrNil(_ index: Int32) -> Int64? { isNull(index) ? nil : integer(index) }
        func bytesOrNil(_ index: Int32) -> [UInt8]? {
            if isNull(index) { return nil }
            let count = Int(sqlite3_column_bytes(handle, index))
            guard count > 0, let bytes = sqlite3_column_blob(handle, index) else { return [] }
            return Array(UnsafeRawBufferPointer(start: bytes, count: count))
        }
        var columnCount: Int32 { sqlite3_column_count(handle) }
        func columnName(_ index: Int32) -> String { String(cString: sqlite3_column_name(handle, index)) }
        func value(_ index: Int32) -> SQLValue {
            switch sqlite3_column_type(handle, index) {
            case SQLITE_NULL: .null
            case SQLITE_INTEGER: .integer(integer(index))
            case SQLITE_BLOB: .blob(bytesOrNil(index) ?? [])
            default: .text(text(index))
            }
        }
        func textOrNil(_ index: Int32) -> String? {
            guard let bytes = sqlite3_column_text(handle, index) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, index))), as: UTF8.self)
        }
    }
}

/// Tells SQLite to copy a text or blob handed to it: Swift's buffers do not outlive the call.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
