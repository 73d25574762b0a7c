import Foundation
import GRDB
import Logging
@testable import PatronStorage
import Testing

/// Schema history that cannot drift: each shipped migration is the text it shipped with (a
/// fingerprint per migration, so an edit of a shipped one fails here), and a database upgraded
/// from every earlier version has exactly the schema of a fresh one, on both engines.
///
/// The fingerprints were taken from the SQL each migration ran when it first shipped. On the
/// code before `SQLiteMigrations`, v17 fails: its trigger was built from `LiveOwnerColumn`,
/// which 84dacff rewrote, so files made since then got another v17 than older files.
struct SchemaHistoryTests {
    /// FNV-1a (64 bits) of each migration's SQL, as it shipped.
    static let shipped: [String: String] = [
        "v1-event-journal": "1fc239c650d166bc", "v2-customer-records": "0d874a823db5deb6", "v3-command-audit": "cdb5532916bfe5b4",
        "v4-customer-catalog": "290cc75f60535415", "v5-customer-search-text": "60b0ca226a84ae0c", "v6-stats-indexes": "6d59f64c99b2bc98",
        "v7-consent-purpose": "0bb793f8c15b65ab", "v8-search-indexes": "39e199797ac5f8e5", "v9-search-order": "e94d83ad566e6e6a",
        "v10-search-words": "c7dd0fbc760f4521", "v11-live-search": "833dcbca19859e74", "v12-name-words": "51b12e3e2a123a8d",
        "v13-export-log": "aa0f8042535b068b", "v14-schedules": "7549b3f2487699b0", "v15-dispatch": "7c5e880328863d7f",
        "v16-narrow-search-lookups": "39ce3704d05b11f3", "v17-live-booking-owners": "d2f96097957c1a78",
        "v18-last-order-order": "f24b548d1d4d1528", "v19-live-spend-owners": "9e3f53e366e7405c", "v20-spend-order": "bdb3f40fa85961ed",
        "v21-new-customer-search": "f9986bebcfe7768b", "v22-search-updates-by-field": "9670b86aeea5e1a1",
        "v23-customer-segments": "61a56272e54a8d94", "v24-customer-segments-by-city": "bf12b8658d60525e",
        "v25-search-words-queue": "5939c962dec8f45d", "v26-dispatch-sends": "f5b4625992c70cda",
        "v27-booking-owner-trigger-by-key": "a057961a19ea7f9f",
        "v28-search-changes": "c4b28a52c482e880",
        "v29-drop-search-only-indexes": "ec3d0255622b66dc",
        "p1-records-as-of-sqlite-v22": "2020f56fae44475f", "p2-search-and-relay-claims": "1fad7ea24f76d60f",
        "p3-live-owner-by-key": "31f0c12ba79d7507", "p4-dispatch-sends": "86d25038260da725",
        "p5-search-changes": "592eb022ee92ac1c", "p6-drop-search-only-indexes": "f8a46f16c27e6034",
    ]

    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test func everyShippedMigrationIsTheTextItShippedWith() {
        let all = SQLiteMigrations.all + PostgresMigrations.all
        #expect(Set(all.map(\.identifier)) == Set(Self.shipped.keys), "a new migration adds its fingerprint here")
        for (identifier, sql) in all {
            #expect(Self.fingerprint(sql) == Self.shipped[identifier], "\(identifier) changed after it shipped: add a migration instead")
        }
    }

    /// SQLite's whole schema (`sqlite_master`), white space folded.
    static func schema(_ db: Database) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").map { row in
            let sql = (row["sql"] as String?)?.split(whereSeparator: \.isWhitespace).joined(separator: " ") ?? ""
            return "\(row["type"] as String) \(row["name"] as String) on \(row["tbl_name"] as String): \(sql)"
        }
    }

    static func sqliteDatabase() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.inDatabase { try PatronDatabase.addFold(to: $0) }
        return queue
    }

    @Test func aSQLiteFileUpgradedFromEveryVersionHasTheFreshSchema() throws {
        let fresh = try Self.sqliteDatabase()
        try PatronDatabase.migrator.migrate(fresh)
        let expected = try fresh.read(Self.schema)
        #expect(expected.contains { $0.hasPrefix("trigger bookings_live_owner") && $0.contains("SELECT CASE WHEN merged_into IS NULL") })
        for (identifier, _) in SQLiteMigrations.all.dropLast() {
            let upgraded = try Self.sqliteDatabase()
            try PatronDatabase.migrator.migrate(upgraded, upTo: identifier)
            try PatronDatabase.migrator.migrate(upgraded)
            let actual = try upgraded.read(Self.schema)
            #expect(actual == expected, "upgraded from \(identifier): \(Set(actual).symmetricDifference(expected).sorted())")
        }
    }

    /// PostgreSQL's schema as its catalog describes it: columns, constraints, indexes, functions
    /// (not the extensions') and triggers.
    static func schema(_ session: PostgresSession) async throws -> [String] {
        try await session.perform { statements in
            try [
                "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' #' || ordinal_position FROM information_schema.columns WHERE table_schema = 'public'",
                "SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
                "SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
                """
                SELECT 'function ' || p.proname || ' ' || pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
                """,
                "SELECT 'trigger ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
            ].flatMap { sql in try statements.all(sql) { $0.text(0) } }.sorted()
        }
    }

    static func postgresSession() async throws -> (PostgresSession, PostgresLocation) {
        let location = try await TestPostgres.freshDatabase()
        return (try await PostgresSession.connect(location, label: "test", logger: Logger(label: "test")), location)
    }

    @Test func aPostgreSQLDatabaseUpgradedFromEveryVersionHasTheFreshSchema() async throws {
        let (fresh, freshLocation) = try await Self.postgresSession()
        try await fresh.perform { try PostgresMigrator.migrate($0.session, location: freshLocation) }
        let expected = try await Self.schema(fresh)
        await fresh.close()
        #expect(expected.contains { $0.hasPrefix("function patron_booking_live_owner") && $0.contains("CASE WHEN merged_into IS NULL") })
        for count in 1..<PostgresMigrations.all.count {
            let (upgraded, location) = try await Self.postgresSession()
            try await upgraded.perform { try PostgresMigrator.migrate($0.session, location: location, migrations: Array(PostgresMigrations.all.prefix(count))) }
            try await upgraded.perform { try PostgresMigrator.migrate($0.session, location: location) }
            let actual = try await Self.schema(upgraded)
            await upgraded.close()
            let version = PostgresMigrations.all[count - 1].identifier
            #expect(actual == expected, "upgraded from \(version): \(Set(actual).symmetricDifference(expected).sorted())")
        }
    }
}
