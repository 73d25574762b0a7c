import Foundation
import PatronDomain
import PatronStorage

/// Runs an export (`exports.run`, scheduled exports): the filter's customers streamed from one
/// database snapshot into a file, then the export log entry and `export.completed` committed
/// together. A failure on the way leaves no file and no entry.
public struct CustomerExporter: Sendable {
    let rows: any CustomerRowSource
    let reports: any ReportSource
    let log: any ExportLogStore
    let directory: String
    /// The currency of the `total_spent` column.
    let currency: String
    /// The TrueType font PDFs embed.
    let pdfFont: String
    /// The business's clock, on which customer lists show times (a report shows its own zone's).
    let zone: TimeZone

    public init(stores: Storage.Stores, directory: String, currency: String, pdfFont: String = PatronConfiguration.Exports.defaultPDFFont,
                zone: TimeZone) {
        rows = stores.customerRows
        reports = stores.reports
        log = stores.exportLog
        self.directory = directory
        self.currency = currency
        self.pdfFont = pdfFont
        self.zone = zone
    }

    public func run(_ request: ExportRequest, requestedBy: String) async throws -> ExportLogEntry {
        let startedAt = Timestamp.now
        let layout = ExportLayout(request: request, currency: currency, exportedAt: startedAt, zone: zone)
        let csv = CSVRowEncoder(delimiter: request.delimiter, byteOrderMark: request.byteOrderMark)
        return try await write(request.format, named: "customers", layout: layout, csv: csv, startedAt: startedAt,
                               filter: JSONObject(request.filterArguments), requestedBy: requestedBy) { [rows, currency] sheet in
            try await rows.rows(request, currency: currency) { values in try sheet.append(values) }
        }
    }

    /// A built-in report (`reports.run`, a schedule's `report` action), as of now in its zone.
    public func run(_ report: ReportRequest, requestedBy: String) async throws -> ExportLogEntry {
        let startedAt = Timestamp.now
        let layout = ExportLayout(columns: report.columns(currency: currency), language: report.language, currency: currency,
                                  title: report.title + Self.periodText(report, now: startedAt), sheetName: report.title, exportedAt: startedAt,
                                  zone: report.timeZone)
        return try await write(report.format, named: report.kind.rawValue, layout: layout, csv: CSVRowEncoder(), startedAt: startedAt,
                               filter: report.logArguments(now: startedAt), requestedBy: requestedBy) { [reports, currency] sheet in
            try await reports.rows(report, now: startedAt, currency: currency) { values in try sheet.append(values) }
        }
    }

    private static func periodText(_ report: ReportRequest, now: Timestamp) -> String {
        guard let range = report.range(now: now) else { return "" }
        let last = Timestamp(microseconds: range.upperBound.microseconds - 1)
        return ": \(range.lowerBound.rfc3339(in: report.timeZone).prefix(10)) – \(last.rfc3339(in: report.timeZone).prefix(10)) (\(report.timeZone.identifier))"
    }

    /// Writes a table in `format` to a new sealed file, then logs and announces it together.
    private func write(_ format: ExportRequest.Format, named name: String, layout: ExportLayout, csv: CSVRowEncoder, startedAt: Timestamp, filter: JSONObject,
                       requestedBy: String, rows produce: (any ExportSheet) async throws -> Int) async throws -> ExportLogEntry {
        let id = Self.exportID(at: startedAt)
        let file = try ExportFile(directory: directory, fileName: "\(name)-\(id).\(format.rawValue)")
        let count: Int
        let sha256: String
        do {
            let sheet: any ExportSheet = switch format {
            case .csv: try CSVSheet(path: file.temporaryPath, layout: layout, encoder: csv)
            case .xlsx: try XLSXSheet(path: file.temporaryPath, layout: layout)
            case .pdf: try PDFSheet(path: file.temporaryPath, layout: layout, fontPath: pdfFont)
            }
            count = try await produce(sheet)
            try sheet.close()
            sha256 = try file.seal()
        } catch {
            file.abandon()
            throw error
        }
        let entry = ExportLogEntry(id: id, requestedBy: requestedBy, startedAt: startedAt, completedAt: .now, format: format.rawValue,
                                   filter: filter, fields: layout.columns.map(\.name), rows: count, file: file.finalPath, sha256: sha256)
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
