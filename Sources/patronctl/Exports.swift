import ArgumentParser
import Foundation
import PatronDomain

extension Patronctl {
    struct Exports: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export customer lists to files on patrond's host, and read the export log.",
            subcommands: [Run.self, Log.self])
    }
}

/// What an export writes, as `exports.run` takes it; shared with scheduled exports.
struct ExportOptions: ParsableArguments {
    @Option(help: "csv, xlsx or pdf.") var format = "csv"
    @Option(help: "Columns in order, comma-separated (default: the customer summary's fields; notes only when named).") var fields: String?
    @Option(name: .customLong("export-language"), help: "Headers and words in en or es (default: patrond's default language).") var exportLanguage: String?
    @Option(help: "CSV: \",\" or \";\" (default \";\" for es, \",\" for en).") var delimiter: String?
    @Flag(inversion: .prefixedNo, help: "CSV: start the file with a UTF-8 byte order mark (default: for es, as Excel needs).") var bom: Bool?

    var args: [String: JSONValue] {
        var args: [String: JSONValue] = ["format": .string(format)]
        if let fields { args["fields"] = .array(fields.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }) }
        if let exportLanguage { args["language"] = .string(exportLanguage) }
        if let delimiter { args["delimiter"] = .string(delimiter) }
        if let bom { args["bom"] = .bool(bom) }
        return args
    }
}

extension Patronctl.Exports {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the customers a search finds (operator).",
            discussion: "Example: patronctl exports run --city Donostia --newsletter yes --fields customer_no,email --delimiter ';' --bom")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup(title: "Filters") var filters: SearchFilters
        @OptionGroup(title: "Export") var export: ExportOptions

        func run() async throws {
            var args = export.args
            args["filter"] = .object(JSONObject(filters.args))
            let (connection, arguments) = (self.connection, args)
            try await reportingFailures {
                try await connection.run("exports.run", args: arguments) { result in
                    print("\(Output.text(result["rows"])) customers written to \(Output.text(result["file"]))")
                    print("export \(Output.text(result["export_id"])), sha256 \(Output.text(result["sha256"]))")
                }
            }
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent exports: who, when, rows, file and checksum (operator).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "1–1000.") var limit = 50

        func run() async throws {
            let (connection, args) = (self.connection, ["limit": JSONValue.integer(Int64(limit))])
            try await reportingFailures {
                try await connection.run("exports.log", args: args) { result in
                    Output.table(["EXPORT", "BY", "COMPLETED", "FORMAT", "ROWS", "FILE", "REMOVED"], (result["exports"]?.arrayValue ?? []).map {
                        [Output.text($0["export_id"]), Output.text($0["requested_by"]), Output.time($0["completed_at"]),
                         Output.text($0["format"]), Output.text($0["rows"]), Output.text($0["file"]), CustomerText.date($0["removed_at"])]
                    })
                }
            }
        }
    }
}

extension Patronctl {
    struct Reports: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Built-in reports, written like exports (operator).",
            discussion: """
                Reports: new_customers, follow_up (stays that ended in the period), abandoned_carts, no_shows, top_customers.
                Example: patronctl reports follow_up --timezone Europe/Madrid --format xlsx
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "new_customers, follow_up, abandoned_carts, no_shows or top_customers.") var report: String
        @Option(help: "IANA time zone its period's days are reckoned in.") var timezone: String
        @Option(help: "csv, xlsx or pdf.") var format = "csv"
        @Option(help: "yesterday, last_7_days, last_30_days, previous_week or previous_month.") var period: String?
        @Option(help: "Abandoned carts: days back.") var days: Int?
        @Option(help: "Top customers: how many.") var limit: Int?
        @Option(name: .customLong("export-language"), help: "Headers in en or es.") var exportLanguage: String?

        func run() async throws {
            var args: [String: JSONValue] = ["report": .string(report), "timezone": .string(timezone), "format": .string(format)]
            if let period { args["period"] = .string(period) }
            if let days { args["days"] = .integer(Int64(days)) }
            if let limit { args["limit"] = .integer(Int64(limit)) }
            if let exportLanguage { args["language"] = .string(exportLanguage) }
            let (connection, arguments) = (self.connection, args)
            try await reportingFailures {
                try await connection.run("reports.run", args: arguments) { result in
                    print("\(Output.text(result["rows"])) rows written to \(Output.text(result["file"]))")
                }
            }
        }
    }
}
