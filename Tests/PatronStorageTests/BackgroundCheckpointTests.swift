import Foundation
@testable import PatronStorage
import Testing

/// The writer hands WAL checkpoints to a connection of its own, and copies the WAL itself only
/// past the inline threshold. Seen in the database file: in WAL mode it gains pages only from a
/// checkpoint, so after the migrations' commits it is one page (the header) until one runs.
struct BackgroundCheckpointTests {
    @Test(arguments: [(Int32(0), BackgroundCheckpointer.Action.none), (9, .none), (10, .background), (99, .background), (100, .inline), (5_000, .inline)])
    func aCommitChecksTheWALAgainstBothThresholds(pages: Int32, action: BackgroundCheckpointer.Action) {
        #expect(BackgroundCheckpointer.action(walPages: pages, .init(background: 10, inline: 100)) == action)
    }

    @Test func pastTheBackgroundThresholdTheCheckpointerCopiesTheWAL() async throws {
        let database = try Self.open(.init(background: 8, inline: .max))
        let deadline = ContinuousClock.now + .seconds(10)
        while database.checkpointer.checkpoints == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(database.checkpointer.checkpoints > 0)
        #expect(try Self.pages(database) > 20)
    }

    @Test func belowBothThresholdsNothingIsCopied() async throws {
        let database = try Self.open(.init(background: .max, inline: .max))
        try await Task.sleep(for: .milliseconds(200))
        #expect(database.checkpointer.checkpoints == 0)
        #expect(try Self.pages(database) == 1)
    }

    @Test func pastTheInlineThresholdTheWriterCopiesTheWALInItsCommit() throws {
        let database = try Self.open(.init(background: .max, inline: 8))
        #expect(try Self.pages(database) > 20)
        #expect(database.checkpointer.checkpoints == 0)
    }

    /// A checkpoint that meets another one running fails at once (SQLITE_BUSY, no busy wait):
    /// the truncating checkpoint after an erasure waits for the background one instead. Each
    /// commit here asks for a background checkpoint, and a truncation follows it at once.
    @Test func aTruncatingCheckpointWaitsForTheBackgroundOne() async throws {
        let database = try Self.open(.init(background: 1, inline: .max))
        for round in 0..<200 {
            try await database.write { db in
                try db.execute(sql: "INSERT INTO customer_groups (name, discount_bp, created_at) VALUES (?, 0, 0)", arguments: ["group \(round) " + String(repeating: "x", count: 3000)])
            }
            try await database.checkpoint()
        }
        #expect(database.checkpointer.checkpoints > 0)
    }

    private static func open(_ thresholds: BackgroundCheckpointer.Thresholds) throws -> PatronDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-checkpoint-\(UUID().uuidString)")
        return try PatronDatabase.open(directory: directory.path, fileName: "patron.sqlite", checkpoints: thresholds)
    }

    /// Pages in the database file itself (not its WAL).
    private static func pages(_ database: PatronDatabase) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: database.path)[.size] as! Int) / 4096
    }
}
