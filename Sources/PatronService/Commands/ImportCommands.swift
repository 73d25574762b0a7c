import PatronDomain
import PatronStorage

/// `customers.import`: a CSV customer list through the ingest path (see ``CustomerImport``).
struct ImportCommands: Sendable {
    let loader: CustomerListLoader
    let catalog: any CustomerCatalog

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
            do {
                return try await loader.load(Array(content.utf8), customGroups: groups, asOf: asOf, lineOffset: lineOffset, dryRun: dryRun).json
            } catch let error as CustomerImport.FileError {
                throw CommandError(.invalidArgument, field: "args.content", error.description)
            }
        })
    }
}

/// Reads a customer list and records its rows as events; what `customers.import` and
/// `patron-bench import` run.
///
/// A real import commits in parts of ``rowsPerTransaction`` rows, so events keep flowing while a
/// long list loads; each row is whole or absent, and running the file again finishes an import
/// cut short. A dry run is one transaction rolled back, so rows that meet inside the file count
/// exactly as they would.
public struct CustomerListLoader: Sendable {
    public struct Totals: Sendable, Equatable {
        public var created = 0, updated = 0, unchanged = 0, erased = 0
        public var rejected: [CustomerImport.Rejection] = []
        public var dryRun = false

        public var json: JSONValue {
            .object(["created": .integer(Int64(created)), "updated": .integer(Int64(updated)), "unchanged": .integer(Int64(unchanged)),
                     "erased": .integer(Int64(erased)), "rejected": .array(rejected.sorted { $0.line < $1.line }.map(\.json)),
                     "dry_run": .bool(dryRun)])
        }
    }

    /// Rows per commit. Each commit writes every page its rows changed, and with a million
    /// customers a part's new index entries land on pages spread over the file: the more rows
    /// share a commit, the more of them share a page, and fewer commits wait for the disk.
    /// `patron-bench import` (1M customers, three pairs per mix), 2,000 → 10,000 rows:
    /// 9,715–10,099 → 10,986–11,222 rows/s, and 6,412–6,484 → 7,228–7,413 when every matching
    /// row changes its customer's searched fields. A part holds the writer for about a second,
    /// which is how long events wait meanwhile.
    public static let rowsPerTransaction = 10_000

    private let store: any RecordStore
    private let importer: CustomerImport
    private let rowsPerPart: Int

    /// - Parameter rowsPerPart: rows per commit (tests make it small).
    public init(store: any RecordStore, importer: CustomerImport, rowsPerPart: Int = Self.rowsPerTransaction) {
        precondition(rowsPerPart >= 1)
        self.store = store
        self.importer = importer
        self.rowsPerPart = rowsPerPart
    }

    public func load(_ content: [UInt8], customGroups: [String], asOf: Timestamp, lineOffset: Int = 0, dryRun: Bool) async throws -> Totals {
        let file = try importer.open(content, customGroups: customGroups, asOf: asOf, lineOffset: lineOffset)
        var totals = Totals(dryRun: dryRun)
        let size = dryRun ? max(file.count, 1) : rowsPerPart
        let parts = stride(from: 0, to: max(file.count, 1), by: size).map { $0..<min($0 + size, file.count) }
        // The next part is read (on the other cores) while the current one is applied.
        var reading = Task { file.batch(parts[0]) }
        for (index, _) in parts.enumerated() {
            let batch = await reading.value
            if index + 1 < parts.count { reading = Task { file.batch(parts[index + 1]) } }
            totals.rejected += batch.rejected
            guard !batch.rows.isEmpty else { continue }
            let receivedAt = Timestamp.now
            let events = batch.rows.map { AcceptedEvent(event: $0.event, routingKey: CustomerImport.source, receivedAt: receivedAt, body: $0.body) }
            let outcome = try await store.record(events, dryRun: dryRun)
            totals.created += outcome.created
            totals.updated += outcome.recorded - outcome.created - outcome.suppressed
            totals.unchanged += outcome.duplicates
            totals.erased += outcome.suppressed
            for (index, failure) in outcome.failed {
                totals.rejected.append(CustomerImport.Rejection(line: batch.rows[index].line, field: "row", reason: failure.message))
            }
        }
        return totals
    }
}
