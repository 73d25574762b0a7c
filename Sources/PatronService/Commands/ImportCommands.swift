import PatronDomain
import PatronStorage

/// `customers.import`: a CSV customer list through the ingest path (see ``CustomerImport``).
///
/// A real import commits in parts of ``rowsPerTransaction`` rows, so events keep flowing while a
/// long list loads; each row is whole or absent, and running the file again finishes an import
/// cut short. A dry run is one transaction rolled back, so rows that meet inside the file count
/// exactly as they would.
struct ImportCommands: Sendable {
    let store: SQLiteEventStore
    let catalog: any CustomerCatalog
    let importer: CustomerImport

    static let rowsPerTransaction = 2_000

    func register(on server: CommandServer) {
        server.register("customers.import", CommandHandler(minimumRole: .admin) { args, _ in
            try args.allowOnly(["format", "content", "dry_run", "as_of", "line_offset"])
            guard try args.requiredString("format", maximumLength: 10) == "csv" else {
                throw CommandError(.invalidArgument, field: "args.format", "must be csv")
            }
            guard let content = args.values["content"]?.stringValue else {
                throw CommandError(.invalidArgument, field: "args.content", "required: the CSV file's text")
            }
            let dryRun = try args.bool("dry_run") ?? false
            var asOf = Timestamp.now
            if let text = try args.string("as_of", maximumLength: 40) {
                guard let time = Timestamp(rfc3339: text) else {
                    throw CommandError(.invalidArgument, field: "args.as_of", "an RFC 3339 date-time with offset")
                }
                asOf = time
            }
            let lineOffset = Int(try args.integer("line_offset", in: 0...100_000_000, default: 0))
            let groups = try await catalog.groups().filter { !$0.automatic }.map(\.name)
            let batch: CustomerImport.Batch
            do {
                batch = try importer.read(Array(content.utf8), customGroups: groups, asOf: asOf, lineOffset: lineOffset)
            } catch let error as CustomerImport.FileError {
                throw CommandError(.invalidArgument, field: "args.content", error.description)
            }
            return try await run(batch, dryRun: dryRun).json(dryRun: dryRun)
        })
    }

    private struct Totals {
        var created = 0, updated = 0, unchanged = 0, erased = 0
        var rejected: [CustomerImport.Rejection] = []

        func json(dryRun: Bool) -> JSONValue {
            .object(["created": .integer(Int64(created)), "updated": .integer(Int64(updated)), "unchanged": .integer(Int64(unchanged)),
                     "erased": .integer(Int64(erased)),
                     "rejected": .array(rejected.sorted { $0.line < $1.line }.map(\.json)), "dry_run": .bool(dryRun)])
        }
    }

    private func run(_ batch: CustomerImport.Batch, dryRun: Bool) async throws -> Totals {
        var totals = Totals()
        totals.rejected = batch.rejected
        let receivedAt = Timestamp.now
        let parts = dryRun ? [batch.rows[...]] : stride(from: 0, to: batch.rows.count, by: Self.rowsPerTransaction).map {
            batch.rows[$0..<min($0 + Self.rowsPerTransaction, batch.rows.count)]
        }
        for part in parts where !part.isEmpty {
            let events = part.map { AcceptedEvent(event: $0.event, routingKey: CustomerImport.source, receivedAt: receivedAt, body: $0.body) }
            let outcome = try await store.record(events, dryRun: dryRun)
            totals.created += outcome.created
            totals.updated += outcome.recorded - outcome.created - outcome.suppressed
            totals.unchanged += outcome.duplicates
            totals.erased += outcome.suppressed
            for (index, failure) in outcome.failed {
                totals.rejected.append(CustomerImport.Rejection(line: part[part.startIndex + index].line, field: "row", reason: failure.message))
            }
        }
        return totals
    }
}
