import Foundation
import PatronDomain
import PatronStorage

/// Runs an export (`exports.run`, scheduled exports): the filter's customers streamed from one
/// database snapshot into a file, then the export log entry and `export.completed` committed
/// together. A failure on the way leaves no file and no entry.
public struct CustomerExporter: Sendable {
    let rows: SQLiteCustomerExport
    let log: SQLiteExportLog
    let directory: String
    /// The currency of the `total_spent` column.
    let currency: String

    public init(rows: SQLiteCustomerExport, log: SQLiteExportLog, directory: String, currency: String) {
        self.rows = rows
        self.log = log
        self.directory = directory
        self.currency = currency
    }

    public func run(_ request: ExportRequest, requestedBy: String) async throws -> ExportLogEntry {
        let startedAt = Timestamp.now
        let id = Self.exportID(at: startedAt)
        let writer = try ExportFileWriter(directory: directory, fileName: "customers-\(id).\(request.format.rawValue)")
        let encoder = CSVRowEncoder(delimiter: request.delimiter, byteOrderMark: request.byteOrderMark)
        let (language, currency) = (request.language, self.currency)
        let count: Int
        let sha256: String
        do {
            try writer.withBuffer { buffer in
                buffer += encoder.preamble
                encoder.append(request.fields.map { $0.header(language, currency: currency) }, to: &buffer)
            }
            count = try await rows.rows(request, currency: currency) { values in
                try writer.withBuffer { encoder.append(values.map { $0.csvText(language: language, currency: currency) }, to: &$0) }
            }
            sha256 = try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        let entry = ExportLogEntry(id: id, requestedBy: requestedBy, startedAt: startedAt, completedAt: .now, format: request.format.rawValue,
                                   filter: JSONObject(request.filterArguments), fields: request.fields.map(\.rawValue), rows: count,
                                   file: writer.finalPath, sha256: sha256)
        do {
            try await log.record(entry)
        } catch {
            unlink(writer.finalPath)
            throw error
        }
        return entry
    }

    /// `20261124-074612-3f9a1c`: sorts by time, unique without coordination between replicas.
    static func exportID(at time: Timestamp) -> String {
        let utc = time.description
        let stamp = utc.prefix(19).filter { $0.isNumber }
        let random = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
        return "\(stamp.prefix(8))-\(stamp.dropFirst(8))-\(String(repeating: "0", count: 6 - random.count) + random)"
    }
}
