import CSV
import PatronDomain
import Testing

/// Export CSV read back by an independent reader (yaslab/CSV.swift), with a quoting torture set.
struct CSVRowEncoderTests {
    static let torture: [[String]] = [
        ["plain", "with,comma", "with;semicolon", "with \"quotes\"", "\"", "\"\""],
        ["line\nbreak", "carriage\rreturn", "crlf\r\nin cell", "", " leading and trailing ", "tab\tinside"],
        ["García Łódź Ærøskøbing", "Παπαδόπουλος", "Смирнова", "李小龙", "🏨🛎️ family 👨‍👩‍👧", "ä\u{301}"],
        ["=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1"],
        ["-12.50", "+34600111222", "+34 600 111 222", "-0,75", "12", "-"],
    ]

    /// The cells as a spreadsheet should show them: formulas behind an apostrophe, numbers as they are.
    static let shown: [[String]] = torture.prefix(3) + [
        ["'=HYPERLINK(\"http://evil\")", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A2)", "'\t=1+1", "'\r=1"],
        ["-12.50", "+34600111222", "+34 600 111 222", "-0,75", "12", "'-"],
    ]

    static func readBack(_ bytes: [UInt8], delimiter: String) throws -> [[String]] {
        let reader = try CSVReader(string: String(decoding: bytes, as: UTF8.self), delimiter: Character(delimiter).unicodeScalars.first!)
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        return rows
    }

    @Test(arguments: [CSVRowEncoder.Delimiter.comma, .semicolon])
    func tortureSetReadsBackAsWritten(_ delimiter: CSVRowEncoder.Delimiter) throws {
        let encoder = CSVRowEncoder(delimiter: delimiter)
        var bytes: [UInt8] = []
        for row in Self.torture { encoder.append(row, to: &bytes) }
        #expect(try Self.readBack(bytes, delimiter: delimiter == .comma ? "," : ";") == Self.shown)
        #expect(bytes.suffix(2) == [0x0D, 0x0A], "every row ends with CRLF")
    }

    @Test func byteOrderMarkOnlyWhenAsked() {
        #expect(CSVRowEncoder(byteOrderMark: true).preamble == [0xEF, 0xBB, 0xBF])
        #expect(CSVRowEncoder().preamble.isEmpty)
    }

    @Test func quotesOnlyWhatNeedsQuoting() {
        var bytes: [UInt8] = []
        CSVRowEncoder(delimiter: .semicolon).append(["a,b", "c;d", "e\"f", "g"], to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "a,b;\"c;d\";\"e\"\"f\";g\r\n")
    }

    @Test(arguments: [
        ("-12.50", "-12.50"), ("+34600111222", "+34600111222"), ("+34 600 111 222", "+34 600 111 222"), ("-0,75", "-0,75"),
        ("+1", "+1"), ("-7", "-7"), ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1-1", "'-1-1"), ("+34  600", "'+34  600"),
        ("-12 50", "'-12 50"), ("+34 600.5", "'+34 600.5"), ("-1.2.3", "'-1.2.3"), ("+", "'+"), ("-.5", "'-.5"), ("+5.", "'+5."),
        ("@me", "'@me"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("=", "'="), ("a=b", "a=b"), ("12-3", "12-3"), ("", ""),
        ("-SUM(1)", "'-SUM(1)"), ("+34 600 111 22A", "'+34 600 111 22A"),
    ])
    func neutralizesFormulasButNotNumbers(_ cell: String, _ expected: String) {
        #expect(CSVRowEncoder.neutralized(cell) == expected)
    }
}
