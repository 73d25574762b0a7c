/// Export rows as RFC 4180 CSV bytes (UTF-8, CRLF line ends), with an optional byte order mark
/// and `;` for spreadsheet users in European locales, and cells neutralized against formula
/// injection.
///
/// Our own rather than yaslab/CSV.swift's `CSVWriter`: that one writes each byte to its
/// `OutputStream` with a call of its own, a system call per byte for a file, and an export
/// streams millions of cells (issue 7's target is half the rate of `sqlite3 -csv`). Rows are
/// appended to a buffer that the caller writes out in large pieces.
public struct CSVRowEncoder: Sendable {
    public enum Delimiter: UInt8, Sendable {
        case comma = 0x2C
        case semicolon = 0x3B
    }

    public let delimiter: Delimiter
    public let byteOrderMark: Bool

    public init(delimiter: Delimiter = .comma, byteOrderMark: Bool = false) {
        self.delimiter = delimiter
        self.byteOrderMark = byteOrderMark
    }

    /// What a file starts with: the UTF-8 byte order mark, if asked for.
    public var preamble: [UInt8] { byteOrderMark ? [0xEF, 0xBB, 0xBF] : [] }

    /// Appends one row and its CRLF.
    public func append(_ cells: [String], to buffer: inout [UInt8]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { buffer.append(delimiter.rawValue) }
            let value = Self.neutralized(cell)
            if value.utf8.contains(where: { $0 == 0x22 || $0 == delimiter.rawValue || $0 == 0x0A || $0 == 0x0D }) {
                buffer.append(0x22)
                for byte in value.utf8 {
                    buffer.append(byte)
                    if byte == 0x22 { buffer.append(0x22) }
                }
                buffer.append(0x22)
            } else {
                buffer.append(contentsOf: value.utf8)
            }
        }
        buffer.append(contentsOf: [0x0D, 0x0A])
    }

    /// A cell a spreadsheet would run as a formula (it begins with `=`, `+`, `-`, `@`, tab or
    /// carriage return) gets a leading apostrophe, which spreadsheets show as text. Numbers stay
    /// as they are, so that a refund reads `-12.50` and a phone `+34600111222` or
    /// `+34 600 111 222`: a sign, digits, at most one decimal separator, or after `+` digits in
    /// groups separated by single spaces. They can compute nothing.
    public static func neutralized(_ cell: String) -> String {
        guard let first = cell.utf8.first, [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first) else { return cell }
        return isPlainNumber(cell) ? cell : "'" + cell
    }

    private static func isPlainNumber(_ cell: String) -> Bool {
        let bytes = Array(cell.utf8)
        guard bytes.count >= 2, bytes[0] == 0x2B || bytes[0] == 0x2D else { return false }
        let rest = bytes.dropFirst()
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        guard let first = rest.first, let last = rest.last, isDigit(first), isDigit(last) else { return false }
        var separators = 0
        var spaces = 0
        var previous: UInt8 = 0
        for byte in rest {
            switch byte {
            case 0x30...0x39: break
            case 0x2E, 0x2C: separators += 1
            case 0x20 where bytes[0] == 0x2B && previous != 0x20: spaces += 1
            default: return false
            }
            previous = byte
        }
        // A decimal number (one separator, no spaces), or a phone (spaces, no separator).
        return separators == 0 || (separators == 1 && spaces == 0)
    }
}
