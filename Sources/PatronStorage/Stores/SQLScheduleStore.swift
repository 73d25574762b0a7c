import Foundation
import PatronDomain

/// Show Schedules. Every change that decides whether a run happens is one conditional UPDATE,
/// so of several patrond replicas (or a restart racing a run) only one ever runs it: the others'
/// UPDATE finds the row changed and changes nothing.
struct SQLScheduleStore<Engine: SQLEngine>: ScheduleStore {
    let engine: Engine
    private static var columns: String { "name, cron, timezone, action, arguments, next_run, last_run, last_result" }

    func create(_ schedule: Schedule, by user: String, at time: Timestamp) async throws {
        let arguments = String(decoding: JSONValue.object(JSONObject(schedule.arguments)).canonicalBytes, as: UTF8.self)
        let inserted = try await engine.write { statements in
            try statements.changes("""
                INSERT INTO schedules (name, cron, timezone, action, arguments, created_by, created_at, next_run)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING
                """, [.text(schedule.name), .text(schedule.cron.description), .text(schedule.timeZone.identifier), .text(schedule.action.rawValue),
                      .text(arguments), .text(user), .of(time), .of(schedule.nextRun)])
        }
        if inserted == 0 { throw ScheduleNameTaken() }
    }

    func all() async throws -> [Schedule] {
        try await engine.read { try $0.all("SELECT \(Self.columns) FROM schedules ORDER BY name", read: Self.schedule).compactMap { $0 } }
    }

    func schedule(named name: String) async throws -> Schedule? {
        try await engine.read { try $0.first("SELECT \(Self.columns) FROM schedules WHERE name = ?", .text(name), read: Self.schedule) ?? nil }
    }

    func delete(named name: String) async throws -> Bool {
        try await engine.write { try $0.changes("DELETE FROM schedules WHERE name = ?", .text(name)) > 0 }
    }

    func due(at time: Timestamp) async throws -> [Schedule] {
        try await engine.read { statements in
            try statements.all("SELECT \(Self.columns) FROM schedules WHERE next_run <= ? AND running_since IS NULL ORDER BY next_run",
                               .of(time), read: Self.schedule).compactMap { $0 }
        }
    }

    func earliestNextRun() async throws -> Timestamp? {
        try await engine.read { try $0.first("SELECT min(next_run) FROM schedules") { $0.integerOrNil(0) }?.map(Timestamp.init(microseconds:)) }
    }

    func claim(_ name: String, planned: Timestamp, next: Timestamp?, at time: Timestamp) async throws -> Bool {
        try await engine.write { statements in
            try statements.changes("""
                UPDATE schedules SET next_run = ?, last_run = ?, running_since = ? WHERE name = ? AND next_run = ? AND running_since IS NULL
                """, .of(next), .of(time), .of(time), .text(name), .of(planned)) == 1
        }
    }

    func claimNow(_ name: String, at time: Timestamp) async throws -> Bool {
        try await engine.write { statements in
            try statements.changes("UPDATE schedules SET last_run = ?, running_since = ? WHERE name = ? AND running_since IS NULL",
                                   .of(time), .of(time), .text(name)) == 1
        }
    }

    func skip(_ name: String, planned: Timestamp, next: Timestamp?, result: String) async throws -> Bool {
        try await engine.write { statements in
            try statements.changes("UPDATE schedules SET next_run = ?, last_result = ? WHERE name = ? AND next_run = ? AND running_since IS NULL",
                                   .of(next), .text(result), .text(name), .of(planned)) == 1
        }
    }

    func finish(_ name: String, result: String) async throws {
        try await engine.write { try $0.run("UPDATE schedules SET last_result = ?, running_since = NULL WHERE name = ?", .text(result), .text(name)) }
    }

    func renew(_ name: String, at time: Timestamp) async throws {
        try await engine.write { statements in
            try statements.run("UPDATE schedules SET running_since = ? WHERE name = ? AND running_since IS NOT NULL", .of(time), .text(name))
        }
    }

    func closeInterrupted(startedBefore time: Timestamp) async throws -> [String] {
        try await engine.write { statements in
            let names = try statements.all("SELECT name FROM schedules WHERE running_since < ?", .of(time)) { $0.text(0) }
            try statements.run("""
                UPDATE schedules SET last_result = 'interrupted: patrond stopped during the run; not run again', running_since = NULL
                WHERE running_since < ?
                """, .of(time))
            return names
        }
    }

    private static func schedule(_ row: Engine.Statements.Row) -> Schedule? {
        guard let cron = try? CronExpression(row.text(1)), let zone = TimeZone(identifier: row.text(2)),
              let action = Schedule.Action(rawValue: row.text(3)) else { return nil }
        let arguments = (try? JSONParser.parse(Array(row.text(4).utf8)))?.objectValue?.dictionary ?? [:]
        return Schedule(name: row.text(0), cron: cron, timeZone: zone, action: action, arguments: arguments,
                        nextRun: row.integerOrNil(5).map(Timestamp.init(microseconds:)),
                        lastRun: row.integerOrNil(6).map(Timestamp.init(microseconds:)), lastResult: row.textOrNil(7))
    }
}
