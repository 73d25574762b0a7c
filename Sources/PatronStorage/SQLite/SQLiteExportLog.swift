import Foundation
import GRDB
import PatronDomain

/// The export log, and `export.completed` queued in the same transaction as the log entry, so an
/// export is announced exactly when it is logged (the announcement relay publishes it with
/// confirms).
public struct SQLiteExportLog: Sendable {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func record(_ entry: ExportLogEntry) async throws {
        let filter = String(decoding: try JSONOutput.encode(JSONValue.object(entry.filter)), as: UTF8.self)
        let fields = String(decoding: try JSONOutput.encode(entry.fields), as: UTF8.self)
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO export_log (id, requested_by, started_at, completed_at, format, filter, fields, rows, file, sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [entry.id, entry.requestedBy, entry.startedAt.microseconds, entry.completedAt.microseconds, entry.format,
                                 filter, fields, entry.rows, entry.file, entry.sha256])
            try SQLiteRecordTransaction(db: db).enqueue(entry.announcement)
        }
    }

    /// The newest entries first.
    public func entries(limit: Int) async throws -> [ExportLogEntry] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM export_log ORDER BY completed_at DESC, id LIMIT ?", arguments: [limit]).map(Self.entry)
        }
    }

    /// Entries whose file is still there and was completed before `time`.
    public func filesCompleted(before time: Timestamp) async throws -> [ExportLogEntry] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM export_log WHERE removed_at IS NULL AND completed_at < ? ORDER BY completed_at",
                             arguments: [time.microseconds]).map(Self.entry)
        }
    }

    public func markRemoved(_ id: String, at time: Timestamp) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE export_log SET removed_at = ? WHERE id = ?", arguments: [time.microseconds, id])
        }
    }

    private static func entry(_ row: Row) -> ExportLogEntry {
        let filter = (try? JSONParser.parse(Array((row["filter"] as String).utf8)))?.objectValue ?? JSONObject()
        let fields = (try? JSONParser.parse(Array((row["fields"] as String).utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
        return ExportLogEntry(id: row["id"], requestedBy: row["requested_by"], startedAt: Timestamp(microseconds: row["started_at"]),
                              completedAt: Timestamp(microseconds: row["completed_at"]), format: row["format"], filter: filter,
                              fields: fields, rows: row["rows"], file: row["file"], sha256: row["sha256"],
                              removedAt: (row["removed_at"] as Int64?).map(Timestamp.init(microseconds:)))
    }
}
