import NIOCore
import PatronDomain
import PostgresNIO

/// ``SQLStatements`` on a session, inside a transaction it began.
struct PostgresStatements: SQLStatements {
    let session: PostgresSession

    func run(_ sql: String, _ values: [SQLValue]) throws { _ = try session.query(sql, values) }

    func changes(_ sql: String, _ values: [SQLValue]) throws -> Int { try session.query(sql, values).metadata.rows ?? 0 }

    /// Through a cursor of the transaction, a thousand rows at a time: the client never holds
    /// more, however many rows the statement returns.
    func each(_ sql: String, _ values: [SQLValue], read: (PostgresColumns) throws -> Void) throws {
        try run("DECLARE patron_rows NO SCROLL CURSOR FOR " + sql, values)
        while true {
            let rows = try session.query("FETCH 1000 FROM patron_rows", [])
            var count = 0
            for row in rows {
                try read(PostgresColumns(row: PostgresRandomAccessRow(row)))
                count += 1
            }
            if count < 1000 { break }
        }
        try run("CLOSE patron_rows")
    }

    static let dialect = SQLDialect.postgres

    func first<T>(_ sql: String, _ values: [SQLValue], read: (PostgresColumns) throws -> T) throws -> T? {
        guard let row = try session.query(sql, values).first(where: { _ in true }) else { return nil }
        return try read(PostgresColumns(row: PostgresRandomAccessRow(row)))
    }

    func all<T>(_ sql: String, _ values: [SQLValue], read: (PostgresColumns) throws -> T) throws -> [T] {
        try session.query(sql, values).map { try read(PostgresColumns(row: PostgresRandomAccessRow($0))) }
    }

    /// From the table's identity sequence: replicas never take the same id, and an id taken by a
    /// transaction that rolls back is simply not used.
    func newCustomerID(reserved: CustomerID?) throws -> CustomerID {
        try first("SELECT nextval(pg_get_serial_sequence('customers', 'id'))") { $0.integer(0) } ?? 0
    }

    func replaceSQL(table: String, key: String, columns: [String], values: [String]) -> String {
        """
        INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))
        ON CONFLICT (\(key)) DO UPDATE SET \(columns.filter { $0 != key }.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        """
    }

    func countSuppressed() throws {
        try run("""
            INSERT INTO ingest_counters (backend, suppressed) VALUES (pg_backend_pid(), 1)
            ON CONFLICT (backend) DO UPDATE SET suppressed = ingest_counters.suppressed + 1
            """)
    }
}

/// A PostgreSQL row read by column index. A column whose type the reader does not expect is a
/// disagreement between this code and the schema, not bad input: it stops with the column named.
struct PostgresColumns: ColumnReader {
    let row: PostgresRandomAccessRow

    func isNull(_ index: Int32) -> Bool { row[Int(index)].bytes == nil }

    func integerOrNil(_ index: Int32) -> Int64? { decode(Int64.self, index) }
    func textOrNil(_ index: Int32) -> String? { decode(String.self, index) }
    func bytesOrNil(_ index: Int32) -> [UInt8]? { decode(ByteBuffer.self, index).map { Array($0.readableBytesView) } }

    var columnCount: Int32 { Int32(row.count) }
    func columnName(_ index: Int32) -> String { row[Int(index)].columnName }

    func value(_ index: Int32) -> SQLValue {
        let cell = row[Int(index)]
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(integer(index))
        case .bytea: return .blob(bytesOrNil(index) ?? [])
        default: return .text(text(index))
        }
    }

    private func decode<T: PostgresDecodable>(_ type: T.Type, _ index: Int32) -> T? {
        let cell = row[Int(index)]
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(T.self)
        } catch {
            preconditionFailure("column \(index) (\(cell.columnName), \(cell.dataType)) read as \(T.self): \(error)")
        }
    }
}
