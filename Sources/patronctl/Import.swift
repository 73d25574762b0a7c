import ArgumentParser
import Foundation
import PatronDomain

extension Patronctl.Customers {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV customer list, or QloApps's customer export as it is (admin).",
            discussion: """
                UTF-8 with or without BOM, ',' or ';'. Columns by the contract's field names or their English and \
                Spanish spellings (README, "Importing customers"). Rows go through the same identity resolution \
                and merge rules as events; importing the same file again changes nothing. A long file is sent in \
                parts of --rows-per-request rows, each committed on its own: run it again to finish an import cut short.
                Exit codes: 0 every row imported or unchanged; 65 some rows rejected (listed) or the file cannot be read.
                """)

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The CSV file.", completion: .file(extensions: ["csv", "txt"]))
        var file: String

        @Flag(name: .customLong("dry-run"), help: "Report what the import would do, and change nothing.")
        var dryRun = false

        @Option(name: .customLong("as-of"), help: "When the list was true (RFC 3339); newer events still win. Default: now.")
        var asOf: String?

        /// As many rows as patrond commits at once (`CustomerListLoader.rowsPerTransaction`).
        @Option(name: .customLong("rows-per-request"), help: "Rows per command message (100–50000).")
        var rowsPerRequest = 10_000

        func validate() throws {
            guard (100...50_000).contains(rowsPerRequest) else { throw ValidationError("--rows-per-request must be 100–50000") }
        }

        func run() async throws {
            let (connection, dryRun, asOf) = (self.connection, self.dryRun, self.asOf)
            try await reportingFailures {
                guard let bytes = FileManager.default.contents(atPath: file).map(Array.init) else {
                    throw CLIFailure(code: 66, message: "cannot read \(file)")
                }
                let parts = try ImportParts.split(bytes, rowsPerPart: dryRun ? Int.max : rowsPerRequest)
                let total = try await connection.withPatron { commands, _, _ -> JSONValue in
                    var totals: [String: Int64] = [:]
                    var rejected: [JSONValue] = []
                    for part in parts {
                        var args: [String: JSONValue] = ["format": .string("csv"), "content": .string(part.content),
                                                         "line_offset": .integer(Int64(part.lineOffset)), "dry_run": .bool(dryRun)]
                        if let asOf { args["as_of"] = .string(asOf) }
                        let result = try await connection.ask(commands, "customers.import", args: args)
                        for key in ["created", "updated", "unchanged", "erased"] { totals[key, default: 0] += result[key]?.intValue ?? 0 }
                        rejected += result["rejected"]?.arrayValue ?? []
                    }
                    var summary = JSONObject(totals.mapValues(JSONValue.integer))
                    summary = JSONObject(summary.dictionary.merging(["rejected": .array(rejected), "dry_run": .bool(dryRun)]) { $1 })
                    return .object(summary)
                }
                if connection.json {
                    Output.json(total)
                } else {
                    let rejected = total["rejected"]?.arrayValue ?? []
                    if !rejected.isEmpty {
                        Output.table(["LINE", "FIELD", "REASON"], rejected.map { [Output.text($0["line"]), Output.text($0["field"]), Output.text($0["reason"])] })
                        print("")
                    }
                    print("\(dryRun ? "would create" : "created") \(Output.text(total["created"])), updated \(Output.text(total["updated"])), "
                          + "unchanged \(Output.text(total["unchanged"])), erased people skipped \(Output.text(total["erased"])), rejected \(rejected.count)")
                }
                if !(total["rejected"]?.arrayValue ?? []).isEmpty { throw ExitCode(65) }
            }
        }
    }
}

/// A CSV file cut into parts at record boundaries, each with the header, so that no command
/// message grows past the broker's size limit.
enum ImportParts {
    struct Part {
        let content: String
        /// Lines of the file before the part's first row, less the header line the part repeats.
        let lineOffset: Int
    }

    static func split(_ bytes: [UInt8], rowsPerPart: Int) throws -> [Part] {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            var records = CSVRecords(bytes, delimiter: CSVRecords.delimiter(of: bytes))
            var line = 1
            do { while let record = try records.next() { line = record.line } } catch { line = error.line }
            throw CLIFailure(code: 65, message: "the file is not UTF-8 text (near line \(line)); save it as UTF-8 and import again")
        }
        var records = CSVRecords(bytes, delimiter: CSVRecords.delimiter(of: bytes))
        var starts: [CSVRecords.Record] = []
        // A syntax error ends the cutting; patrond reads the rest and reports the line.
        while let record = try? records.next() { starts.append(record) }
        guard let header = starts.first, starts.count - 1 > rowsPerPart else {
            return [Part(content: String(decoding: bytes, as: UTF8.self), lineOffset: 0)]
        }
        var headerBytes = Array(bytes[header.offset..<starts[1].offset])
        while let last = headerBytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { headerBytes.removeLast() }
        headerBytes.append(UInt8(ascii: "\n"))
        var parts: [Part] = []
        var index = 1
        while index < starts.count {
            let first = starts[index]
            let end = index + rowsPerPart < starts.count ? starts[index + rowsPerPart].offset : bytes.count
            parts.append(Part(content: String(decoding: headerBytes + bytes[first.offset..<end], as: UTF8.self), lineOffset: first.line - 2))
            index += rowsPerPart
        }
        return parts
    }
}
