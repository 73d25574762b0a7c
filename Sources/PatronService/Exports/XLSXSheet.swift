import CXlsxWriter
import Foundation
import PatronDomain

/// XLSX through libxlsxwriter in constant-memory mode (each row goes to a temporary file as it
/// is written, so memory does not grow with the list). Cells are typed: amounts are numbers in
/// the currency's format, times are Excel dates, and phones and customer numbers are text, so no
/// leading `+` or `0` is lost. The header row is frozen and filtered; columns get widths by kind.
/// A list longer than a sheet's 1,048,575 data rows goes on in a further sheet.
final class XLSXSheet: ExportSheet, @unchecked Sendable {
    private let path: String
    private let layout: ExportLayout
    private let workbook: UnsafeMutablePointer<lxw_workbook>
    private var sheet: UnsafeMutablePointer<lxw_worksheet>
    private var sheets = 1
    private var row: UInt32 = 0
    private let headerFormat: UnsafeMutablePointer<lxw_format>
    private let dateFormat: UnsafeMutablePointer<lxw_format>
    private let moneyFormat: UnsafeMutablePointer<lxw_format>
    private let moneyDivisor: Double
    private var closed = false

    init(path: String, layout: ExportLayout) throws {
        self.path = path
        self.layout = layout
        let directory = (path as NSString).deletingLastPathComponent
        var options = lxw_workbook_options(constant_memory: UInt8(LXW_TRUE.rawValue), tmpdir: strdup(directory), use_zip64: UInt8(LXW_TRUE.rawValue))
        defer { free(options.tmpdir) }
        guard let workbook = workbook_new_opt(path, &options) else { throw ExportFileError("xlsx", path, reason: "cannot create the workbook") }
        self.workbook = workbook
        headerFormat = workbook_add_format(workbook)
        format_set_bold(headerFormat)
        dateFormat = workbook_add_format(workbook)
        format_set_num_format(dateFormat, "yyyy-mm-dd hh:mm")
        moneyFormat = workbook_add_format(workbook)
        let exponent = Currency.exponent(of: layout.currency)
        let decimals = exponent > 0 ? "." + String(repeating: "0", count: exponent) : ""
        format_set_num_format(moneyFormat, "#,##0\(decimals) \"\(layout.currency)\"")
        moneyDivisor = pow(10, Double(exponent))
        sheet = try Self.addSheet(workbook, number: 1, layout: layout, headerFormat: headerFormat)
    }

    deinit {
        if !closed { _ = workbook_close(workbook) }
    }

    private static func addSheet(_ workbook: UnsafeMutablePointer<lxw_workbook>, number: Int, layout: ExportLayout,
                                 headerFormat: UnsafeMutablePointer<lxw_format>) throws -> UnsafeMutablePointer<lxw_worksheet> {
        let name = String(layout.sheetName.prefix(25)) + (number > 1 ? " \(number)" : "")
        guard let sheet = workbook_add_worksheet(workbook, name) else { throw ExportFileError("xlsx", name, reason: "cannot add a worksheet") }
        for (index, column) in layout.columns.enumerated() {
            worksheet_set_column(sheet, lxw_col_t(index), lxw_col_t(index), width(column.width), nil)
        }
        for (column, header) in layout.headers.enumerated() {
            worksheet_write_string(sheet, 0, lxw_col_t(column), header, headerFormat)
        }
        worksheet_freeze_panes(sheet, 1, 0)
        return sheet
    }

    private static func width(_ width: ExportColumn.Width) -> Double {
        switch width {
        case .wide: 30
        case .normal: 18
        case .time: 17
        case .narrow: 12
        }
    }

    func append(_ values: [ExportValue]) throws {
        if row == UInt32(LXW_ROW_MAX) - 1 {
            try finishSheet()
            sheets += 1
            sheet = try Self.addSheet(workbook, number: sheets, layout: layout, headerFormat: headerFormat)
            row = 0
        }
        row += 1
        for (index, value) in values.enumerated() {
            let column = lxw_col_t(index)
            let status: lxw_error = switch value {
            case .empty: LXW_NO_ERROR
            case .text(let text): worksheet_write_string(sheet, row, column, text, nil)
            case .integer(let number): worksheet_write_number(sheet, row, column, Double(number), nil)
            case .money(let minorUnits): worksheet_write_number(sheet, row, column, Double(minorUnits) / moneyDivisor, moneyFormat)
            // A spreadsheet's date has no zone: the wall time on the layout's clock.
            case .dateTime(let time): worksheet_write_unixtime(sheet, row, column, wallSeconds(time), dateFormat)
            case .yesNo(let flag): worksheet_write_string(sheet, row, column, layout.language.yesNo(flag), nil)
            case .vocabulary(let word): worksheet_write_string(sheet, row, column, layout.language.word(word), nil)
            }
            guard status == LXW_NO_ERROR else { throw ExportFileError("xlsx", path, reason: String(cString: lxw_strerror(status))) }
        }
    }

    /// Seconds since 1970 of `time`'s wall clock on the layout's zone.
    private func wallSeconds(_ time: Timestamp) -> Int64 {
        let seconds = WallClock.floorDiv(time.microseconds, 1_000_000)
        return seconds + Int64(layout.zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    private func finishSheet() throws {
        let status = worksheet_autofilter(sheet, 0, 0, row, lxw_col_t(max(layout.columns.count - 1, 0)))
        guard status == LXW_NO_ERROR else { throw ExportFileError("xlsx", path, reason: String(cString: lxw_strerror(status))) }
    }

    func close() throws {
        try finishSheet()
        closed = true
        let status = workbook_close(workbook)
        guard status == LXW_NO_ERROR else { throw ExportFileError("xlsx", path, reason: String(cString: lxw_strerror(status))) }
    }
}
