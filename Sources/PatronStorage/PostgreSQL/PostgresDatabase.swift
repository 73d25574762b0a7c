import Logging
import PatronDomain
import Synchronization

/// A Patron database on PostgreSQL, for deployments that outgrow one SQLite file: several
/// patrond replicas share it, with no coordination but its transactions.
public final class PatronPostgresDatabase: Sendable {
    public let location: PostgresLocation
    /// The session that writes records (one per process, as SQLite has one writer).
    let writer: PostgresSession
    /// The sessions of everything else (``PostgresEngine``), taken in turn. Each runs one
    /// transaction at a time, so this many commands, exports and relays proceed at once.
    private let others: [PostgresSession]
    private let nextOther = Atomic<Int>(0)
    let logger: Logger
    /// What `customers.search` filters and sorts in this replica's memory, kept in step with the database.
    let searchIndex = PostgresSearchIndex()

    /// Sessions besides the writer, by default: the command server, the relays and the
    /// scheduler each get one most of the time.
    public static let defaultOtherSessions = 4

    private init(location: PostgresLocation, writer: PostgresSession, others: [PostgresSession], logger: Logger) {
        self.location = location
        self.writer = writer
        self.others = others
        self.logger = logger
    }

    func otherSession() -> PostgresSession {
        others[nextOther.add(1, ordering: .relaxed).oldValue % others.count]
    }

    /// Connects and runs pending migrations.
    ///
    /// - Throws: if the server cannot be reached or refuses the login, or the database's schema
    ///   is newer than this binary knows (``DatabaseSchemaTooNew``).
    public static func open(_ location: PostgresLocation, otherSessions: Int = defaultOtherSessions, logger: Logger) async throws -> PatronPostgresDatabase {
        let writer = try await PostgresSession.connect(location, label: "patron.postgres.writer", logger: logger)
        var others: [PostgresSession] = []
        do {
            try await writer.perform { try PostgresMigrator.migrate($0.session, location: location) }
            for index in 0..<max(1, otherSessions) {
                others.append(try await PostgresSession.connect(location, label: "patron.postgres.session\(index)", logger: logger))
            }
        } catch {
            for session in [writer] + others { await session.close() }
            throw error
        }
        return PatronPostgresDatabase(location: location, writer: writer, others: others, logger: logger)
    }

    /// Creates an empty database on the server (the user must be allowed to) and says where it is;
    /// with `template`, a copy of that database (which nothing may be connected to meanwhile).
    public static func createDatabase(on server: PostgresLocation, named name: String, template: String? = nil,
                                      logger: Logger) async throws -> PostgresLocation {
        for identifier in [name] + (template.map { [$0] } ?? []) {
            guard identifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw PostgresLocationError(reason: "database name \(identifier): letters, digits and _ only")
            }
        }
        let admin = try await PostgresSession.connect(server, label: "patron.postgres.admin", logger: logger)
        do {
            try await admin.perform { try $0.run("CREATE DATABASE \(name)" + (template.map { " TEMPLATE \($0)" } ?? "")) }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return server.database(name)
    }

    /// Deletes a database made by ``createDatabase(on:named:logger:)``, once nothing is connected to it.
    public static func dropDatabase(_ location: PostgresLocation, logger: Logger) async throws {
        let admin = try await PostgresSession.connect(location.database("postgres"), label: "patron.postgres.admin", logger: logger)
        do {
            try await admin.perform { try $0.run("DROP DATABASE IF EXISTS \"\(location.database.replacingOccurrences(of: "\"", with: "\"\""))\"") }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    /// Transactions committed and rolled back in this database since the server started:
    /// rollbacks are mostly conflicts between replicas, each batch part run again. The server's
    /// statistics lag by up to half a second behind the last commit.
    public func transactionCounts() async throws -> (commits: Int64, rollbacks: Int64) {
        try await writer.perform { statements in
            try statements.first("SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()") {
                ($0.integer(0), $0.integer(1))
            } ?? (0, 0)
        }
    }

    /// The server process of the writer's connection (for measuring the server's CPU from
    /// `/proc` when it runs on this host).
    public func serverProcessID() async throws -> Int32 {
        try await writer.perform { statements in Int32(try statements.first("SELECT pg_backend_pid()") { $0.integer(0) } ?? 0) }
    }

    public func close() async {
        for session in [writer] + others { await session.close() }
    }
}

/// Applies ``PostgresMigrations/all`` once, whichever replica starts first: the others wait
/// on the same advisory lock and then find nothing to do.
enum PostgresMigrator {
    /// An arbitrary constant naming Patron's migration lock among the database's advisory locks.
    private static let lockKey: Int64 = 0x5041_5452_4f4e  // "PATRON"

    /// - Parameter migrations: all of them; a test stops at an earlier version.
    static func migrate(_ session: PostgresSession, location: PostgresLocation,
                        migrations: [(identifier: String, sql: String)] = PostgresMigrations.all) throws {
        try session.execute(script: """
            BEGIN;
            SELECT pg_advisory_xact_lock(\(lockKey));
            CREATE TABLE IF NOT EXISTS patron_migrations (identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
            """)
        do {
            let applied = Set(try session.query("SELECT identifier FROM patron_migrations", []).rows().map { $0.text(0) })
            let known = Set(migrations.map(\.identifier))
            guard applied.isSubset(of: known) else {
                throw DatabaseSchemaTooNew(path: location.description)
            }
            for migration in migrations where !applied.contains(migration.identifier) {
                try session.execute(script: migration.sql)
                try _ = session.query("INSERT INTO patron_migrations (identifier) VALUES (?)", [.text(migration.identifier)])
            }
            try session.execute(script: "COMMIT")
        } catch {
            try? session.execute(script: "ROLLBACK")
            throw error
        }
    }
}
