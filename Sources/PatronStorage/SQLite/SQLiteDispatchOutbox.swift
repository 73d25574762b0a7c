import Foundation
import GRDB
import PatronDomain

public struct SQLiteDispatchOutbox: DispatchOutbox {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func pending(channel: DispatchChannel, readyAt: Timestamp, after sequence: Int64, limit: Int) async throws -> [PendingDispatch] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, job_id, body FROM dispatch_outbox INDEXED BY dispatch_outbox_pending
                WHERE channel = ? AND published_at IS NULL AND id > ? AND not_before <= ? ORDER BY id LIMIT ?
                """, arguments: [channel.rawValue, sequence, readyAt.microseconds, limit]).map {
                PendingDispatch(sequence: $0[0], jobID: $0[1], channel: channel, body: [UInt8]($0[2] as Data))
            }
        }
    }

    public func markPublished(_ sequences: [Int64], at time: Timestamp) async throws {
        guard !sequences.isEmpty else { return }
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE dispatch_outbox SET published_at = ?, body = X'' WHERE id IN (\(databaseQuestionMarks(count: sequences.count)))",
                           arguments: StatementArguments([time.microseconds] + sequences))
        }
    }

    public func dueTimers(at time: Timestamp, limit: Int) async throws -> [RuleFiring] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT key, rule, subject_kind, subject_id, subject_date, reply_event_id, due_at FROM dispatch_timers
                WHERE due_at <= ? ORDER BY due_at LIMIT ?
                """, arguments: [time.microseconds, limit]).compactMap { row in
                let id: String = row[3]
                let subject: DispatchSubject
                switch row[2] as String {
                case "booking": subject = .booking(ref: id, date: row[4])
                case "cart": subject = .cart(id: id)
                case "thread": subject = .thread(id: id, replyEventID: row[5] ?? "")
                default: return nil
                }
                return RuleFiring(rule: row[1], subject: subject, due: Timestamp(microseconds: row[6]), key: row[0])
            }
        }
    }

    public func earliestTimer() async throws -> Timestamp? {
        try await database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT min(due_at) FROM dispatch_timers").map(Timestamp.init(microseconds:))
        }
    }

    /// Jobs not yet published, by channel (`patronctl status`, metrics).
    public func backlog() async throws -> [DispatchChannel: Int] {
        try await database.pool.read { db in
            var counts: [DispatchChannel: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT channel, count(*) FROM dispatch_outbox WHERE published_at IS NULL GROUP BY channel") {
                if let channel = DispatchChannel(rawValue: row[0]) { counts[channel] = row[1] }
            }
            return counts
        }
    }
}
