import PatronDomain
import PatronStorage

/// `exports.run` (EVENTS.md), and Patron's own `exports.log` and `reports.run` (in `docs/asyncapi.yaml`).
struct ExportCommands: Sendable {
    let exporter: CustomerExporter
    let log: any ExportLogStore
    let phones: any PhoneNormalizer
    let rules: RecordRules
    let defaultLanguage: String

    func register(on server: CommandServer) {
        server.register("exports.run", CommandHandler(minimumRole: .operator) { args, context in
            let request = try ExportRequest.parse(args, phones: phones, rules: rules, defaultLanguage: defaultLanguage)
            return try await writing { try await exporter.run(request, requestedBy: context.user).result }
        })
        server.register("reports.run", CommandHandler(minimumRole: .operator) { args, context in
            let report = try ReportRequest.parse(args, zone: nil, defaultLanguage: defaultLanguage)
            return try await writing { try await exporter.run(report, requestedBy: context.user).result }
        })
        server.register("exports.log", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["limit"])
            let limit = Int(try args.integer("limit", in: 1...1000, default: 50))
            return .object(["exports": .array(try await log.entries(limit: limit).map(\.json))])
        })
    }

    /// A file that cannot be written is the operator's to fix: the reply says which and why,
    /// rather than "internal error; see patrond's log".
    private func writing(_ body: () async throws -> JSONValue) async throws -> JSONValue {
        do {
            return try await body()
        } catch let error as ExportFileError {
            throw CommandError(.internal, "the export file could not be written (\(error)); patrond's user must be able to create and "
                                   + "write \(exporter.directory) (storage.data_dir or PATRON_DATA_DIR)")
        }
    }
}
