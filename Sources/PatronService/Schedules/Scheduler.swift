import Foundation
import Logging
import PatronDomain
import PatronStorage
import ServiceLifecycle

/// Runs Show Schedules when they are due. Each run is claimed in the database first
/// (``ScheduleStore/claim(_:planned:next:at:)``), so it happens once however many patrond
/// processes run and across restarts; a run cut short by a crash is reported, never repeated.
///
/// When its patrond is the only one on the database (SQLite), every run still marked running at
/// start was cut short. When replicas share the database, a run may be another replica's: each
/// run renews its claim every `leaseInterval`, and only runs not renewed for three intervals are
/// taken for cut short, at start and on every pass.
public final class Scheduler: Service, Sendable {
    private let store: any ScheduleStore
    private let actions: ScheduleActions
    private let catchUpMissed: Bool
    private let logger: Logger
    /// How long the loop sleeps at most, so a schedule created meanwhile is picked up.
    private let pollInterval: Duration
    private let sharedStorage: Bool
    private let leaseInterval: Duration

    public init(store: any ScheduleStore, actions: ScheduleActions, catchUpMissed: Bool, logger: Logger,
                pollInterval: Duration = .seconds(10), sharedStorage: Bool = false, leaseInterval: Duration = .seconds(30)) {
        self.store = store
        self.actions = actions
        self.catchUpMissed = catchUpMissed
        self.logger = logger
        self.pollInterval = pollInterval
        self.sharedStorage = sharedStorage
        self.leaseInterval = leaseInterval
    }

    public func run() async throws {
        try await closeAbandonedRuns(now: .now, atStart: true)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = pollInterval
            do {
                if sharedStorage { try await closeAbandonedRuns(now: .now, atStart: false) }
                try await runDue(now: .now)
                if let next = try await store.earliestNextRun() {
                    let until = Duration.microseconds(max(0, next.microseconds - Timestamp.now.microseconds))
                    wait = min(wait, max(until, .milliseconds(50)))
                }
            } catch {
                logger.warning("schedules could not be read; retrying", metadata: ["error": "\(error)"])
            }
            // Only the wait ends early on a graceful shutdown; a run in progress finishes.
            let pause = wait
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    /// Reports the runs cut short by a stop: at start, all of them when this patrond is alone on
    /// its database; otherwise those whose claim was not renewed for three lease intervals.
    func closeAbandonedRuns(now: Timestamp, atStart: Bool) async throws {
        let cutoff = sharedStorage ? Timestamp(microseconds: now.microseconds - Int64(3 * leaseInterval.inSeconds * 1_000_000)) : now
        guard sharedStorage || atStart else { return }
        for name in try await store.closeInterrupted(startedBefore: cutoff) {
            logger.warning("a scheduled run was interrupted by a stop; it is not run again", metadata: ["schedule": "\(name)"])
        }
    }

    /// The action, its claim renewed meanwhile when replicas share the database.
    private func perform(_ schedule: Schedule, run: Timestamp) async -> String {
        guard sharedStorage else { return await actions.perform(schedule, run: run) }
        let (store, name, interval, logger) = (self.store, schedule.name, leaseInterval, self.logger)
        let renewal = Task {
            while (try? await Task.sleep(for: interval)) != nil {
                do {
                    try await store.renew(name, at: .now)
                } catch {
                    logger.warning("a scheduled run's claim could not be renewed", metadata: ["schedule": "\(name)", "error": "\(error)"])
                }
            }
        }
        defer { renewal.cancel() }
        return await actions.perform(schedule, run: run)
    }

    /// Runs (or, with catching up off, skips) every schedule due at `now`.
    public func runDue(now: Timestamp) async throws {
        for schedule in try await store.due(at: now) {
            guard let planned = schedule.nextRun else { continue }
            switch SchedulePlan.plan(schedule, now: now, catchUpMissed: catchUpMissed) {
            case .notDue:
                continue
            case .skipMissed(let next):
                _ = try await store.skip(schedule.name, planned: planned, next: next,
                                         result: "missed: planned for \(planned.rfc3339(in: schedule.timeZone)) while patrond was not running; not caught up")
            case .run(let next):
                guard try await store.claim(schedule.name, planned: planned, next: next, at: now) else { continue }
                try await store.finish(schedule.name, result: await perform(schedule, run: planned))
            }
        }
    }

    /// `schedules.run_now`: runs it at once, outside its plan; nil if it is running already.
    public func runNow(_ schedule: Schedule) async throws -> String? {
        guard try await store.claimNow(schedule.name, at: .now) else { return nil }
        let result = await perform(schedule, run: .now)
        try await store.finish(schedule.name, result: result)
        return result
    }
}

/// What a schedule's action does; its result is kept as the schedule's `last_result`.
public struct ScheduleActions: Sendable {
    let exporter: CustomerExporter
    let phones: any PhoneNormalizer
    let rules: RecordRules
    let defaultLanguage: String
    let sender: DispatchSender
    /// Where a run's file goes to staff (``FileDelivery``).
    let outbox: any FileDeliveryQueue

