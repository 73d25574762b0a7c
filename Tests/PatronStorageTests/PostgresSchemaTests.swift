import Foundation
import GRDB
import Logging
import PatronDomain
@testable import PatronStorage
import Testing

/// PostgreSQL's schema and connection: migrations kept in step with SQLite's, applied once by
/// replicas that start together, refused when newer than the binary; URLs and SQL translation.
struct PostgresSchemaTests {
    /// Tables only one engine has, on purpose (PostgresMigrations explains each).
    static let sqliteOnly: Set<String> = ["grdb_migrations", "ingest_state", "customer_search", "search_changes", "sqlite_stat1"]
    /// The audit is in SQLite's file of its own (its old table is dropped when that file opens).
    static let postgresOnly: Set<String> = ["patron_migrations", "ingest_counters", "command_audit", "search_changes"]
    /// The relays' claims: on SQLite one patrond owns the file and claims nothing.
    static let postgresOnlyColumns: [String: Set<String>] = ["outbox": ["claimed_until"], "dispatch_outbox": ["claimed_until"]]

    @Test func tablesAndColumnsAreTheSameOnBothEngines() async throws {
        let sqlite = try RecordsFixture()
        let sqliteColumns = try await sqlite.read { db in
            var tables: [String: Set<String>] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'customer_words%'") {
                tables[table] = Set(try db.columns(in: table).map(\.name))
            }
            return tables
        }
        let postgres = try await RecordsFixture.open(.postgres)
        var postgresColumns: [String: Set<String>] = [:]
        for row in try await postgres.rows("""
            SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'
            """) {
            let (table, column) = (row.text("table_name")!, row.text("column_name")!)
            if Self.postgresOnlyColumns[table]?.contains(column) != true { postgresColumns[table, default: []].insert(column) }
        }
        #expect(sqliteColumns.filter { !Self.sqliteOnly.contains($0.key) } == postgresColumns.filter { !Self.postgresOnly.contains($0.key) })
        #expect(Set(sqliteColumns.keys).isSuperset(of: Self.sqliteOnly.subtracting(["sqlite_stat1"])))
        #expect(Set(postgresColumns.keys).isSuperset(of: Self.postgresOnly))
    }

    @Test func aDatabaseWithANewerSchemaStopsTheStart() async throws {
        let location = try await TestPostgres.freshDatabase()
        let database = try await PatronPostgresDatabase.open(location, logger: Logger(label: "test"))
        try await database.writer.perform { try $0.run("INSERT INTO patron_migrations (identifier) VALUES ('p99-from-a-newer-patrond')") }
        await database.close()
        await #expect(throws: DatabaseSchemaTooNew.self) {
            let reopened = try await PatronPostgresDatabase.open(location, logger: Logger(label: "test"))
            await reopened.close()
        }
    }

    @Test func replicasStartingTogetherMigrateOnce() async throws {
        let location = try await TestPostgres.freshDatabase()
        let databases = try await withThrowingTaskGroup(of: PatronPostgresDatabase.self) { group in
            for _ in 0..<4 { group.addTask { try await PatronPostgresDatabase.open(location, logger: Logger(label: "test")) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let applied = try await databases[0].writer.perform { try $0.all("SELECT identifier FROM patron_migrations") { $0.text(0) } }
        #expect(applied == PostgresMigrations.all.map(\.identifier))
        for database in databases { await database.close() }
    }

    @Test func anUnreachableServerIsAClearError() async throws {
        let location = try PostgresLocation(url: "postgres://patron:patron@127.0.0.1:9/patron")
        await #expect {
            try await PatronPostgresDatabase.open(location, logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains("connecting to postgres://patron@127.0.0.1:9/patron") && !"\(error)".contains("patron:patron")
        }
    }

    @Test(arguments: [
        ("mysql://a@b/c", "expected postgres://"),
        ("postgres://localhost/", "names no database"),
        ("postgres://localhost/patron", "names no user"),
        ("postgres://a@localhost/patron?application_name=x", "takes no option application_name (only sslmode and sslrootcert)"),
        ("postgres://a@localhost/patron?sslmode=prefer", "sslmode prefer: one of disable, require, verify-full"),
        ("postgres://a@localhost/patron?sslmode=require&sslrootcert=/etc/hostname", "sslrootcert needs sslmode=verify-full"),
        ("postgres://a@localhost/patron?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "sslrootcert /nonexistent/ca.pem: cannot be read"),
    ])
    func badURLsNameTheirFault(url: String, reason: String) {
        #expect { try PostgresLocation(url: url) } throws: { "\($0)".contains(reason) }
    }

    @Test func urlsKeepThePasswordOutOfTheirDescription() throws {
        let location = try PostgresLocation(url: "postgresql://pat%40ron:s3cr%2Ft@db.example:6432/crm")
        #expect(location.user == "pat@ron" && location.host == "db.example" && location.port == 6432 && location.database == "crm")
        #expect(location.description == "postgres://pat@ron@db.example:6432/crm")
        #expect(location.database("other").database == "other")
    }

    /// Whether the session is encrypted, as the server sees it.
    static func encrypted(_ location: PostgresLocation) async throws -> Bool {
        let database = try await PatronPostgresDatabase.open(location, otherSessions: 1, logger: Logger(label: "test"))
        let encrypted = try await database.writer.perform {
            try $0.first("SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()") { $0.integer(0) == 1 }
        }
        await database.close()
        return encrypted == true
    }

    /// TLS as libpq's sslmode says: verify-full checks the certificate against the CA given (and
    /// refuses one that the system's CAs did not sign), require encrypts without checking.
    @Test func tlsModesEncryptAndVerifyAsTheirNamesSay() async throws {
        let plain = try await TestPostgres.freshDatabase()
        let ca = try #require(ProcessInfo.processInfo.environment["PATRON_TEST_POSTGRES_CA"], "run with scripts/test, which sets PATRON_TEST_POSTGRES_CA")
        let base = "postgres://patron:patron@\(plain.host):\(plain.port)/\(plain.database)"
        #expect(try await Self.encrypted(plain) == false)
        let verified = try PostgresLocation(url: base + "?sslmode=verify-full&sslrootcert=" + ca)
        #expect(verified.description == "postgres://patron@\(plain.host):\(plain.port)/\(plain.database)?sslmode=verify-full")
        #expect(try await Self.encrypted(verified))
        #expect(try await Self.encrypted(try PostgresLocation(url: base + "?sslmode=require")))
        // The test CA is not among the system's: the error says why the connection failed.
        await #expect {
            _ = try await Self.encrypted(try PostgresLocation(url: base + "?sslmode=verify-full"))
        } throws: { "\($0)".contains("certificate verify failed") }
    }

    @Test func parametersAreNumberedOutsideQuotes() {
        #expect(PostgresSession.numberedParameters("SELECT ? , '?', \"a?\" FROM t WHERE a = ? AND b = ?") ==
            "SELECT $1 , '?', \"a?\" FROM t WHERE a = $2 AND b = $3")
        #expect(PostgresSession.numberedParameters("VALUES (?1, ?2, (SELECT id FROM c WHERE id = ?2))") ==
            "VALUES ($1, $2, (SELECT id FROM c WHERE id = $2))")
    }

    /// A server restart or a killed backend costs the statement that meets it, never the session:
    /// the next statement runs on a new connection.
    @Test func aSessionWhoseConnectionWasEndedConnectsAgain() async throws {
        let location = try await TestPostgres.freshDatabase()
        let session = try await PostgresSession.connect(location, label: "test.session", logger: Logger(label: "test"))
        let other = try await PostgresSession.connect(location, label: "test.other", logger: Logger(label: "test"))
        let backend = try await session.perform { try $0.first("SELECT pg_backend_pid()") { $0.integer(0) } }
        try await other.perform { _ = try $0.first("SELECT CAST(pg_terminate_backend(CAST(? AS integer)) AS integer)", .integer(backend!)) { $0.integer(0) } }
        await #expect {
            try await session.perform { try $0.run("SELECT 1") }
        } throws: { ($0 as? PostgresFailure)?.isEnvironmental == true }
        let again = try await session.perform { try $0.first("SELECT pg_backend_pid()") { $0.integer(0) } }
        #expect(again != nil && again != backend)
        await session.close()
        await other.close()
    }

    /// Parameters reach PostgreSQL as the values they are, the empty ones and NULL too; a text
    /// with a NUL, which PostgreSQL cannot store, is refused rather than cut short.
    @Test func parametersRoundTripAndNULInTextIsRefused() async throws {
        let location = try await TestPostgres.freshDatabase()
        let session = try await PostgresSession.connect(location, label: "test.session", logger: Logger(label: "test"))
        let row = try await session.perform { statements in
            try statements.first("SELECT ?::bigint, ?::text, ?::bytea, ?::bytea, ?::text, ?::bigint",
                                 .integer(-9_223_372_036_854_775_808), .text("Ñandú – 東京"), .blob([0, 255, 16]), .blob([]), .text(""), .null) {
                [$0.value(0), $0.value(1), $0.value(2), $0.value(3), $0.value(4), $0.value(5)]
            }
        }
        #expect(row == [.integer(-9_223_372_036_854_775_808), .text("Ñandú – 東京"), .blob([0, 255, 16]), .blob([]), .text(""), .null])
        await #expect {
            try await session.perform { try $0.run("SELECT ?::text", .text("a\u{0}b")) }
        } throws: { "\($0)".contains("NUL") }
        await session.close()
    }

    /// Writes sent without waiting: the first error among them is the next reading statement's,
    /// the statements after it did not run, and a statement first prepared among those skipped
    /// is prepared again when next used rather than asked for by a name the server never took.
    @Test func anErrorAmongSentWritesSurfacesAtTheNextReadAndSkipsWhatFollows() async throws {
        let location = try await TestPostgres.freshDatabase()
        let session = try await PostgresSession.connect(location, label: "test.session", logger: Logger(label: "test"))
        try await session.perform { try $0.run("CREATE TABLE pipelined (n BIGINT PRIMARY KEY)") }
        await #expect {
            try await session.perform(sendingWrites: true) { statements in
                try statements.run("BEGIN")
                try statements.run("INSERT INTO pipelined (n) VALUES (?)", .integer(1))
                try statements.run("INSERT INTO pipelined (n) VALUES (?)", .integer(1))
                try statements.run("INSERT INTO pipelined (n) SELECT ? + 1", .integer(1))
                _ = try statements.first("SELECT count(*) FROM pipelined") { $0.integer(0) }
            }
        } throws: { ($0 as? PostgresFailure)?.sqlState == "23505" }
        try await session.perform { try $0.undo("ROLLBACK") }
        let count = try await session.perform(sendingWrites: true) { statements in
            try statements.run("INSERT INTO pipelined (n) SELECT ? + 1", .integer(1))
            return try statements.first("SELECT count(*) FROM pipelined") { $0.integer(0) }
        }
        #expect(count == 1)
        await session.close()
    }
}
