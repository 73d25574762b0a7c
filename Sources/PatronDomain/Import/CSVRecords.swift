/// The records of an RFC 4180 file, each with the line it begins on.
///
/// Our own rather than yaslab/CSV.swift (a local package): an import report must name the line
/// of every rejected row, which that reader does not track, and it reads an unclosed quote as
/// a field running to the end of the file, which would drop every later row without a word.
/// Here an unclosed quote, or text after a closing quote, is an error naming its line.
///
/// Accepted beyond RFC 4180: a UTF-8 byte order mark, LF or CR line ends as well as CRLF, a
/// quote inside an unquoted field (kept as written), and blank lines (skipped).
public struct CSVRecords {
    public struct Record: Sendable, Equatable {
        /// 1-based line of the file where the record begins.
        public let line: Int
        /// Byte offset where the record begins (patronctl sends a long file in parts cut there).
        public let offset: Int
        public let fields: [String]
    }

    public struct SyntaxError: Error, Sendable, Equatable {
        public let line: Int
        public let message: String
    }

    private let bytes: [UInt8]
    private let delimiter: UInt8
    private var position: Int
    private var line = 1

    private static let quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    public init(_ bytes: [UInt8], delimiter: UInt8) {
        self.bytes = bytes
        self.delimiter = delimiter
        position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// `;` or `,`: the one that splits the header into several fields and most of the first
    /// rows into as many (spreadsheets in European locales write `;`, and QloApps's `;` header
    /// has commas inside its annotations); `,` on a tie.
    public static func delimiter(of bytes: [UInt8]) -> UInt8 {
        func score(_ delimiter: UInt8) -> (rows: Int, fields: Int) {
            var records = CSVRecords(bytes, delimiter: delimiter)
            guard let header = try? records.next(), header.fields.count > 1 else { return (-1, 0) }
            var matching = 0
            for _ in 0..<20 {
                guard let record = try? records.next() else { break }
                if record.fields.count == header.fields.count { matching += 1 }
            }
            return (matching, header.fields.count)
        }
        return score(UInt8(ascii: ";")) > score(UInt8(ascii: ",")) ? UInt8(ascii: ";") : UInt8(ascii: ",")
    }

    /// The next record that is not blank, or nil at the end.
    public mutating func next() throws(SyntaxError) -> Record? {
        while position < bytes.count {
            let (start, offset) = (line, position)
            let fields = try readRecord(startLine: start)
            if fields.contains(where: { !$0.isEmpty }) { return Record(line: start, offset: offset, fields: fields) }
        }
        return nil
    }

    private mutating func readRecord(startLine: Int) throws(SyntaxError) -> [String] {
        var fields: [String] = []
        while true {
            let (field, endOfRecord) = try readField(startLine: startLine)
            fields.append(field)
            if endOfRecord { return fields }
        }
    }

    /// One field and whether the record ends after it.
    private mutating func readField(startLine: Int) throws(SyntaxError) -> (String, Bool) {
        var value: [UInt8] = []
        if position < bytes.count, bytes[position] == Self.quote {
            let openedOn = line
            position += 1
            while true {
                guard position < bytes.count else {
                    throw SyntaxError(line: openedOn, message: "a quoted field opened on this line is never closed")
                }
                let byte = bytes[position]
                position += 1
                if byte == Self.quote {
                    if position < bytes.count, bytes[position] == Self.quote {
                        value.append(Self.quote)
                        position += 1
                        continue
                    }
                    break
                }
                if byte == Self.lf || (byte == Self.cr && (position >= bytes.count || bytes[position] != Self.lf)) { line += 1 }
                value.append(byte)
            }
            guard position >= bytes.count || bytes[position] == delimiter || bytes[position] == Self.cr || bytes[position] == Self.lf else {
                throw SyntaxError(line: line, message: "text after a closing quote (a quote inside a quoted field is written twice)")
            }
        } else {
            while position < bytes.count, bytes[position] != delimiter, bytes[position] != Self.cr, bytes[position] != Self.lf {
                value.append(bytes[position])
                position += 1
            }
        }
        guard let text = String(validating: value, as: UTF8.self) else {
            throw SyntaxError(line: startLine, message: "not UTF-8 text")
        }
        guard position < bytes.count else { return (text, true) }
        let terminator = bytes[position]
        position += 1
        if terminator == delimiter { return (text, false) }
        if terminator == Self.cr, position < bytes.count, bytes[position] == Self.lf { position += 1 }
        line += 1
        return (text, true)
    }
}
