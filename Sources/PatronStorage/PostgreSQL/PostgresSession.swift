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
            let connection = try await PostgresConnection.connect(configuration: try location.configuration(), id: Int.random(in: 1...Int(Int32.max)),
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
