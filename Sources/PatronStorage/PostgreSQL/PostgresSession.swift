import Dispatch
import Foundation
import Logging
import NIOCore
import PatronDomain
import PostgresNIO

/// One PostgreSQL connection and the thread its statements block.
///
/// The record rules are synchronous: they ask storage one question at a time and decide on the
/// answer (``RecordTransaction``). Each session therefore runs them on a serial dispatch queue of
/// its own, where a statement waits for its reply; the cooperative pool never blocks, as with
/// the AMQP connections (README, "Threads").
public final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    private let queue: DispatchQueue
    /// SQL with `?` parameters, as PostgreSQL spells it (`$1`…); used on `queue` only.
    private var translated: [String: String] = [:]

    private init(connection: PostgresConnection, label: String, logger: Logger) {
        self.connection = connection
        self.logger = logger
        queue = DispatchQueue(label: label)
    }

    static func connect(_ location: PostgresLocation, label: String, logger: Logger) async throws -> PostgresSession {
        do {
            let connection = try await PostgresConnection.connect(configuration: location.configuration, id: Int.random(in: 1...Int(Int32.max)),
                                                                  logger: logger)
            return PostgresSession(connection: connection, label: label, logger: logger)
        } catch let error as PSQLError {
            throw PostgresFailure(error, sql: "(connecting to \(location))")
        }
    }

    /// Runs `body` on the session's thread, where its statements may block.
    func perform<T: Sendable>(_ body: @escaping @Sendable (PostgresStatements) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(PostgresStatements(session: self)) })
            }
        }
    }

    func close() async {
        try? await connection.close()
    }

    /// Runs one statement and waits for all its rows. On the session's queue only.
    func query(_ sql: String, _ values: [SQLValue]) throws -> PostgresQueryResult {
        dispatchPrecondition(condition: .onQueue(queue))
        let text = translated[sql] ?? {
            let text = Self.numberedParameters(sql)
            translated[sql] = text
            return text
        }()
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        do {
            return try connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger).wait()
        } catch let error as PSQLError {
            throw PostgresFailure(error, sql: sql)
        }
    }

    /// Runs a script of several statements, one by one (the extended protocol that PostgresNIO
    /// speaks takes one statement at a time). On the session's queue only.
    func execute(script: String) throws {
        for statement in Self.statements(in: script) { _ = try query(statement, []) }
    }

    /// A script's statements: split at each `;` outside quotes and `$$` bodies, without their
    /// `--` comments.
    static func statements(in script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        var inBody = false
        var inComment = false
        var previous: Character?
        for character in script {
            if inComment {
                if character == "\n" { inComment = false } else { continue }
            }
            if quote == nil, !inBody, character == "-", previous == "-" {
                current.removeLast()
                inComment = true
                previous = nil
                continue
            }
            current.append(character)
            defer { previous = character }
            if inBody {
                if character == "$", previous == "$" { inBody = false }
                continue
            }
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"": quote = character
            case "$" where previous == "$": inBody = true
            case ";":
                let statement = current.dropLast().trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            default: break
            }
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }

    /// `?` → `$1`, `$2`… in order, and `?N` → `$N`, outside quoted strings and identifiers.
    static func numberedParameters(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quote: Character?
        var characters = sql.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if let open = quote {
                result.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                result.append(character)
            case "?":
                var digits = ""
                while let digit = pending, digit.isASCII, digit.isNumber {
                    digits.append(digit)
                    pending = characters.next()
                }
                if digits.isEmpty {
                    result += "$\(next)"
                    next += 1
                } else {
                    result += "$" + digits
                }
            default:
                result.append(character)
            }
        }
        return result
    }
}

/// A statement PostgreSQL refused, or a connection that failed under it: its SQLSTATE and
/// message and the statement's SQL, never its values (personal data). PSQLError's own description
/// says nothing, on purpose, for the same reason.
public struct PostgresFailure: Error, CustomStringConvertible {
    /// Absent when the server did not answer (the connection failed).
    public let sqlState: String?
    public let message: String
    public let sql: String

    init(_ error: PSQLError, sql: String) {
        sqlState = error.serverInfo?[.sqlState]
        message = error.serverInfo?[.message] ?? "\(error.code)"
        self.sql = sql
    }

    /// Another transaction got in the way: running the transaction again will do.
    var isRetryable: Bool { ["40001", "40P01"].contains(sqlState) }

    /// Failures that say nothing about the event: the connection, the server's resources or
    /// state, a conflict with another transaction. The batch goes back to the ingest, which
    /// retries it, rather than the event being dead-lettered.
    var isEnvironmental: Bool {
        guard let sqlState else { return true }
        return ["08", "40", "53", "54", "55", "57", "58", "XX"].contains(String(sqlState.prefix(2)))
    }

    public var description: String {
        "PostgreSQL \(sqlState ?? "connection"): \(message) in: \(sql.split(whereSeparator: \.isNewline).first ?? "")"
    }
}

/// Where a PostgreSQL database is: a `postgres://user:password@host:port/database` URL.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let user: String
    let password: String?
    public let database: String

    /// Whether a database URL names PostgreSQL (anything else is a SQLite directory).
    public static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    private init(host: String, port: Int, user: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Another database on the same server, as the same user.
    public func database(_ name: String) -> PostgresLocation {
        PostgresLocation(host: host, port: port, user: user, password: password, database: name)
    }

    public init(url: String) throws {
        guard Self.isPostgres(url), let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw PostgresLocationError(reason: "expected postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresLocationError(reason: "names no database (…/database at the end)") }
        guard let user = components.user, !user.isEmpty else { throw PostgresLocationError(reason: "names no user (user@host)") }
        if let query = components.queryItems, !query.isEmpty {
            throw PostgresLocationError(reason: "takes no options (\(query.map(\.name).joined(separator: ", ")))")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
    }

    var configuration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// Without the password: for logs and errors.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

public struct PostgresLocationError: Error, CustomStringConvertible {
    let reason: String
    public var description: String { "database url: \(reason)" }
}

/// ``SQLStatements`` on a session, inside a transaction it began.
struct PostgresStatements: SQLStatements {
    let session: PostgresSession

    func run(_ sql: String, _ values: [SQLValue]) throws { _ = try session.query(sql, values) }

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
