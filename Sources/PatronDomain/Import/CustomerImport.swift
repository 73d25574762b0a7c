import Foundation

/// Turns a customer list (CSV, `customers.import`) into `customer.updated` events, so that an
/// imported row goes through exactly the validation, identity resolution and merge rules of an
/// event, and the journal makes a second import of the same row a no-op.
///
/// A row's event id is a keyed hash of what the row states (not of its line or the time), so the
/// same file imported twice, or the same row in two files, has one effect. Its statements are
/// dated `asOf` (the time of import unless the caller names when the list was true), so events
/// newer than that still win field by field.
///
/// The journal keeps, as the event body, only the fields Patron maps: QloApps's password column
/// is read past and never leaves this function.
public struct CustomerImport: Sendable {
    /// A row refused, with the column (as the file's header writes it) and the reason.
    public struct Rejection: Sendable, Equatable {
        public let line: Int
        public let field: String
        public let reason: String

        public init(line: Int, field: String, reason: String) {
            self.line = line
            self.field = field
            self.reason = reason
        }

        public var json: JSONValue { .object(["line": .integer(Int64(line)), "field": .string(field), "reason": .string(reason)]) }
    }

    /// A row that passed, as the event it becomes.
    public struct Row: Sendable {
        public let line: Int
        public let event: DecodedEvent
        /// The event as the journal keeps it (EVENTS.md envelope, `source: "import"`).
        public let body: [UInt8]
    }

    public struct Batch: Sendable {
        public var rows: [Row] = []
        public var rejected: [Rejection] = []
        /// The header was QloApps's customer export.
        public var qloapps = false
    }

    /// The file as a whole cannot be read: no header, an unknown or repeated column, broken CSV.
    public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let message: String

        public var description: String { "line \(line): \(message)" }
    }

    public static let source = "import"

    private let decoder: EventDataDecoder
    private let hasher: any IdentityHasher

    public init(rules: RecordRules, phones: any PhoneNormalizer, hasher: any IdentityHasher) {
        decoder = EventDataDecoder(rules: rules, phones: phones)
        self.hasher = hasher
    }

    /// The whole list read at once (``open(_:customGroups:asOf:lineOffset:)`` then every row).
    public func read(_ content: [UInt8], customGroups: [String], asOf: Timestamp, lineOffset: Int = 0) throws(FileError) -> Batch {
        let file = try open(content, customGroups: customGroups, asOf: asOf, lineOffset: lineOffset)
        return file.batch(0..<file.count)
    }

    /// Checks the header and splits the records, so that rows can be read part by part (an import
    /// reads the next part while the previous one is applied).
    /// - Parameters:
    ///   - customGroups: the custom groups that exist (a row naming another group is refused).
    ///   - lineOffset: lines of the whole file before `content`'s first data row minus one, when
    ///     a client sends a long file in parts, each with the header (the report then names the
    ///     file's own lines).
    public func open(_ content: [UInt8], customGroups: [String], asOf: Timestamp, lineOffset: Int = 0) throws(FileError) -> OpenFile {
        var csv = CSVRecords(content, delimiter: CSVRecords.delimiter(of: content))
        let first: CSVRecords.Record?
        do {
            first = try csv.next()
        } catch {
            throw FileError(line: error.line, message: error.message)
        }
        guard let header = first else { throw FileError(line: 1, message: "no header row") }
        let qloapps = ImportColumn.isQloApps(header.fields)
        let columns = try recognise(header, qloapps: qloapps)
        let reader = RowReader(columns: columns, headers: header.fields, customGroups: customGroups, decoder: decoder,
                               hasher: hasher, asOf: asOf)
        var records: [CSVRecords.Record] = []
        var broken: Rejection?
        while true {
            do {
                guard let record = try csv.next() else { break }
                records.append(record)
            } catch {
                // Rows before the broken one stand; the rest of the file cannot be read.
                broken = Rejection(line: error.line + lineOffset, field: "content", reason: error.message)
                break
            }
        }
        return OpenFile(records: records, reader: reader, lineOffset: lineOffset, qloapps: qloapps, broken: broken)
    }

    /// A list whose header was recognised, read part by part.
    public struct OpenFile: Sendable {
        fileprivate let records: [CSVRecords.Record]
        fileprivate let reader: RowReader
        fileprivate let lineOffset: Int
        public let qloapps: Bool
        /// Where the CSV itself broke, reported with the last part.
        fileprivate let broken: Rejection?

        /// Data rows before the point where the file broke, if it did.
        public var count: Int { records.count }

        /// The rows of `range` as events, or rejected.
        public func batch(_ range: Range<Int>) -> Batch {
            var batch = Batch(qloapps: qloapps)
            let slice = Array(records[range])
            for (record, result) in zip(slice, CustomerImport.readInParallel(slice, reader)) {
                let line = record.line + lineOffset
                switch result {
                case .success(let (event, body)): batch.rows.append(Row(line: line, event: event, body: body))
                case .failure(let problem): batch.rejected.append(Rejection(line: line, field: problem.field, reason: problem.reason))
                }
            }
            if range.upperBound == records.count, let broken { batch.rejected.append(broken) }
            return batch
        }
    }

    /// Each record into its event, on every core: a row's reading is pure and costs about as
    /// much as applying it, so doing it in parallel keeps the import from waiting on it.
    fileprivate static func readInParallel(_ records: [CSVRecords.Record], _ reader: RowReader) -> [ResultSlots.Value] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, max(1, records.count / 500))
        let results = ResultSlots(count: records.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: records.count, by: workers) { results.set(index, reader.read(records[index].fields)) }
        }
        return results.values
    }

    private func recognise(_ header: CSVRecords.Record, qloapps: Bool) throws(FileError) -> [ImportColumn] {
        var columns: [ImportColumn] = []
        for name in header.fields {
            guard let column = ImportColumn.recognise(name, qloapps: qloapps) else {
                throw FileError(line: header.line, message: "unknown column '\(name)' (the README lists the column names)")
            }
            if column != .ignored, columns.contains(column) {
                throw FileError(line: header.line, message: "column '\(name)' repeats another column's field")
            }
            columns.append(column)
        }
        guard columns.contains(where: { [.customer("email"), .customer("phone"), .customer("mobile"), .customer("customer_no")].contains($0) }) else {
            throw FileError(line: header.line, message: "no column identifies a customer (email, phone, mobile or customer_no)")
        }
        return columns
    }
}

