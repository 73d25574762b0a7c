import ArgumentParser
import Foundation
import PatronDomain

extension Patronctl {
    struct Schedules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show Schedules: exports, reports and sends that run by themselves at set times.",
            subcommands: [List.self, Create.self, Delete.self, RunNow.self], defaultSubcommand: List.self)
    }
}

extension Patronctl.Schedules {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Schedules with their next and last run and its result.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let connection = self.connection
            try await reportingFailures {
                try await connection.run("schedules.list", args: [:]) { result in
                    Output.table(["NAME", "CRON", "TIME ZONE", "ACTION", "NEXT RUN", "LAST RUN", "LAST RESULT"], (result["schedules"]?.arrayValue ?? []).map {
                        [Output.text($0["name"]), Output.text($0["cron"]), Output.text($0["timezone"]), Output.text($0["action"]),
                         Output.text($0["next_run"]), Output.text($0["last_run"]), Output.text($0["last_result"])]
                    })
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Schedule an export, a report or a send to the customers a search finds (operator).",
            discussion: "Example: patronctl schedules create 'weekly newsletter list' --cron '0 7 * * mon' --timezone Europe/Madrid --newsletter yes")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        @Option(help: "Five fields (minute hour day-of-month month day-of-week), or @daily, @weekly, @monthly.") var cron: String
        @Option(help: "IANA time zone the cron times are read in.") var timezone: String
        @OptionGroup(title: "Filters") var filters: SearchFilters
        @OptionGroup(title: "Export") var export: ExportOptions
        @Option(help: "Run this built-in report instead of an export (see patronctl reports --help); filters and fields do not apply.") var report: String?
        @Option(help: "The report's period.") var period: String?
        @Option(name: .customLong("send-template"), help: "Send this template to the customers the filters find instead of exporting them.")
        var sendTemplate: String?
        @Option(name: .customLong("send-channel"), help: "With --send-template: email or sms.") var sendChannel = "email"
        @Option(name: .customLong("send-purpose"), help: "With --send-template: the template's purpose.") var sendPurpose: String?
        @Option(name: .customLong("deliver-to"), help: "Email each run's file to this staff address (repeat for up to 20; exports and reports).")
        var deliverTo: [String] = []

        func validate() throws {
            if report == nil, period != nil { throw ValidationError("--period goes with --report") }
            if sendTemplate != nil, !deliverTo.isEmpty { throw ValidationError("--deliver-to goes with an export or a report, not --send-template") }
            if report != nil, sendTemplate != nil { throw ValidationError("--report and --send-template are different actions; choose one") }
            if sendTemplate != nil, sendPurpose == nil { throw ValidationError("--send-template needs --send-purpose") }
        }

        func run() async throws {
            var args = export.args
            args.merge(["name": .string(name), "cron": .string(cron), "timezone": .string(timezone), "action": .string("export"),
                        "filter": .object(JSONObject(filters.args))]) { $1 }
            if let report {
                args["action"] = .string("report")
                args["report"] = .string(report)
                args["filter"] = nil
                if let period { args["period"] = .string(period) }
            }
            if let sendTemplate {
                args = ["name": .string(name), "cron": .string(cron), "timezone": .string(timezone), "action": .string("dispatch"),
                        "filter": .object(JSONObject(filters.args)), "template": .string(sendTemplate), "channel": .string(sendChannel),
                        "purpose": .string(sendPurpose ?? "")]
            }
            if !deliverTo.isEmpty { args["deliver_to"] = .array(deliverTo.map(JSONValue.string)) }
            let (connection, arguments) = (self.connection, args)
            try await reportingFailures {
                try await connection.run("schedules.create", args: arguments) { result in
                    print("scheduled \(Output.text(result["name"])); next run \(Output.text(result["next_run"]))")
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a schedule (operator).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String

        func run() async throws {
            let (connection, args) = (self.connection, ["name": JSONValue.string(name)])
            try await reportingFailures {
                try await connection.run("schedules.delete", args: args) { print("deleted \(Output.text($0["name"]))") }
            }
        }
    }

    struct RunNow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run-now", abstract: "Run a schedule's action now, outside its plan (operator).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String

        func run() async throws {
            let (connection, args) = (self.connection, ["name": JSONValue.string(name)])
            try await reportingFailures {
                try await connection.run("schedules.run_now", args: args) { print(Output.text($0["last_result"])) }
            }
        }
    }
}
