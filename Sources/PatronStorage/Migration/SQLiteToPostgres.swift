import CPatronShims
import Foundation
import GRDB
import Logging

/// Copies a SQLite Patron database into PostgreSQL (`patronctl migrate-storage`): every table
/// PostgreSQL's schema shares with it, and the audit file beside it, then verifies each table by
/// its row count and a SHA-256 of its rows in key order on both sides.
///
/// Resumable: each table is copied in key order, in transactions of one page, from after the
/// last key PostgreSQL already holds (and a row that is there already is left as it is), so a
/// run cut short continues where it stopped. Run it with patrond stopped: rows written during the
/// copy would make the verification fail, which it reports rather than hides.
///
/// What is not copied, because PostgreSQL derives it: SQLite's search tables (FTS5, the folded
/// search row and the search index's change list), its `ingest_state` row (its figures become one
/// `ingest_counters` row), and the migration bookkeeping of each engine.
public struct SQLiteToPostgres: Sendable {
    /// One table's outcome.
    public struct TableResult: Sendable {
        public let table: String
        public let sourceRows: Int64
        public let targetRows: Int64
        /// Rows this run wrote (0 when an earlier run had copied them all).
        public let copied: Int64
        public let sourceChecksum: String
        public let targetChecksum: String

        public var verified: Bool { sourceRows == targetRows && sourceChecksum == targetChecksum }
    }

    private let source: PatronDatabase
    private let audit: SQLiteCommandAudit
    private let target: PatronPostgresDatabase
    /// Rows read from SQLite and committed to PostgreSQL at a time.
    private let pageSize: Int

    public init(source: PatronDatabase, target: PatronPostgresDatabase, pageSize: Int = 2_000) throws {
        self.source = source
        audit = try SQLiteCommandAudit(beside: source)
        self.target = target
        self.pageSize = max(1, pageSize)
    }

