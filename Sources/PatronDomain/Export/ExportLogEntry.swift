/// One written export, as the export log keeps it (issue 7: who, when, filter, fields, rows,
/// file, sha256), and as `export.completed` announces it.
public struct ExportLogEntry: Sendable, Equatable {
    public var id: String
    /// The broker user who ran `exports.run`, or `schedule:<name>`.
    public var requestedBy: String
    public var startedAt: Timestamp
    public var completedAt: Timestamp
    public var format: String
    public var filter: JSONObject
    public var fields: [String]
    public var rows: Int
    /// Absolute path on Patron's host.
    public var file: String
    public var sha256: String
    /// When retention deleted the file.
    public var removedAt: Timestamp?

    public init(id: String, requestedBy: String, startedAt: Timestamp, completedAt: Timestamp, format: String, filter: JSONObject,
                fields: [String], rows: Int, file: String, sha256: String, removedAt: Timestamp? = nil) {
        self.id = id
        self.requestedBy = requestedBy
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.format = format
        self.filter = filter
        self.fields = fields
        self.rows = rows
        self.file = file
        self.sha256 = sha256
        self.removedAt = removedAt
    }

    /// `exports.run`'s result (EVENTS.md).
    public var result: JSONValue {
        .object(["export_id": .string(id), "file": .string(file), "rows": .integer(Int64(rows)), "sha256": .string(sha256)])
    }

    /// `export.completed` on `patron.notifications`: the result plus the format and time.
    public var announcement: Announcement {
        var body = ["export_id": JSONValue.string(id), "file": .string(file), "rows": .integer(Int64(rows)), "sha256": .string(sha256)]
        body["format"] = .string(format)
        body["completed_at"] = .string(completedAt.description)
        return Announcement(id: "export.completed/\(id)", type: "export.completed", body: JSONObject(body))
    }

    /// A line of `exports.log`.
    public var json: JSONValue {
        .object([
            "export_id": .string(id), "requested_by": .string(requestedBy), "started_at": .string(startedAt.description),
            "completed_at": .string(completedAt.description), "format": .string(format), "filter": .object(filter),
            "fields": .array(fields.map(JSONValue.string)), "rows": .integer(Int64(rows)), "file": .string(file), "sha256": .string(sha256),
            "removed_at": removedAt.map { .string($0.description) } ?? .null,
        ])
    }
}

/// The export log (issue 7), kept with the records.
public protocol ExportLogStore: Sendable {
    /// Logs the entry and queues its `export.completed` in the same transaction.
    func record(_ entry: ExportLogEntry) async throws
    /// The newest entries first.
    func entries(limit: Int) async throws -> [ExportLogEntry]
    /// Entries whose file is still there and was completed before `time`.
    func filesCompleted(before time: Timestamp) async throws -> [ExportLogEntry]
    func markRemoved(_ id: String, at time: Timestamp) async throws
    /// The entry of one export, or nil when there is none.
    func entry(id: String) async throws -> ExportLogEntry?
}
