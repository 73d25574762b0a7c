import Foundation
import GRDB
@testable import PatronStorage
import Testing

/// The settings Patron's guarantees rest on, read back from the connections that write and read:
/// GRDB applies settings of its own after `prepareDatabase`, so setting them is not enough.
struct DatabaseSettingsTests {
    /// A message is acknowledged to the broker right after its commit: that commit must survive
    /// a power cut, which in WAL mode takes `synchronous = FULL` (2). GRDB's pool sets NORMAL
    /// (1) on its writer when it turns WAL on.
    @Test func theWriterSyncsEveryCommit() async throws {
        let database = try Self.open()
        let writer = try await database.pool.writeWithoutTransaction(Self.durability)
        #expect(writer.synchronous == 2)
        #expect(writer.journal == "wal")
        // What a client was answered is on record even after a power cut.
        let audit = try await SQLiteCommandAudit(beside: database).queue.read(Self.durability)
        #expect(audit.synchronous == 2)
        #expect(audit.journal == "wal")
    }

    /// Erasure leaves no bytes behind in the file's pages, whichever connection wrote them.
    @Test func everyConnectionZeroesWhatItDeletes() async throws {
        let database = try Self.open()
        let writer = try await database.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA secure_delete") }
        let reader = try await database.pool.read { try Int.fetchOne($0, sql: "PRAGMA secure_delete") }
        #expect(writer == 1)
        #expect(reader == 1)
    }

    /// A connection's `synchronous` level and journal mode.
    @Sendable private static func durability(_ db: Database) throws -> (synchronous: Int?, journal: String?) {
        (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
    }

    private static func open() throws -> PatronDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-settings-\(UUID().uuidString)")
        return try PatronDatabase.open(directory: directory.path)
    }
}