    /// Copies what is missing, then verifies every table; `progress` hears each table as it goes.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> [TableResult] {
        var results: [TableResult] = []
        for table in try await tables() {
            progress("\(table.name): copying")
            let reader: any DatabaseReader = table.name == "command_audit" ? audit.queue : source.pool
            let copied = try await copy(table, from: reader)
            progress("\(table.name): verifying")
            results.append(try await verify(table, against: reader, copied: copied))
        }
        try await carryOverIngestFigures()
        try await forgetCopiedChanges()
        return results
    }

    /// The copy's inserts listed every customer in `search_changes` (p5): millions of rows that
    /// no replica needs, since each loads its search index whole when it starts (and none runs
    /// during a copy).
    private func forgetCopiedChanges() async throws {
        try await PostgresEngine(database: target).write { try $0.run("TRUNCATE search_changes") }
    }

    /// A PostgreSQL table with the columns SQLite has too, its primary key and identity columns.
    struct Table {
        let name: String
        let columns: [String]
        let key: [String]
        /// Key columns that are text: ordered in byte order ("C"), as SQLite orders them.
        let textKeys: Set<String>
        let identity: [String]
        /// Columns that reference the table itself (a customer's `merged_into`): a row may name
        /// one in a later page, so they are set once every row is there.
        let selfReferences: [String]

        func ordered(_ column: String, postgres: Bool) -> String {
            postgres && textKeys.contains(column) ? "\(quoted(column)) COLLATE \"C\"" : quoted(column)
        }

        /// As an identifier both engines read as a name (`user` is a keyword in PostgreSQL).
        func quoted(_ column: String) -> String { "\"\(column)\"" }

        func list(_ columns: [String]) -> String { columns.map(quoted).joined(separator: ", ") }

        func order(postgres: Bool) -> String { key.map { ordered($0, postgres: postgres) }.joined(separator: ", ") }
    }

    private static let notCopied: Set<String> = ["patron_migrations", "ingest_counters"]

    /// The tables to copy, each after the tables its foreign keys name.
    func tables() async throws -> [Table] {
        let (described, references) = try await PostgresEngine(database: target).read { statements in
            let names = try statements.all("""
                SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name
                """) { $0.text(0) }
            let references = try statements.all("""
                SELECT CAST(CAST(conrelid AS regclass) AS text), CAST(CAST(confrelid AS regclass) AS text), a.attname
                FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] WHERE c.contype = 'f'
                """) { ($0.text(0), $0.text(1), $0.text(2)) }
            return (try names.filter { !Self.notCopied.contains($0) }.map { name -> (String, [(String, String, Bool)], [String]) in
                let columns = try statements.all("""
                    SELECT column_name, data_type, CASE WHEN is_identity = 'YES' THEN 1 ELSE 0 END FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position
                    """, .text(name)) { ($0.text(0), $0.text(1), $0.integer(2) == 1) }
                let key = try statements.all("""
                    SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                    WHERE i.indrelid = CAST(? AS regclass) AND i.indisprimary ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)
                    """, .text(name)) { $0.text(0) }
                return (name, columns, key)
            }, references)
        }
        let sqliteColumns = try await source.pool.read { db in
            try described.reduce(into: [String: Set<String>]()) { result, table in
                if try db.tableExists(table.0) { result[table.0] = Set(try db.columns(in: table.0).map(\.name)) }
            }
        }
        let auditColumns = try await audit.queue.read { db in Set(try db.columns(in: "command_audit").map(\.name)) }
        var tables: [Table] = described.compactMap { name, columns, key in
            guard let shared = name == "command_audit" ? auditColumns : sqliteColumns[name], !key.isEmpty else { return nil }
            let kept = columns.filter { shared.contains($0.0) }
            return Table(name: name, columns: kept.map(\.0), key: key,
                         textKeys: Set(kept.filter { key.contains($0.0) && $0.1 == "text" }.map(\.0)), identity: kept.filter(\.2).map(\.0),
                         selfReferences: references.filter { $0.0 == name && $0.1 == name }.map(\.2))
        }
        var ordered: [Table] = []
        while !tables.isEmpty {
            let done = Set(ordered.map(\.name))
            let ready = tables.filter { table in references.allSatisfy { $0.0 != table.name || $0.1 == table.name || done.contains($0.1) } }
            ordered += ready.isEmpty ? tables : ready
            tables.removeAll { table in ordered.contains { $0.name == table.name } }
        }
        return ordered
    }

    /// Copies the rows after the last key PostgreSQL holds; returns how many it wrote.
    private func copy(_ table: Table, from reader: any DatabaseReader) async throws -> Int64 {
        let engine = PostgresEngine(database: target)
        let keyIndexes = table.key.map { table.columns.firstIndex(of: $0)! }
        var after: [SQLValue]? = try await engine.read { statements in
            try statements.first("""
                SELECT \(table.list(table.key)) FROM \(table.name)
                ORDER BY \(table.key.map { table.ordered($0, postgres: true) + " DESC" }.joined(separator: ", ")) LIMIT 1
                """) { row in (0..<Int32(table.key.count)).map(row.value) }
        }
        let select = "SELECT \(table.list(table.columns)) FROM \(table.name)"
        let rowValues = "(" + parameterList(table.columns.count) + ")"
        let rowsPerStatement = max(1, min(500, 30_000 / table.columns.count))
        var copied: Int64 = 0
        while true {
            let start = after
            let page = try await reader.read { [pageSize] db in
                let statements = SQLiteStatements(db: db)
                let condition = start.map { _ in " WHERE (\(table.list(table.key))) > (\(parameterList(table.key.count)))" } ?? ""
                return try statements.all(select + condition + " ORDER BY \(table.order(postgres: false)) LIMIT ?",
                                          (start ?? []) + [.integer(Int64(pageSize))]) { row in
                    (0..<Int32(table.columns.count)).map { table.selfReferences.contains(table.columns[Int($0)]) ? .null : row.value($0) }
                }
            }
            guard let last = page.last else {
                try await setSelfReferences(table, from: reader)
                try await engine.write { statements in
                    // New rows on PostgreSQL take ids after the copied ones.
                    for column in table.identity {
                        _ = try statements.first("""
                            SELECT setval(pg_get_serial_sequence('\(table.name)', '\(column)'), coalesce(max(\(table.quoted(column))), 0) + 1, false)
                            FROM \(table.name)
                            """) { _ in true }
                    }
                }
                return copied
            }
            let written = try await engine.write { statements in
                var written = 0
                for chunkStart in stride(from: 0, to: page.count, by: rowsPerStatement) {
                    let chunk = page[chunkStart..<min(chunkStart + rowsPerStatement, page.count)]
                    written += try statements.changes("""
                        INSERT INTO \(table.name) (\(table.list(table.columns))) \(table.identity.isEmpty ? "" : "OVERRIDING SYSTEM VALUE ")
                        VALUES \(Array(repeating: rowValues, count: chunk.count).joined(separator: ", ")) ON CONFLICT DO NOTHING
                        """, chunk.flatMap { $0 })
                }
                return written
            }
            copied += Int64(written)
            after = keyIndexes.map { last[$0] }
        }
    }

    /// The self-referencing columns, set now that every row they may name is there.
    private func setSelfReferences(_ table: Table, from reader: any DatabaseReader) async throws {
        let engine = PostgresEngine(database: target)
        for column in table.selfReferences {
            var after: [SQLValue]?
            while true {
                let start = after
                let page = try await reader.read { [pageSize] db in
                    let condition = (start == nil ? "" : " AND (\(table.list(table.key))) > (\(parameterList(table.key.count)))")
                    return try SQLiteStatements(db: db).all("""
                        SELECT \(table.list(table.key)), \(table.quoted(column)) FROM \(table.name) WHERE \(table.quoted(column)) IS NOT NULL\(condition)
                        ORDER BY \(table.order(postgres: false)) LIMIT ?
                        """, (start ?? []) + [.integer(Int64(pageSize))]) { row in (0...Int32(table.key.count)).map(row.value) }
                }
                guard let last = page.last else { break }
                try await engine.write { statements in
                    for row in page {
                        let value = row[table.key.count]
                        try statements.run("""
                            UPDATE \(table.name) SET \(table.quoted(column)) = ? WHERE \(table.key.map { "\(table.quoted($0)) = ?" }.joined(separator: " AND "))
                                AND \(table.quoted(column)) IS DISTINCT FROM ?
                            """, [value] + row.prefix(table.key.count) + [value])
                    }
                }
                after = Array(last.prefix(table.key.count))
            }
        }
    }

    private func verify(_ table: Table, against reader: any DatabaseReader, copied: Int64) async throws -> TableResult {
        let select = "SELECT \(table.list(table.columns)) FROM \(table.name)"
        let width = Int32(table.columns.count)
        let source = try await reader.read { db in
            let digest = try RowDigest()
            try SQLiteStatements(db: db).each(select + " ORDER BY \(table.order(postgres: false))", []) { try digest.add(row: $0, width: width) }
            return (digest.rows, try digest.finish())
        }
        let target = try await PostgresEngine(database: target).read { statements in
            let digest = try RowDigest()
            try statements.each(select + " ORDER BY \(table.order(postgres: true))", []) { try digest.add(row: $0, width: width) }
            return (digest.rows, try digest.finish())
        }
        return TableResult(table: table.name, sourceRows: source.0, targetRows: target.0, copied: copied,
                           sourceChecksum: source.1, targetChecksum: target.1)
    }

    /// SQLite's journal figures as one `ingest_counters` row (backend 0: no server connection
    /// has that id), replaced on every run.
    private func carryOverIngestFigures() async throws {
        let figures = try await source.pool.read { db in
            try SQLiteStatements(db: db).first("""
                SELECT recorded, duplicates, failed, suppressed, last_received_at, last_occurred_at FROM ingest_state WHERE id = 1
                """) { row in (0..<Int32(6)).map(row.value) }
        }
        guard let figures else { return }
        try await PostgresEngine(database: target).write { statements in
            try statements.run("""
                INSERT INTO ingest_counters (backend, recorded, duplicates, failed, suppressed, last_received_at, last_occurred_at)
                VALUES (0, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (backend) DO UPDATE SET recorded = excluded.recorded, duplicates = excluded.duplicates, failed = excluded.failed,
                    suppressed = excluded.suppressed, last_received_at = excluded.last_received_at, last_occurred_at = excluded.last_occurred_at
                """, figures)
        }
    }
}

