import Foundation

/// A Show Schedules entry (EVENTS.md, `schedules.create`): a name, when it runs (a cron expression
/// in an IANA time zone), and what it runs with its arguments.
public struct Schedule: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        /// `exports.run` with the schedule's arguments.
        case export
        /// `reports.run` with the schedule's arguments, its periods in the schedule's zone.
        case report
        /// `dispatch.send` with the schedule's arguments (the monthly follow-up mailing).
        case dispatch
    }

    public var name: String
    public var cron: CronExpression
    public var timeZone: TimeZone
    public var action: Action
    /// The action's arguments, as `schedules.create` gave them beside the schedule's own.
    public var arguments: [String: JSONValue]
    public var nextRun: Timestamp?
    public var lastRun: Timestamp?
    public var lastResult: String?

    public init(name: String, cron: CronExpression, timeZone: TimeZone, action: Action, arguments: [String: JSONValue],
                nextRun: Timestamp?, lastRun: Timestamp? = nil, lastResult: String? = nil) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.action = action
        self.arguments = arguments
        self.nextRun = nextRun
        self.lastRun = lastRun
        self.lastResult = lastResult
    }

    static let ownArguments: Set<String> = ["name", "cron", "timezone", "action"]

    /// Reads `schedules.create`: the schedule's own arguments, and the action's beside them,
    /// checked by `checkAction` (an export's are those of `exports.run`, a report's those of
    /// `reports.run` without `timezone`: the schedule's zone is the report's). The first run is the
    /// first time after `now`.
    public static func parse(_ args: CommandArguments, now: Timestamp,
                             checkAction: (Action, CommandArguments, TimeZone) throws -> Void) throws -> Schedule {
        let name = try args.requiredString("name", maximumLength: 100)
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || " -_.".contains($0) }) else {
            throw CommandError(.invalidArgument, field: "args.name", "letters, digits, spaces, '-', '_' and '.'")
        }
        let cron: CronExpression
        do {
            cron = try CronExpression(try args.requiredString("cron", maximumLength: 200))
        } catch let error as CronExpression.Invalid {
            throw CommandError(.invalidArgument, field: "args.cron", error.message)
        }
        let zone = try args.timeZone("timezone")
        let actionName = try args.requiredString("action", maximumLength: 20)
        guard let action = Action(rawValue: actionName) else {
            throw CommandError(.invalidArgument, field: "args.action",
                               "one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let arguments = args.values.filter { !ownArguments.contains($0.key) }
        try checkAction(action, CommandArguments(arguments), zone)
        guard let first = cron.nextRun(after: now, in: zone) else {
            throw CommandError(.invalidArgument, field: "args.cron", "names no time in the next eight years")
        }
        return Schedule(name: name, cron: cron, timeZone: zone, action: action, arguments: arguments, nextRun: first)
    }

    /// What `schedules.list` shows; times in the schedule's own zone.
    public var json: JSONValue {
        .object([
            "name": .string(name), "cron": .string(cron.description), "timezone": .string(timeZone.identifier),
            "action": .string(action.rawValue), "args": .object(JSONObject(arguments)),
            "next_run": nextRun.map { .string($0.rfc3339(in: timeZone)) } ?? .null,
            "last_run": lastRun.map { .string($0.rfc3339(in: timeZone)) } ?? .null,
            "last_result": lastResult.map(JSONValue.string) ?? .null,
        ])
    }
}

/// When a schedule's planned run is due, and which run comes after it.
///
/// A run planned while patrond was down is one missed run however long it was down: it runs once
/// at start-up (or, with catching up switched off, is recorded as missed), and the next run is
/// the first planned time after now, so a week's downtime never fires seven daily reports.
public enum SchedulePlan: Sendable, Equatable {
    case notDue
    /// Run now; plan `next` (nil when the expression names no further time).
    case run(next: Timestamp?)
    /// Catching up is off: do not run; plan `next`.
    case skipMissed(next: Timestamp?)

    /// Runs more than this late count as missed (patrond was down, not merely busy).
    public static let lateness: Int64 = 5 * 60 * 1_000_000

    public static func plan(_ schedule: Schedule, now: Timestamp, catchUpMissed: Bool) -> SchedulePlan {
        guard let planned = schedule.nextRun, planned <= now else { return .notDue }
        let next = schedule.cron.nextRun(after: now, in: schedule.timeZone)
        let missed = now.microseconds - planned.microseconds > lateness
        return missed && !catchUpMissed ? .skipMissed(next: next) : .run(next: next)
    }
}

extension TimeZone {
    /// An IANA time zone by name (`Europe/Madrid`, or `UTC`); nil for an unknown name and for
    /// abbreviations such as CET, which hide daylight-saving rules.
    public static func iana(_ name: String) -> TimeZone? {
        guard name.contains("/") || name == "UTC" else { return nil }
        return TimeZone(identifier: name)
    }
}

extension CommandArguments {
    /// A required IANA time zone name (`TimeZone.iana`).
    func timeZone(_ name: String) throws -> TimeZone {
        let text = try requiredString(name, maximumLength: 100)
        guard let zone = TimeZone.iana(text) else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "an IANA time zone such as Europe/Madrid")
        }
        return zone
    }
}

/// A schedule's name is already taken.
public struct ScheduleNameTaken: Error {
    public init() {}
}

/// Show Schedules as stored. Each method that decides whether a run happens succeeds for one
/// caller only, however many patrond replicas ask at once.
public protocol ScheduleStore: Sendable {
    /// - Throws: ``ScheduleNameTaken``.
    func create(_ schedule: Schedule, by user: String, at time: Timestamp) async throws
    func all() async throws -> [Schedule]
    func schedule(named name: String) async throws -> Schedule?
    /// True if it existed.
    func delete(named name: String) async throws -> Bool
    /// The schedules whose planned run is at or before `time`.
    func due(at time: Timestamp) async throws -> [Schedule]
    /// The earliest planned run of any schedule.
    func earliestNextRun() async throws -> Timestamp?
    /// Claims the planned run `planned` of `name`: it becomes the last run, `next` the planned
    /// one. False if another process claimed it first or the schedule changed.
    func claim(_ name: String, planned: Timestamp, next: Timestamp?, at time: Timestamp) async throws -> Bool
    /// Claims a run outside the plan (`schedules.run_now`); false if the schedule is running.
    func claimNow(_ name: String, at time: Timestamp) async throws -> Bool
    /// A missed run that is not caught up: recorded, and the plan moved on.
    func skip(_ name: String, planned: Timestamp, next: Timestamp?, result: String) async throws -> Bool
    func finish(_ name: String, result: String) async throws
    /// A run in progress says it still is: on a shared database, other replicas take a run that
    /// has not said so for a while for one whose replica died.
    func renew(_ name: String, at time: Timestamp) async throws
    /// Runs that were claimed (or last renewed) before `time` and never finished: patrond stopped
    /// during them. They are reported, not run again. Returns their names.
    func closeInterrupted(startedBefore time: Timestamp) async throws -> [String]
}
