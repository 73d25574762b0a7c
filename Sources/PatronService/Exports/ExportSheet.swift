import Foundation
import PatronDomain

/// One export format: the header row is written when it is made, then each customer's row in
/// order, then ``close()``. It writes to the export's temporary file (``ExportFile``).
///
/// Formats are used by one export at a time from the one database reader thread that reads its
/// rows, never from two threads at once; that is why the classes below may be unchecked Sendable.
protocol ExportSheet: AnyObject, Sendable {
    func append(_ row: [ExportValue]) throws
    func close() throws
}

/// What every format shows besides the rows.
struct ExportLayout: Sendable {
    let columns: [ExportColumn]
    let language: ExportLanguage
    /// The currency of amounts.
    let currency: String
    /// What the list is ("Customers: city: Donostia"), for a PDF's header and an XLSX sheet's name.
    let title: String
    let sheetName: String
    let exportedAt: Timestamp
    /// Whose clock times are shown on: the business's for customer lists, a report's own zone.
    let zone: TimeZone

    var headers: [String] { columns.map(\.header) }

    init(columns: [ExportColumn], language: ExportLanguage, currency: String, title: String, sheetName: String, exportedAt: Timestamp,
         zone: TimeZone) {
        self.columns = columns
        self.language = language
        self.currency = currency
        self.title = title
        self.sheetName = sheetName
        self.exportedAt = exportedAt
        self.zone = zone
    }

    /// A customer list's layout: the request's fields, titled by its filter.
    init(request: ExportRequest, currency: String, exportedAt: Timestamp, zone: TimeZone) {
        let filter = request.filterArguments.sorted { $0.key < $1.key }.map { key, value -> String in
            let text: String = switch value {
            case .string(let string): string
            case .bool(let flag): request.language.yesNo(flag)
            case .integer(let integer): String(integer)
            case .number(let literal): literal
            default: "…"
            }
            return "\(key): \(text)"
        }
        let spanish = request.language == .spanish
        let everyone = spanish ? "todos los clientes" : "every customer"
        let sheet = spanish ? "Clientes" : "Customers"
        self.init(columns: request.fields.map { $0.column(request.language, currency: currency) }, language: request.language,
                  currency: currency, title: "\(sheet): " + (filter.isEmpty ? everyone : filter.joined(separator: ", ")),
                  sheetName: sheet, exportedAt: exportedAt, zone: zone)
    }
}

/// CSV (``CSVRowEncoder``) through a buffer written out in 1 MiB pieces.
final class CSVSheet: ExportSheet, @unchecked Sendable {
    private let path: String
    private let encoder: CSVRowEncoder
    private let layout: ExportLayout
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let flushSize = 1 << 20

    init(path: String, layout: ExportLayout, encoder: CSVRowEncoder) throws {
        self.path = path
        self.encoder = encoder
        self.layout = layout
        descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if descriptor < 0 { throw ExportFileError("open", path, errno: errno) }
        buffer.reserveCapacity(Self.flushSize + 64 * 1024)
        buffer += encoder.preamble
        encoder.append(layout.headers, to: &buffer)
    }

    deinit {
        if descriptor >= 0 { Foundation.close(descriptor) }
    }

    func append(_ row: [ExportValue]) throws {
        encoder.append(row.map { $0.csvText(language: layout.language, currency: layout.currency, zone: layout.zone) }, to: &buffer)
        if buffer.count >= Self.flushSize { try flush() }
    }

    func close() throws {
        try flush()
        Foundation.close(descriptor)
        descriptor = -1
    }

    private func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ExportFileError("write", path, errno: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
