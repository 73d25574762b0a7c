import CHaru
import Foundation
import PatronDomain

/// PDF through libharu: an A4 landscape table with a header (the filter in words and the time of
/// export) on every page, and "page n of N" at the foot. The TrueType font is embedded (DejaVu
/// Sans by default), so accented Latin, Greek and Cyrillic names print as written; a CJK name
/// needs a font with CJK glyphs (`exports.pdf_font`). Text wider than its column is cut with "…".
///
/// libharu builds the whole document in memory and writes it at ``close()``: unlike CSV and XLSX,
/// a PDF's memory grows with its length (patron-bench export measures it).
final class PDFSheet: ExportSheet, @unchecked Sendable {
    private let path: String
    private let layout: ExportLayout
    private let document: HPDF_Doc
    private let font: HPDF_Font
    private let bold: HPDF_Font
    private let columnWidths: [Float]
    private var pages: [HPDF_Page] = []
    private var y: Float = 0
    private var freed = false

    private static let (pageWidth, pageHeight, margin): (Float, Float, Float) = (842, 595, 32)
    private static let (fontSize, rowHeight): (Float, Float) = (7, 10)

    init(path: String, layout: ExportLayout, fontPath: String) throws {
        self.path = path
        self.layout = layout
        guard let document = HPDF_New(nil, nil) else { throw ExportFileError("pdf", path, reason: "cannot create the document") }
        self.document = document
        HPDF_SetCompressionMode(document, UInt32(HPDF_COMP_ALL))
        HPDF_UseUTFEncodings(document)
        let boldPath = fontPath.replacingOccurrences(of: ".ttf", with: "-Bold.ttf")
        guard let name = HPDF_LoadTTFontFromFile(document, fontPath, HPDF_TRUE),
              let regular = HPDF_GetFont(document, name, "UTF-8") else {
            HPDF_Free(document)
            throw ExportFileError("pdf", fontPath, reason: "cannot load the TrueType font (exports.pdf_font)")
        }
        font = regular
        if FileManager.default.fileExists(atPath: boldPath), let boldName = HPDF_LoadTTFontFromFile(document, boldPath, HPDF_TRUE),
           let boldFont = HPDF_GetFont(document, boldName, "UTF-8") {
            bold = boldFont
        } else {
            bold = regular
        }
        let weights = layout.columns.map { Self.weight($0.width) }
        let total = weights.reduce(0, +)
        columnWidths = weights.map { $0 / total * (Self.pageWidth - 2 * Self.margin) }
        try newPage()
    }

    deinit {
        if !freed { HPDF_Free(document) }
    }

    private static func weight(_ width: ExportColumn.Width) -> Float {
        switch width {
        case .wide: 3
        case .time: 2.4
        case .normal: 2
        case .narrow: 1.1
        }
    }

    private func newPage() throws {
        guard let page = HPDF_AddPage(document) else { throw ExportFileError("pdf", path, reason: "cannot add a page") }
        HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_LANDSCAPE)
        pages.append(page)
        let exported = (layout.language == .spanish ? "Exportado " : "Exported ") + localMinute(layout.exportedAt) + " (\(layout.zone.identifier))"
        y = Self.pageHeight - Self.margin
        text(page, layout.title, x: Self.margin, y: y, width: Self.pageWidth - 2 * Self.margin - 230, font: bold, size: 10)
        text(page, exported, x: Self.pageWidth - Self.margin - 220, y: y, width: 220, font: font, size: 8)
        y -= 18
        cells(page, layout.headers, font: bold)
        HPDF_Page_SetLineWidth(page, 0.5)
        HPDF_Page_MoveTo(page, Self.margin, y - 3)
        HPDF_Page_LineTo(page, Self.pageWidth - Self.margin, y - 3)
        HPDF_Page_Stroke(page)
        y -= Self.rowHeight + 2
    }

    func append(_ row: [ExportValue]) throws {
        if y < Self.margin + Self.rowHeight { try newPage() }
        cells(pages[pages.count - 1], row.map(cellText), font: font)
        y -= Self.rowHeight
        if HPDF_GetError(document) != HPDF_OK { throw ExportFileError("pdf", path, reason: String(format: "libharu error 0x%04X", HPDF_GetError(document))) }
    }

    /// As in CSV, but times to the minute on the layout's clock (named in each page's header), as
    /// people read them on paper.
    private func cellText(_ value: ExportValue) -> String {
        if case .dateTime(let time) = value { return localMinute(time) }
        return value.csvText(language: layout.language, currency: layout.currency, zone: layout.zone)
    }

    /// `2026-11-20 09:15` on the layout's clock.
    private func localMinute(_ time: Timestamp) -> String {
        time.rfc3339(in: layout.zone).prefix(16).replacingOccurrences(of: "T", with: " ")
    }

    private func cells(_ page: HPDF_Page, _ texts: [String], font: HPDF_Font) {
        var x = Self.margin
        for (index, value) in texts.enumerated() {
            text(page, value, x: x, y: y, width: columnWidths[index] - 4, font: font, size: Self.fontSize)
            x += columnWidths[index]
        }
    }

    private func text(_ page: HPDF_Page, _ value: String, x: Float, y: Float, width: Float, font: HPDF_Font, size: Float) {
        guard !value.isEmpty else { return }
        let single = value.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
        HPDF_Page_BeginText(page)
        HPDF_Page_SetFontAndSize(page, font, size)
        var shown = single
        if HPDF_Page_TextWidth(page, shown) > width {
            var characters = Array(single)
            while !characters.isEmpty, HPDF_Page_TextWidth(page, String(characters) + "…") > width { characters.removeLast(max(1, characters.count / 8)) }
            shown = String(characters) + "…"
        }
        HPDF_Page_TextOut(page, x, y, shown)
        HPDF_Page_EndText(page)
    }

    func close() throws {
        let label = layout.language == .spanish ? "Página" : "Page"
        let of = layout.language == .spanish ? "de" : "of"
        for (index, page) in pages.enumerated() {
            text(page, "\(label) \(index + 1) \(of) \(pages.count)", x: Self.pageWidth / 2 - 30, y: Self.margin / 2, width: 120, font: font, size: 7)
        }
        let status = HPDF_SaveToFile(document, path)
        HPDF_Free(document)
        freed = true
        guard status == HPDF_OK else { throw ExportFileError("pdf", path, reason: String(format: "libharu error 0x%04X", status)) }
    }
}
