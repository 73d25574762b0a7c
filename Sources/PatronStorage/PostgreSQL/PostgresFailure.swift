import PostgresNIO

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
        // Without the server's word, the cause underneath (refused, TLS handshake, certificate):
        // it carries no values of a statement.
        message = error.serverInfo?[.message] ?? (error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)")
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
