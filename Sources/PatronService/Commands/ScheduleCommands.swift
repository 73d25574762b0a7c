import PatronDomain
import PatronStorage

/// `schedules.create`, `schedules.list`, `schedules.delete`, `schedules.run_now` (EVENTS.md).
struct ScheduleCommands: Sendable {
    let store: any ScheduleStore
    let scheduler: Scheduler
    let actions: ScheduleActions

    func register(on server: CommandServer) {
        server.register("schedules.create", CommandHandler(minimumRole: .operator) { args, context in
            let schedule = try Schedule.parse(args, now: .now, checkAction: actions.check)
            do {
                try await store.create(schedule, by: context.user, at: .now)
            } catch is ScheduleNameTaken {
                throw CommandError(.conflict, field: "args.name", "a schedule of that name exists; delete it first")
            }
            return schedule.json
        })
        server.register("schedules.list", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly([])
            return .object(["schedules": .array(try await store.all().map(\.json))])
        })
        server.register("schedules.delete", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["name"])
            let name = try args.requiredString("name", maximumLength: 100)
            guard try await store.delete(named: name) else { throw CommandError(.notFound, field: "args.name", "no schedule of that name") }
            return .object(["name": .string(name), "deleted": .bool(true)])
        })
        server.register("schedules.run_now", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["name"])
            let name = try args.requiredString("name", maximumLength: 100)
            guard let schedule = try await store.schedule(named: name) else {
                throw CommandError(.notFound, field: "args.name", "no schedule of that name")
            }
            guard try await scheduler.runNow(schedule) != nil else {
                throw CommandError(.conflict, field: "args.name", "the schedule is running now")
            }
            return try await store.schedule(named: name)?.json ?? .null
        })
    }
}
