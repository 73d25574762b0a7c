import Foundation
import GRDB
import PatronDomain

/// The audit log in a file of its own beside the database (`patron.sqlite` → `patron-audit.sqlite`).
///
/// Not in the customer database, for two reasons measured there. Every command writes one row
/// before its reply, and any commit to a SQLite file makes every reader drop its page cache: each
/// search then read cold, 15–80 ms more per `customers.search` round trip on a million customers
/// (patron-bench search). And the row waited for the one writer, which ingest may hold for a whole
/// batch.
///
/// Databases from before this file kept the log in their own `command_audit` table: opening moves
/// those rows here (same ids, so a move cut short is simply done again) and then drops the table.
public final class SQLiteCommandAudit: CommandAudit {
    let queue: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) the audit file of `database` and moves the rows of its old table.
    public init(beside database: PatronDatabase) throws {
        let databasePath = database.path as NSString
        let name = (databasePath.lastPathComponent as NSString).deletingPathExtension + "-audit.sqlite"
        path = (databasePath.deletingLastPathComponent as NSString).appendingPathComponent(name)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // What a client was answered is on record even after a power cut (see PatronDatabase).
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(queue)
        try moveRows(from: database)
    }

    public func record(_ entry: CommandAuditEntry) async throws {
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO command_audit (at, user, command, outcome) VALUES (?, ?, ?, ?)",
                           arguments: [entry.at.microseconds, entry.user, entry.command, entry.outcome])
        }
    }

    /// The log as recorded, oldest first.
    public func entries() throws -> [CommandAuditEntry] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT at, user, command, outcome FROM command_audit ORDER BY id").map {
                CommandAuditEntry(at: Timestamp(microseconds: $0["at"]), user: $0["user"], command: $0["command"], outcome: $0["outcome"])
            }
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-command-audit") { db in
            // Who ran which command when, and the outcome; never arguments (personal data).
            try db.execute(sql: """
                CREATE TABLE command_audit (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    user TEXT,
                    command TEXT,
                    outcome TEXT NOT NULL
                );
                CREATE INDEX command_audit_at ON command_audit(at);
                """)
        }
        return migrator
    }

    private typealias OldRow = (id: Int64, at: Int64, user: String?, command: String?, outcome: String)

    private func moveRows(from database: PatronDatabase) throws {
        guard try database.pool.read({ try $0.tableExists("command_audit") }) else { return }
        var after: Int64 = 0
        while true {
            let rows: [OldRow] = try database.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, at, user, command, outcome FROM command_audit WHERE id > ? ORDER BY id LIMIT 10000",
                                 arguments: [after]).map { ($0["id"], $0["at"], $0["user"], $0["command"], $0["outcome"]) }
            }
            guard let last = rows.last else { break }
            try queue.write { db in
                let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO command_audit (id, at, user, command, outcome) VALUES (?, ?, ?, ?, ?)")
                for row in rows { try insert.execute(arguments: [row.id, row.at, row.user, row.command, row.outcome]) }
            }
            after = last.id
        }
        try database.pool.write { try $0.execute(sql: "DROP TABLE command_audit") }
    }
}