/// Results written by concurrent workers, each to its own indices.
private final class ResultSlots: @unchecked Sendable {
    typealias Value = Result<(DecodedEvent, [UInt8]), RowReader.Problem>
    // Unchecked: every worker writes only the indices it owns (stride by worker count), through
    // a buffer allocated once, and the values are read after concurrentPerform has returned.
    private let slots: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }

    func set(_ index: Int, _ value: Value) { slots[index] = value }

    var values: [Value] { slots.map { $0! } }
}

/// One row's cells into an event: what ``CustomerImport`` does per line.
private struct RowReader: Sendable {
    struct Problem: Error {
        let field: String
        let reason: String
    }

    let columns: [ImportColumn]
    let headers: [String]
    let customGroups: [String]
    let decoder: EventDataDecoder
    let hasher: any IdentityHasher
    let asOf: Timestamp

    func read(_ cells: [String]) -> Result<(DecodedEvent, [UInt8]), Problem> {
        Result { () throws(Problem) -> (DecodedEvent, [UInt8]) in try event(cells) }
    }

    private func event(_ cells: [String]) throws(Problem) -> (DecodedEvent, [UInt8]) {
        guard cells.count == columns.count else {
            throw Problem(field: "row", reason: "has \(cells.count) fields, the header has \(columns.count)")
        }
        var customer: [String: JSONValue] = [:]
        var address: [String: JSONValue] = [:]
        var group = AutomaticGroup?.none
        var customGroup: String?
        var partnerOffers: Bool?
        for (index, column) in columns.enumerated() {
            let value = cells[index].trimmingWhitespace()
            guard !value.isEmpty else { continue }
            let header = headers[index]
            switch column {
            case .customer("birthday") where value == "0000-00-00":
                continue  // QloApps's and PrestaShop's "no birthday"
            case .customer(let key):
                customer[key] = .string(value)
            case .addressPart(let key):
                address[key] = .string(value)
            case .newsletter:
                customer["newsletter"] = .bool(try flag(value, header))
            case .account:
                customer["account"] = .bool(try flag(value, header))
            case .tags:
                customer["tags"] = .array(Self.split(value, by: ["|", ","]).map(JSONValue.string))
            case .group, .groups:
                for name in column == .group ? [value] : Self.split(value, by: [","]) {
                    if let automatic = AutomaticGroup.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) {
                        group = max(group ?? automatic, automatic)
                    } else if let custom = customGroups.first(where: { $0.lowercased() == name.lowercased() }) {
                        customGroup = customGroup ?? custom
                    } else {
                        throw Problem(field: header, reason: "no group named '\(name)' (groups.list shows them; groups.create makes one)")
                    }
                }
            case .titleID:
                switch value {
                case "0": break
                case "1": customer["title"] = .string("Mr.")
                case "2": customer["title"] = .string("Mrs.")
                default: throw Problem(field: header, reason: "must be 0 (none), 1 (Mr.) or 2 (Mrs.)")
                }
            case .defaultGroupID:
                guard let id = Int(value), id > 0 else { throw Problem(field: header, reason: "must be a group id (1 Visitor, 2 Guest, 3 Customer)") }
                // Ids above 3 are QloApps's custom groups, which the Groups column names.
                if (1...3).contains(id), let automatic = AutomaticGroup(rawValue: id - 1) { group = max(group ?? automatic, automatic) }
            case .partnerOffers:
                partnerOffers = try flag(value, header)
            case .ignored:
                continue
            }
        }
        if !address.isEmpty { customer["address"] = .object(JSONObject(address)) }
        var stated = customer
        if let group { stated["group"] = .string(group.name) }
        if let customGroup { stated["custom_group"] = .string(customGroup) }
        if let partnerOffers { stated["partner_offers"] = .bool(partnerOffers) }
        let statement = JSONValue.object(JSONObject(stated)).canonicalBytes
        let id = "import-" + hasher.hash(String(decoding: statement, as: UTF8.self))
        let payload: EventPayload
        do {
            payload = try decoder.decode(type: .customerUpdated, data: ["customer": .object(JSONObject(customer))], eventID: id)
        } catch {
            throw Problem(field: field(of: error), reason: error.message)
        }
        guard case .customerUpdated(var input) = payload else { preconditionFailure("customer.updated decodes to customerUpdated") }
        input.minimumGroup = group
        input.customGroup = customGroup
        input.partnerOffers = partnerOffers
        input.imported = true
        let envelope = Envelope(id: id, type: .customerUpdated, occurredAt: asOf, source: CustomerImport.source)
        let body = JSONValue.object([
            "id": .string(id), "type": .string(EventType.customerUpdated.rawValue), "occurred_at": .string(asOf.description),
            "source": .string(CustomerImport.source), "data": .object(["customer": .object(JSONObject(stated))]),
        ]).canonicalBytes
        return (DecodedEvent(envelope: envelope, payload: .customerUpdated(input)), body)
    }

    /// The file's header for the decoder's field path (`data.customer.address.city` → the
    /// column that held `city`); `row` when the row as a whole is refused.
    private func field(of rejection: PatronDomain.Rejection) -> String {
        guard let key = rejection.field.split(separator: ".").last.map(String.init), rejection.field != "data.customer" else { return "row" }
        let index = columns.firstIndex { $0 == .customer(key) || $0 == .addressPart(key) || ($0 == .titleID && key == "title") }
        return index.map { headers[$0] } ?? key
    }

    private func flag(_ value: String, _ header: String) throws(Problem) -> Bool {
        switch SearchText.fold(value) {
        case "1", "yes", "y", "true", "si", "s", "x": return true
        case "0", "no", "n", "false": return false
        default: throw Problem(field: header, reason: "must be yes or no (1/0, true/false, sí/no)")
        }
    }

    private static func split(_ value: String, by separators: Set<Character>) -> [String] {
        value.split(whereSeparator: separators.contains).map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
