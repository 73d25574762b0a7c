import GRDB
import PatronDomain

/// The audit log in the `command_audit` table, beside the records it concerns.
public struct SQLiteCommandAudit: CommandAudit {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func record(_ entry: CommandAuditEntry) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "INSERT INTO command_audit (at, user, command, outcome) VALUES (?, ?, ?, ?)",
                           arguments: [entry.at.microseconds, entry.user, entry.command, entry.outcome])
        }
    }
}
