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
    /// The TrueType font PDFs embed.
    let pdfFont: String

    public init(rows: SQLiteCustomerExport, log: SQLiteExportLog, directory: String, currency: String,
                pdfFont: String = PatronConfiguration.Exports.defaultPDFFont) {
        self.rows = rows
        self.log = log
        self.directory = directory
        self.currency = currency
        self.pdfFont = pdfFont
    }

    public func run(_ request: ExportRequest, requestedBy: String) async throws -> ExportLogEntry {
        let startedAt = Timestamp.now
        let id = Self.exportID(at: startedAt)
        let file = try ExportFile(directory: directory, fileName: "customers-\(id).\(request.format.rawValue)")
        let layout = ExportLayout(request: request, currency: currency, exportedAt: startedAt)
        let count: Int
        let sha256: String
        do {
            let sheet: any ExportSheet = switch request.format {
            case .csv: try CSVSheet(path: file.temporaryPath, layout: layout,
                                    encoder: CSVRowEncoder(delimiter: request.delimiter, byteOrderMark: request.byteOrderMark))
            case .xlsx: try XLSXSheet(path: file.temporaryPath, layout: layout)
            case .pdf: try PDFSheet(path: file.temporaryPath, layout: layout, fontPath: pdfFont)
            }
            count = try await rows.rows(request, currency: currency) { values in try sheet.append(values) }
            try sheet.close()
            sha256 = try file.seal()
        } catch {
            file.abandon()
            throw error
        }
        let entry = ExportLogEntry(id: id, requestedBy: requestedBy, startedAt: startedAt, completedAt: .now, format: request.format.rawValue,
                                   filter: JSONObject(request.filterArguments), fields: request.fields.map(\.rawValue), rows: count,
                                   file: file.finalPath, sha256: sha256)
        do {
            try await log.record(entry)
        } catch {
            unlink(file.finalPath)
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
