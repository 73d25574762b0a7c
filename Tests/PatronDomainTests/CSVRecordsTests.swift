import PatronDomain
import Testing

/// The CSV reader as a table: each file and the records (line, fields) or the error it gives.
struct CSVRecordsTests {
    static func read(_ text: String, delimiter: Character = ",") throws(CSVRecords.SyntaxError) -> [CSVRecords.Record] {
        var reader = CSVRecords(Array(text.utf8), delimiter: UInt8(ascii: delimiter.unicodeScalars.first!))
        var records: [CSVRecords.Record] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    static let readable: [(name: String, text: String, records: [(Int, [String])])] = [
        ("plain", "a,b\n1,2\n", [(1, ["a", "b"]), (2, ["1", "2"])]),
        ("no final newline", "a,b\n1,2", [(1, ["a", "b"]), (2, ["1", "2"])]),
        ("CRLF", "a,b\r\n1,2\r\n", [(1, ["a", "b"]), (2, ["1", "2"])]),
        ("old Mac CR", "a,b\r1,2\r", [(1, ["a", "b"]), (2, ["1", "2"])]),
        ("byte order mark", "\u{FEFF}a,b\n1,2\n", [(1, ["a", "b"]), (2, ["1", "2"])]),
        ("quoted delimiter and quote", "a\n\"x, \"\"y\"\"\"\n", [(1, ["a"]), (2, ["x, \"y\""])]),
        ("newline inside quotes moves the line count", "a,b\n\"1\n2\",x\n3,y\n", [(1, ["a", "b"]), (2, ["1\n2", "x"]), (4, ["3", "y"])]),
        ("CRLF inside quotes is one line", "a,b\n\"1\r\n2\",x\r\n3,y\r\n", [(1, ["a", "b"]), (2, ["1\r\n2", "x"]), (4, ["3", "y"])]),
        ("blank lines are skipped, lines still counted", "a\n\n1\n,\n2\n", [(1, ["a"]), (3, ["1"]), (5, ["2"])]),
        ("empty fields", "a,b,c\n,,x\n", [(1, ["a", "b", "c"]), (2, ["", "", "x"])]),
        ("quote inside an unquoted field is kept", "a\n5\" screen\n", [(1, ["a"]), (2, ["5\" screen"])]),
        ("empty quoted field", "a,b\n\"\",x\n", [(1, ["a", "b"]), (2, ["", "x"])]),
        ("accents and emoji", "nombre\nJosé 😀\n", [(1, ["nombre"]), (2, ["José 😀"])]),
    ]

    @Test(arguments: readable.indices)
    func reads(_ index: Int) throws {
        let case_ = Self.readable[index]
        let records = try Self.read(case_.text)
        #expect(records.map(\.line) == case_.records.map(\.0), "\(case_.name)")
        #expect(records.map(\.fields) == case_.records.map(\.1), "\(case_.name)")
    }

    static let broken: [(name: String, text: String, line: Int, message: String)] = [
        ("unclosed quote names the line it opened on", "a,b\n1,2\n\"3,4\n5,6\n", 3, "never closed"),
        ("text after a closing quote", "a,b\n1,2\n\"3\"x,4\n", 3, "after a closing quote"),
    ]

    @Test(arguments: broken.indices)
    func refuses(_ index: Int) {
        let case_ = Self.broken[index]
        #expect {
            _ = try Self.read(case_.text)
        } throws: { error in
            guard let error = error as? CSVRecords.SyntaxError else { return false }
            return error.line == case_.line && error.message.contains(case_.message)
        }
    }

    @Test func refusesBytesThatAreNotUTF8() {
        var reader = CSVRecords([0x61, 0x0A, 0xC3, 0x28, 0x0A], delimiter: UInt8(ascii: ","))
        #expect {
            while try reader.next() != nil {}
        } throws: { error in
            (error as? CSVRecords.SyntaxError).map { $0.line == 2 && $0.message == "not UTF-8 text" } ?? false
        }
    }

    @Test(arguments: [
        ("a;b;c\n1,5;2;3\n", ";"),
        ("a,b;c\nx,y;z\n", ","),
        ("a,b\n\"1;2\",3\n", ","),
        ("email\nana@example.com\n", ","),
        // QloApps: more commas than semicolons in the header, inside its annotations.
        ("Titles ID (Mr = 1, Mrs = 2, else 0);Email *;Groups (x,y,z...)\n1;a@example.com;Customer\n", ";"),
    ])
    func choosesTheDelimiterThatSplitsRowsLikeTheHeader(_ text: String, _ delimiter: String) {
        #expect(CSVRecords.delimiter(of: Array(text.utf8)) == UInt8(ascii: delimiter.unicodeScalars.first!))
    }
}
