import CLibPQ
import Foundation

/// A statement PostgreSQL refused, or a connection that failed under it: its SQLSTATE and
/// message and the statement's SQL, never its values (personal data: the primary message names
/// at most the column's type, the values are in the detail, which is not kept).
public struct PostgresFailure: Error, CustomStringConvertible {
    /// Absent when the server did not answer (the connection failed).
    public let sqlState: String?
    public let message: String
    public let sql: String

    init(sqlState: String?, message: String, sql: String) {
        self.sqlState = sqlState
        self.message = message
        self.sql = sql
    }

    /// From a result that failed; one without a SQLSTATE is libpq's own word (the connection).
    init(_ result: PostgresResult, sql: String) {
        sqlState = result.errorField(UInt8(ascii: "C"))
        message = result.errorField(UInt8(ascii: "M"))
            ?? String(cString: PQresultErrorMessage(result.handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        self.sql = sql
    }

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
