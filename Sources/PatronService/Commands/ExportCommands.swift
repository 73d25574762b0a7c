import Foundation
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
        server.register("exports.fetch", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["export_id", "offset", "length"])
            let id = try args.requiredString("export_id", maximumLength: 100)
            let offset = try args.integer("offset", in: 0...Int64.max, default: 0)
            let length = Int(try args.integer("length", in: 1...Int64(Self.largestPart), default: Int64(Self.largestPart)))
            guard let entry = try await log.entry(id: id) else { throw CommandError(.notFound, field: "args.export_id", "no export \(id)") }
            if let removed = entry.removedAt {
                throw CommandError(.notFound, field: "args.export_id", "the file of \(id) was deleted at \(removed) (exports.retention_days)")
            }
            return try Self.part(of: entry, offset: offset, length: length)
        })
        server.register("exports.log", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["limit"])
            let limit = Int(try args.integer("limit", in: 1...1000, default: 50))
            return .object(["exports": .array(try await log.entries(limit: limit).map(\.json))])
        })
    }

    /// The most bytes one `exports.fetch` reply carries: 768 KiB, about 1 MiB as base64, well
    /// within a broker message.
    static let largestPart = 786_432

    /// `length` bytes of the export's file from `offset`, base64, with where the next part starts
    /// (null after the last) and the whole file's size and SHA-256 for the receiver to check.
    private static func part(of entry: ExportLogEntry, offset: Int64, length: Int) throws -> JSONValue {
        guard let handle = FileHandle(forReadingAtPath: entry.file) else {
            throw CommandError(.notFound, field: "args.export_id", "the file of \(entry.id) is no longer at \(entry.file)")
        }
        defer { try? handle.close() }
        let size = Int64(try handle.seekToEnd())
        guard offset <= size else { throw CommandError(.invalidArgument, field: "args.offset", "beyond the file's \(size) bytes") }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: length) ?? Data()
        let next = offset + Int64(data.count)
        return .object([
            "export_id": .string(entry.id), "file": .string((entry.file as NSString).lastPathComponent), "size": .integer(size),
            "sha256": .string(entry.sha256), "offset": .integer(offset), "data": .string(data.base64EncodedString()),
            "next_offset": next < size ? .integer(next) : .null,
        ])
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
