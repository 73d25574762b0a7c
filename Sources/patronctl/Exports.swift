import ArgumentParser
import Foundation
import PatronDomain
import PatronService

extension Patronctl {
    struct Exports: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export customer lists to files on patrond's host, fetch them over the broker, and read the export log.",
            subcommands: [Run.self, Fetch.self, Log.self])
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

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an export's or a report's file from patrond's host, over the broker, and check its SHA-256 (operator).",
            discussion: "Example: patronctl exports fetch 20261124-074612-3f9a1c --output customers.csv")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The export's id (exports run and exports log print it).") var exportID: String
        @Option(help: "Where to write the file (default: its name on patrond's host, here). An existing file is not replaced.")
        var output: String?

        func run() async throws {
            let (connection, exportID, output) = (self.connection, self.exportID, self.output)
            try await reportingFailures {
                let written = try await connection.withPatron { commands, _, _ -> JSONValue in
                    var offset: Int64? = 0
                    var path: String?
                    var handle: FileHandle?
                    let digest = SHA256Digest()
                    var expected = ""
                    var size: Int64 = 0
                    defer { try? handle?.close() }
                    while let start = offset {
                        let part = try await connection.ask(commands, "exports.fetch", args: ["export_id": .string(exportID), "offset": .integer(start)])
                        if handle == nil {
                            let target = output ?? Output.text(part["file"])
                            guard !FileManager.default.fileExists(atPath: target) else {
                                throw CLIFailure(code: 73, message: "\(target) exists; not replaced (name another with --output)")
                            }
                            // 0600: the file holds personal data, as on patrond's host.
                            guard FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600]),
                                  let opened = FileHandle(forWritingAtPath: target) else {
                                throw CLIFailure(code: 73, message: "cannot create \(target)")
                            }
                            (path, handle, expected, size) = (target, opened, Output.text(part["sha256"]), part["size"]?.intValue ?? 0)
                        }
                        guard let data = Data(base64Encoded: Output.text(part["data"])) else {
                            throw CLIFailure(code: 76, message: "part at \(start) is not base64")
                        }
                        try handle?.write(contentsOf: data)
                        digest.update(data)
                        offset = part["next_offset"]?.intValue
                    }
                    try handle?.synchronize()
                    let actual = digest.finish() ?? ""
                    guard actual == expected else {
                        if let path { try? FileManager.default.removeItem(atPath: path) }
                        throw CLIFailure(code: 76, message: "the copy's SHA-256 \(actual) is not the export's \(expected); nothing kept")
                    }
                    return .object(["export_id": .string(exportID), "file": .string(path ?? ""), "size": .integer(size), "sha256": .string(actual)])
                }
                if connection.json {
                    Output.json(written)
                } else {
                    print("\(Output.text(written["size"])) bytes written to \(Output.text(written["file"])), sha256 \(Output.text(written["sha256"])) checked")
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
