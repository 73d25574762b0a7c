import ArgumentParser
import PatronDomain
import PatronService

extension Patronctl {
    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect and replay dead-lettered messages (patron.dead).",
            subcommands: [List.self, Replay.self])
    }
}

extension Patronctl.Dead {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters with the reason each was refused (they stay in the queue).")

        @OptionGroup var connection: ConnectionOptions

        @Option(help: "How many to show (1–1000).")
        var limit = 50

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1–1000") }
        }

        func run() async throws {
            try await reportingFailures {
                let connection = self.connection
                let limit = self.limit
                let result = try await connection.withPatron { commands, _, _ in
                    try await connection.ask(commands, "dead.list", args: ["limit": .integer(Int64(limit))])
                }
                if connection.json { return Output.json(result) }
                let rows = (result["messages"]?.arrayValue ?? []).map { message in
                    [Output.text(message["event_id"]), Output.text(message["routing_key"]),
                     Output.time(message["rejected_at"]), Output.text(message["error"])]
                }
                Output.table(["EVENT ID", "ROUTING KEY", "REJECTED AT", "REASON"], rows)
                print("\(rows.count) shown of \(Output.text(result["total"])) in the dead-letter queue")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Republish dead letters to the events exchange after a fix (admin).",
            discussion: "Each message is removed from patron.dead only after the broker confirmed its republish. Replaying an event already applied has no second effect.")

        @OptionGroup var connection: ConnectionOptions

        @Option(name: .customLong("id"), help: "Event id to replay (repeatable).")
        var ids: [String] = []

        @Flag(help: "Replay every dead letter (up to --limit).")
        var all = false

        @Option(help: "At most this many (1–10000).")
        var limit = 1000

        func validate() throws {
            guard ids.isEmpty != !all else { throw ValidationError("give --id EVENT_ID (repeatable) or --all") }
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1–10000") }
        }

        func run() async throws {
            try await reportingFailures {
                let connection = self.connection
                var args: [String: JSONValue] = ["limit": .integer(Int64(limit))]
                if all { args["all"] = .bool(true) } else { args["ids"] = .array(ids.map(JSONValue.string)) }
                let arguments = args
                let result = try await connection.withPatron { commands, _, _ in
                    try await connection.ask(commands, "dead.replay", args: arguments)
                }
                if connection.json { return Output.json(result) }
                print("replayed \(Output.text(result["replayed"])); \(Output.text(result["remaining"])) left in the dead-letter queue")
            }
        }
    }
}
