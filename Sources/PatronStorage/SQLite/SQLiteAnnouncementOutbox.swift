import Foundation
import GRDB
import PatronDomain

public struct SQLiteAnnouncementOutbox: AnnouncementOutbox {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func pending(limit: Int) async throws -> [PendingAnnouncement] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, message_id, routing_key, body FROM outbox ORDER BY id LIMIT ?", arguments: [limit]).map {
                PendingAnnouncement(sequence: $0[0], messageID: $0[1], routingKey: $0[2], body: [UInt8]($0[3] as Data))
            }
        }
    }

    public func remove(upTo sequence: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE id <= ?", arguments: [sequence])
        }
    }
}
