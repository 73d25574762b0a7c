import Foundation
import PatronDomain

/// The export log, and `export.completed` queued in the same transaction as the log entry, so an
/// export is announced exactly when it is logged (the announcement relay publishes it with
/// confirms).
struct SQLExportLog<Engine: SQLEngine>: ExportLogStore {
    let engine: Engine
    private static var columns: String { "id, requested_by, started_at, completed_at, format, filter, fields, rows, file, sha256, removed_at" }

    func record(_ entry: ExportLogEntry) async throws {
        let filter = String(decoding: try JSONOutput.encode(JSONValue.object(entry.filter)), as: UTF8.self)
        let fields = String(decoding: try JSONOutput.encode(entry.fields), as: UTF8.self)
        try await engine.write { statements in
            try statements.run("""
                INSERT INTO export_log (id, requested_by, started_at, completed_at, format, filter, fields, rows, file, sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(entry.id), .text(entry.requestedBy), .of(entry.startedAt), .of(entry.completedAt), .text(entry.format),
                      .text(filter), .text(fields), .integer(Int64(entry.rows)), .text(entry.file), .text(entry.sha256)])
            try SQLRecordTransaction(statements).enqueue(entry.announcement)
        }
    }

    func entries(limit: Int) async throws -> [ExportLogEntry] {
        try await engine.read { statements in
            try statements.all("SELECT \(Self.columns) FROM export_log ORDER BY completed_at DESC, id LIMIT ?", .integer(Int64(limit)),
                               read: Self.entry)
        }
    }

    func filesCompleted(before time: Timestamp) async throws -> [ExportLogEntry] {
        try await engine.read { statements in
            try statements.all("SELECT \(Self.columns) FROM export_log WHERE removed_at IS NULL AND completed_at < ? ORDER BY completed_at",
                               .of(time), read: Self.entry)
        }
    }

    func entry(id: String) async throws -> ExportLogEntry? {
        try await engine.read { statements in
            try statements.first("SELECT \(Self.columns) FROM export_log WHERE id = ?", .text(id), read: Self.entry)
        }
    }

    func markRemoved(_ id: String, at time: Timestamp) async throws {
        try await engine.write { try $0.run("UPDATE export_log SET removed_at = ? WHERE id = ?", .of(time), .text(id)) }
    }

    private static func entry(_ row: Engine.Statements.Row) -> ExportLogEntry {
        let filter = (try? JSONParser.parse(Array(row.text(5).utf8)))?.objectValue ?? JSONObject()
        let fields = (try? JSONParser.parse(Array(row.text(6).utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
        return ExportLogEntry(id: row.text(0), requestedBy: row.text(1), startedAt: Timestamp(microseconds: row.integer(2)),
                              completedAt: Timestamp(microseconds: row.integer(3)), format: row.text(4), filter: filter,
                              fields: fields, rows: Int(row.integer(7)), file: row.text(8), sha256: row.text(9),
                              removedAt: row.integerOrNil(10).map(Timestamp.init(microseconds:)))
    }
}
