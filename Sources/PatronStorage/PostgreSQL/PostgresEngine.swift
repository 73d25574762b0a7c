/// The stores that share their SQL with SQLite (``SQLEngine``), on the database's other
/// sessions: the writer stays the record rules' own, so a long export never holds up ingest.
struct PostgresEngine: SQLEngine {
    let database: PatronPostgresDatabase

    /// REPEATABLE READ: every statement of `body` sees one snapshot (a search's count and its page agree).
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresStatements) throws -> T) async throws -> T {
        try await database.otherSession().perform { statements in
            try Self.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", statements, body)
        }
    }

    /// READ COMMITTED: the stores' writes are single conditional statements (a schedule's claim,
    /// a row marked published), which PostgreSQL re-tests against the row another transaction
    /// committed, so only one of two replicas succeeds.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresStatements) throws -> T) async throws -> T {
        try await database.otherSession().perform { statements in
            try Self.transaction("BEGIN", statements, body)
        }
    }

    private static func transaction<T>(_ begin: String, _ statements: PostgresStatements, _ body: (PostgresStatements) throws -> T) throws -> T {
        try statements.run(begin)
        do {
            let result = try body(statements)
            try statements.run("COMMIT")
            return result
        } catch {
            _ = try? statements.run("ROLLBACK")
            throw error
        }
    }
}
