import Foundation
import GRDB
import PatronDomain
@testable import PatronStorage
import Testing

/// The audit log's own file, and the move of a log kept in the customer database before it.
@Suite struct CommandAuditStoreTests {
    private static func oldRows(_ database: PatronDatabase, _ rows: [(Int64, String?, String)]) throws {
        try database.pool.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS command_audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT, command TEXT, outcome TEXT NOT NULL)")
            for (id, user, outcome) in rows {
                try db.execute(sql: "INSERT INTO command_audit (id, at, user, command, outcome) VALUES (?, ?, ?, 'status.get', ?)",
                               arguments: [id, id * 1000, user, outcome])
            }
        }
    }

    @Test func oldRowsMoveOnceAndNewOnesFollowThem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-audit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try PatronDatabase.open(directory: directory.path)
        // The schema's v3 made the old table; a database from before the move has rows in it.
        try Self.oldRows(database, [(1, "alice", "ok"), (2, nil, "forbidden")])
        let audit = try SQLiteCommandAudit(beside: database)
        #expect(audit.path == directory.appendingPathComponent("patron-audit.sqlite").path)
        #expect(try await database.pool.read { try $0.tableExists("command_audit") } == false)
        try await audit.record(CommandAuditEntry(at: Timestamp(microseconds: 3000), user: "bob", command: "customers.get", outcome: "not_found"))
        let expected = [
            CommandAuditEntry(at: Timestamp(microseconds: 1000), user: "alice", command: "status.get", outcome: "ok"),
            CommandAuditEntry(at: Timestamp(microseconds: 2000), user: nil, command: "status.get", outcome: "forbidden"),
            CommandAuditEntry(at: Timestamp(microseconds: 3000), user: "bob", command: "customers.get", outcome: "not_found"),
        ]
        #expect(try audit.entries() == expected)

        // A move cut short before the old table was dropped runs again without doubling a row.
        try Self.oldRows(database, [(1, "alice", "ok"), (2, nil, "forbidden")])
        #expect(try SQLiteCommandAudit(beside: database).entries() == expected)
    }

    /// Searches read through the customer database's readers, whose caches any commit to that
    /// file resets: an audit row must not be one.
    @Test func recordingLeavesTheCustomerDatabaseUnchanged() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-audit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try PatronDatabase.open(directory: directory.path, fileName: "hotel.sqlite")
        let audit = try SQLiteCommandAudit(beside: database)
        #expect(audit.path.hasSuffix("/hotel-audit.sqlite"))
        // One reader's data_version changes when another connection commits to its file.
        var readOnly = Configuration()
        readOnly.readonly = true
        let reader = try DatabaseQueue(path: database.path, configuration: readOnly)
        let version = { try reader.read { try Int.fetchOne($0, sql: "PRAGMA data_version") } }
        let before = try version()
        try await audit.record(CommandAuditEntry(at: .now, user: "alice", command: "customers.search", outcome: "ok"))
        #expect(try version() == before)
        try await database.pool.write { try $0.execute(sql: "INSERT INTO customer_groups (name, discount_bp, created_at) VALUES ('Staff', 0, 0)") }
        #expect(try version() != before, "the reader would see a commit to the customer database")
    }
}
