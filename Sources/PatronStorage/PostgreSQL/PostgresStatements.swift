import CLibPQ
import PatronDomain

/// ``SQLStatements`` on a session, inside a transaction it began.
struct PostgresStatements: SQLStatements {
    let session: PostgresSession
    /// Whether ``run(_:_:)`` sends without waiting (``PostgresSession/send(_:_:)``): its error then
    /// comes from the next statement that reads, or from COMMIT.
    var sendsWrites = false

    func run(_ sql: String, _ values: [SQLValue]) throws {
        if sendsWrites { try session.send(sql, values) } else { _ = try session.query(sql, values) }
    }

    /// Runs a statement and waits for its outcome and that of every statement sent before it:
    /// for COMMIT, ROLLBACK and the end of a savepoint, where a caller must know.
    func runAndWait(_ sql: String) throws { _ = try session.query(sql, []) }

    /// Ends a transaction or savepoint after an error: the statements still unanswered are waited
    /// for first, their own errors ignored, so that none of them makes PostgreSQL skip `sql`.
    func undo(_ sql: String) throws {
        try? session.waitForSent()
        try runAndWait(sql)
    }

    func changes(_ sql: String, _ values: [SQLValue]) throws -> Int { try session.query(sql, values).affectedRows }

    /// Through a cursor of the transaction, a thousand rows at a time: the client never holds
    /// more, however many rows the statement returns.
    func each(_ sql: String, _ values: [SQLValue], read: (PostgresColumns) throws -> Void) throws {
        try each(sql, values, fetching: 1000, read: read)
    }

    /// ``each(_:_:read:)`` `fetching` rows at a time: more for a read of millions of narrow rows
    /// (the search index's load), where each FETCH's round trip counts.
    func each(_ sql: String, _ values: [SQLValue], fetching: Int, read: (PostgresColumns) throws -> Void) throws {
        try run("DECLARE patron_rows NO SCROLL CURSOR FOR " + sql, values)
        while true {
            let rows = try session.query("FETCH \(fetching) FROM patron_rows", []).rows()
            for row in rows { try read(row) }
            if rows.count < fetching { break }
        }
        try run("CLOSE patron_rows")
    }

    static let dialect = SQLDialect.postgres

    func first<T>(_ sql: String, _ values: [SQLValue], read: (PostgresColumns) throws -> T) throws -> T? {
        let result = try session.query(sql, values)
        guard result.rowCount > 0 else { return nil }
        return try read(PostgresColumns(result: result, row: 0))
    }

    func all<T>(_ sql: String, _ values: [SQLValue], read: (PostgresColumns) throws -> T) throws -> [T] {
        try session.query(sql, values).rows().map(read)
    }

    /// From the table's identity sequence (``PostgresSession/nextCustomerID()``): replicas never
    /// take the same id, and an id taken by a transaction that rolls back is simply not used.
    func newCustomerID(reserved: CustomerID?) throws -> CustomerID { try session.nextCustomerID() }

    func replaceRows(table: String, key: String, columns: [String], values: [String]) -> RowInsert {
        RowInsert(head: "INSERT INTO \(table) (\(columns.joined(separator: ", ")))", template: values,
                  tail: "ON CONFLICT (\(key)) DO UPDATE SET \(columns.filter { $0 != key }.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))")
    }

    /// An array literal, cast and unnested: PostgreSQL joins it (by hash, or by index lookups on a
    /// large table). `= ANY` of the same array was planned, without statistics on a table that
    /// grows, as a scan testing every row against the whole list: 250 ms for 1,000 keys.
    func isOneOf(_ expression: String, _ values: [SQLValue]) throws -> (sql: String, parameter: SQLValue) {
        let array = Self.arrayLiteral(values)
        return ("\(expression) \(PostgresSession.listComparison)? AS \(array.type))))", .text(array.literal))
    }

    /// An array literal of texts or of integers, and its type.
    static func arrayLiteral(_ values: [SQLValue]) -> (literal: String, type: String) {
        var texts: [String] = []
        var integers: [String] = []
        for value in values {
            switch value {
            case .text(let text):
                texts.append("\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"")
            case .integer(let integer): integers.append(String(integer))
            case .null, .blob: preconditionFailure("a list of texts or integers")
            }
        }
        precondition(texts.isEmpty || integers.isEmpty, "a list of texts or of integers, not both")
        return ("{" + (texts + integers).joined(separator: ",") + "}", integers.isEmpty ? "text[]" : "bigint[]")
    }

    func countSuppressed() throws {
        try run("""
            INSERT INTO ingest_counters (backend, suppressed) VALUES (pg_backend_pid(), 1)
            ON CONFLICT (backend) DO UPDATE SET suppressed = ingest_counters.suppressed + 1
            """)
    }
}

/// A PostgreSQL row read by column index, from libpq's text form. A column whose text the reader
/// cannot take (not an integer where one is expected) is a disagreement between this code and the
/// schema, not bad input: it stops with the column named.
struct PostgresColumns: ColumnReader {
    let result: PostgresResult
    let row: Int32

    private var handle: OpaquePointer { result.handle }

    func isNull(_ index: Int32) -> Bool { PQgetisnull(handle, row, index) == 1 }

    func integerOrNil(_ index: Int32) -> Int64? {
        guard !isNull(index) else { return nil }
        guard let integer = Self.integer(PQgetvalue(handle, row, index)) else {
            preconditionFailure("column \(index) (\(columnName(index)), type \(PQftype(handle, index))) read as an integer")
        }
        return integer
    }

    func textOrNil(_ index: Int32) -> String? {
        guard !isNull(index), let value = PQgetvalue(handle, row, index) else { return nil }
        return value.withMemoryRebound(to: UInt8.self, capacity: Int(PQgetlength(handle, row, index))) {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(PQgetlength(handle, row, index))), as: UTF8.self)
        }
    }

    /// bytea's text form is `\x` and two hex digits a byte.
    func bytesOrNil(_ index: Int32) -> [UInt8]? {
        guard let text = textOrNil(index) else { return nil }
        let digits = Array(text.utf8.dropFirst(2))
        guard text.hasPrefix("\\x"), digits.count.isMultiple(of: 2) else {
            preconditionFailure("column \(index) (\(columnName(index))) read as bytes: not bytea's hex form")
        }
        return stride(from: 0, to: digits.count, by: 2).map { Self.nibble(digits[$0]) << 4 | Self.nibble(digits[$0 + 1]) }
    }

    var columnCount: Int32 { PQnfields(handle) }
    func columnName(_ index: Int32) -> String { String(cString: PQfname(handle, index)) }

    func value(_ index: Int32) -> SQLValue {
        guard !isNull(index) else { return .null }
        switch PQftype(handle, index) {
        case PostgresType.int8, PostgresType.int2, PostgresType.int4: return .integer(integer(index))
        case PostgresType.bytea: return .blob(bytesOrNil(index) ?? [])
        default: return .text(text(index))
        }
    }

    private static func integer(_ text: UnsafePointer<CChar>?) -> Int64? {
        guard var pointer = text else { return nil }
        let negative = pointer.pointee == 45  // "-"
        if negative { pointer += 1 }
        var value: Int64 = 0
        var digits = 0
        while case let digit = Int64(pointer.pointee) - 48, (0...9).contains(digit) {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = negative ? shifted - digit : shifted + digit
            digits += 1
            pointer += 1
        }
        return digits > 0 && pointer.pointee == 0 ? value : nil
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        switch digit {
        case 48...57: digit - 48
        case 97...102: digit - 87
        default: digit - 55  // A-F
        }
    }
}