/// SHA-256 over rows, each value tagged with its kind and length, so that two engines that
/// hold the same values in the same order give the same digest. Used on one thread, in one read.
final class RowDigest {
    private let context: UnsafeMutableRawPointer
    private var finished = false
    private var buffer: [UInt8] = []
    private(set) var rows: Int64 = 0

    init() throws {
        guard let context = patron_sha256_begin() else { throw RowDigestError() }
        self.context = context
    }

    deinit {
        if !finished { patron_sha256_discard(context) }
    }

    func add(row: some ColumnReader, width: Int32) throws {
        for index in 0..<width {
            switch row.value(index) {
            case .null: buffer.append(0x4E)
            case .integer(let value): append(0x49, Array(String(value).utf8))
            case .text(let text): append(0x54, Array(text.utf8))
            case .blob(let blob): append(0x42, blob)
            }
        }
        buffer.append(0x0A)
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// The digest as hex; nothing may be added after.
    func finish() throws -> String {
        try flush()
        finished = true
        var out = [UInt8](repeating: 0, count: 32)
        guard patron_sha256_finish(context, &out) == 0 else { throw RowDigestError() }
        return out.map { String(format: "%02x", $0) }.joined()
    }

    private func append(_ tag: UInt8, _ value: [UInt8]) {
        buffer.append(tag)
        buffer.append(contentsOf: Array(String(value.count).utf8))
        buffer.append(0x3A)
        buffer.append(contentsOf: value)
    }

    private func flush() throws {
        let status = buffer.withUnsafeBufferPointer { patron_sha256_update(context, $0.baseAddress, $0.count) }
        guard status == 0 else { throw RowDigestError() }
        buffer.removeAll(keepingCapacity: true)
    }
}

struct RowDigestError: Error, CustomStringConvertible {
    var description: String { "SHA-256 failed (OpenSSL)" }
}
