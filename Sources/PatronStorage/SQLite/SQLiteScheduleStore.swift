import Foundation
import GRDB
import PatronDomain

/// Show Schedules in SQLite. Every change that decides whether a run happens is one conditional
/// UPDATE, so two patrond processes (or a restart racing a run) can never both run it.
public struct SQLiteScheduleStore: Sendable {
    /// A name is already taken.
    public struct NameTaken: Error {}

    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func create(_ schedule: Schedule, by user: String, at time: Timestamp) async throws {
        let arguments = String(decoding: JSONValue.object(JSONObject(schedule.arguments)).canonicalBytes, as: UTF8.self)
        do {
            try await database.pool.write { db in
                try db.execute(sql: """
                    INSERT INTO schedules (name, cron, timezone, action, arguments, created_by, created_at, next_run)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [schedule.name, schedule.cron.description, schedule.timeZone.identifier, schedule.action.rawValue,
                                     arguments, user, time.microseconds, schedule.nextRun?.microseconds])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw NameTaken()
        }
    }

    public func all() async throws -> [Schedule] {
        try await database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM schedules ORDER BY name").compactMap(Self.schedule) }
    }

    public func schedule(named name: String) async throws -> Schedule? {
        try await database.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM schedules WHERE name = ?", arguments: [name]).flatMap(Self.schedule) }
    }

    /// True if it existed.
    public func delete(named name: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM schedules WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    /// The schedules whose planned run is at or before `time`.
    public func due(at time: Timestamp) async throws -> [Schedule] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM schedules WHERE next_run <= ? AND running_since IS NULL ORDER BY next_run",
                             arguments: [time.microseconds]).compactMap(Self.schedule)
        }
    }

    /// The earliest planned run of any schedule.
    public func earliestNextRun() async throws -> Timestamp? {
        try await database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT min(next_run) FROM schedules").map(Timestamp.init(microseconds:))
        }
    }

    /// Claims the planned run `planned` of `name`: it becomes the last run, `next` the planned
    /// one. False if another process claimed it first or the schedule changed.
    public func claim(_ name: String, planned: Timestamp, next: Timestamp?, at time: Timestamp) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: """
                UPDATE schedules SET next_run = ?, last_run = ?, running_since = ? WHERE name = ? AND next_run = ? AND running_since IS NULL
                """, arguments: [next?.microseconds, time.microseconds, time.microseconds, name, planned.microseconds])
            return db.changesCount == 1
        }
    }

    /// Claims a run outside the plan (`schedules.run_now`); false if the schedule is running.
    public func claimNow(_ name: String, at time: Timestamp) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE schedules SET last_run = ?, running_since = ? WHERE name = ? AND running_since IS NULL",
                           arguments: [time.microseconds, time.microseconds, name])
            return db.changesCount == 1
        }
    }

    /// A missed run that is not caught up: recorded, and the plan moved on.
    public func skip(_ name: String, planned: Timestamp, next: Timestamp?, result: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE schedules SET next_run = ?, last_result = ? WHERE name = ? AND next_run = ? AND running_since IS NULL",
                           arguments: [next?.microseconds, result, name, planned.microseconds])
            return db.changesCount == 1
        }
    }

    public func finish(_ name: String, result: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE schedules SET last_result = ?, running_since = NULL WHERE name = ?", arguments: [result, name])
        }
    }

    /// Runs that were claimed before `time` and never finished: patrond stopped during them.
    /// They are reported, not run again. Returns their names.
    public func closeInterrupted(startedBefore time: Timestamp) async throws -> [String] {
        try await database.pool.write { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM schedules WHERE running_since < ?", arguments: [time.microseconds])
            try db.execute(sql: """
                UPDATE schedules SET last_result = 'interrupted: patrond stopped during the run; not run again', running_since = NULL
                WHERE running_since < ?
                """, arguments: [time.microseconds])
            return names
        }
    }

    private static func schedule(_ row: Row) -> Schedule? {
        guard let cron = try? CronExpression(row["cron"] as String), let zone = TimeZone(identifier: row["timezone"]),
              let action = Schedule.Action(rawValue: row["action"]) else { return nil }
        let arguments = (try? JSONParser.parse(Array((row["arguments"] as String).utf8)))?.objectValue?.dictionary ?? [:]
        return Schedule(name: row["name"], cron: cron, timeZone: zone, action: action, arguments: arguments,
                        nextRun: (row["next_run"] as Int64?).map(Timestamp.init(microseconds:)),
                        lastRun: (row["last_run"] as Int64?).map(Timestamp.init(microseconds:)), lastResult: row["last_result"])
    }
}