    init(exporter: CustomerExporter, phones: any PhoneNormalizer, rules: RecordRules, defaultLanguage: String, sender: DispatchSender,
         outbox: any FileDeliveryQueue) {
        self.exporter = exporter
        self.phones = phones
        self.rules = rules
        self.defaultLanguage = defaultLanguage
        self.sender = sender
        self.outbox = outbox
    }

    /// Checks an action's arguments as `schedules.create` receives them.
    public func check(_ action: Schedule.Action, _ arguments: CommandArguments, _ zone: TimeZone) throws {
        let (delivery, actionArguments) = try FileDelivery.split(arguments.values)
        if delivery != nil, action == .dispatch {
            throw CommandError(.invalidArgument, field: "args.\(FileDelivery.argument)", "only export and report schedules deliver a file")
        }
        let arguments = CommandArguments(actionArguments)
        switch action {
        case .export: _ = try ExportRequest.parse(arguments, phones: phones, rules: rules, defaultLanguage: defaultLanguage)
        case .report: _ = try ReportRequest.parse(arguments, zone: zone, defaultLanguage: defaultLanguage)
        case .dispatch:
            let request = try DispatchRequest.parse(arguments, phones: phones, rules: rules)
            guard !request.dryRun else { throw CommandError(.invalidArgument, field: "args.dry_run", "a schedule sends; try the send once with dry_run instead") }
            // Each run is a send of its own; one key would let only the first run send.
            guard request.idempotencyKey == nil else {
                throw CommandError(.invalidArgument, field: "args.idempotency_key", "a schedule's runs are each their own send; each run's jobs derive from its planned time")
            }
            try sender.check(request)
        }
    }

    /// - Parameter run: the planned time of this run (or now, for `run_now`): with the schedule's
    ///   name, the trigger its dispatch jobs' ids derive from.
    func perform(_ schedule: Schedule, run: Timestamp) async -> String {
        do {
            let (delivery, arguments) = try FileDelivery.split(schedule.arguments)
            let trigger = "schedule:\(schedule.name):\(run.microseconds)"
            /// The run's file to the schedule's staff addresses, once per run.
            func deliver(_ entry: ExportLogEntry, language: ExportLanguage) async throws -> String {
                guard let delivery else { return "" }
                let jobs = delivery.jobs(schedule: schedule.name, trigger: trigger, file: entry, language: language, now: .now,
                                         jobID: DispatchJobID.make(trigger:address:))
                let queued = try await outbox.enqueue(jobs, trigger: trigger, at: .now)
                return ", delivered to \(queued) of \(jobs.count)"
            }
            switch schedule.action {
            case .export:
                let request = try ExportRequest.parse(CommandArguments(arguments), phones: phones, rules: rules, defaultLanguage: defaultLanguage)
                let entry = try await exporter.run(request, requestedBy: "schedule:\(schedule.name)")
                return "ok: export \(entry.id), \(entry.rows) rows, \(entry.file)" + (try await deliver(entry, language: request.language))
            case .report:
                let report = try ReportRequest.parse(CommandArguments(arguments), zone: schedule.timeZone, defaultLanguage: defaultLanguage)
                let entry = try await exporter.run(report, requestedBy: "schedule:\(schedule.name)")
                return "ok: \(report.kind.rawValue) \(entry.id), \(entry.rows) rows, \(entry.file)" + (try await deliver(entry, language: report.language))
            case .dispatch:
                let request = try DispatchRequest.parse(CommandArguments(arguments), phones: phones, rules: rules)
                let counts = try await sender.send(request, trigger: trigger,
                                                   requestedBy: "schedule:\(schedule.name)").counts
                let skipped = counts.skipped.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }
                return "ok: \(counts.queued) queued" + (skipped.isEmpty ? "" : ", skipped: " + skipped.joined(separator: ", "))
            }
        } catch {
            return "failed: \(error)"
        }
    }
}
