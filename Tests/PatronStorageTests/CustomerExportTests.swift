import CSV
import Foundation
import GRDB
import Logging
import PatronDomain
import PatronService
@testable import PatronStorage
import Testing

/// Exports on real databases (the CSV ones on both engines), read back with an independent CSV reader and `sha256sum`.
struct CustomerExportTests {
    static func exporter(_ fixture: RecordsFixture, directory: URL, zone: TimeZone = .utc) -> CustomerExporter {
        CustomerExporter(stores: fixture.stores, directory: directory.path, currency: "EUR", zone: zone)
    }

    static func request(_ args: [String: JSONValue]) throws -> ExportRequest {
        try ExportRequest.parse(CommandArguments(args), phones: CustomerSearchTests.Phones(), rules: RecordRules(), defaultLanguage: "en")
    }

    static func readBack(_ path: String, delimiter: UnicodeScalar = ",") throws -> [[String]] {
        let reader = try CSVReader(stream: InputStream(fileAtPath: path)!, delimiter: delimiter)
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        return rows
    }

    static func sha256sum(_ path: String) throws -> String {
        try SpreadsheetAndPDFExportTests.run("sha256sum", [path]).output.split(separator: " ").first.map(String.init) ?? ""
    }

    @Test(arguments: Engine.allCases) func aFilteredExportIsWholeOwnerOnlyLoggedAndAnnounced(engine: Engine) async throws {
        let fixture = try await CustomerSearchTests.fixture(engine)
        let directory = fixture.directory.appendingPathComponent("exports")
        let entry = try await Self.exporter(fixture, directory: directory).run(
            try Self.request(["format": .string("csv"), "filter": .object(["city": .string("donostia")]),
                              "fields": .array(["customer_no", "first_name", "last_name", "phone", "mobile", "total_spent", "newsletter", "tags"].map(JSONValue.string))]),
            requestedBy: "alice")
        let rows = try Self.readBack(entry.file)
        #expect(rows == [
            ["Customer no.", "First name", "Last name", "Phone", "Mobile", "Total spent (EUR)", "Newsletter", "Tags"],
            // Phones as the customer gave them; no consent statement is no answer, not "no".
            ["C-1", "Ana María", "García", "", "600111222", "412.50", "yes", "VIP"],
            ["C-5", "Ana", "Ruiz", "", "", "1020.00", "", ""],
        ])
        #expect(entry.rows == 2)
        #expect(entry.sha256 == (try Self.sha256sum(entry.file)))
        let attributes = try FileManager.default.attributesOfItem(atPath: entry.file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [URL(fileURLWithPath: entry.file).lastPathComponent])
        let logged = try await fixture.stores.exportLog.entries(limit: 10)
        #expect(logged == [entry])
        #expect(logged.first?.filter == ["city": .string("donostia")])
        let announced = try await fixture.stores.announcements.pending(limit: 10, at: .now).filter { $0.routingKey == "export.completed" }
        #expect(announced.count == 1)
        #expect(announced.first?.messageID == "export.completed/\(entry.id)")
        let body = try JSONParser.parse(announced.first?.body ?? [])
        #expect(body["export_id"] == .string(entry.id) && body["rows"] == .integer(2) && body["sha256"] == .string(entry.sha256)
                && body["file"] == .string(entry.file))
    }

    /// A Spanish file reads as the hotel writes: Spanish headers and words (titles, automatic
    /// groups, yes/no), and by default what Spanish Excel opens right (`;` and a byte order mark).
    @Test(arguments: Engine.allCases) func spanishHeadersWordsSemicolonsAndByteOrderMark(engine: Engine) async throws {
        let fixture = try await CustomerSearchTests.fixture(engine)
        try await fixture.ingest(Events.profile("t1", minute: 40, #"{"customer_no":"C-1","title":"Mr."}"#))
        let exporter = Self.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports"))
        func export(_ language: String, _ options: [String: JSONValue] = [:]) async throws -> [UInt8] {
            let args: [String: JSONValue] = ["format": .string("csv"), "language": .string(language), "filter": .object(["customer_no": .string("C-1")]),
                                             "fields": .array(["title", "last_name", "newsletter", "group"].map(JSONValue.string))]
            let entry = try await exporter.run(try Self.request(args.merging(options) { $1 }), requestedBy: "alice")
            return try [UInt8](Data(contentsOf: URL(fileURLWithPath: entry.file)))
        }
        let spanish = try await export("es")
        #expect(spanish.prefix(3) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: spanish.dropFirst(3), as: UTF8.self) == "Tratamiento;Apellidos;Boletín;Grupo\r\nSr.;García;sí;Invitado\r\n")
        // Asked for, the other separator and no mark; English files keep commas and no mark.
        let asked = try await export("es", ["delimiter": .string(","), "bom": .bool(false)])
        #expect(String(decoding: asked, as: UTF8.self) == "Tratamiento,Apellidos,Boletín,Grupo\r\nSr.,García,sí,Invitado\r\n")
        let english = try await export("en")
        #expect(String(decoding: english, as: UTF8.self) == "Title,Last name,Newsletter,Group\r\nMr.,García,yes,Guest\r\n")
    }

    @Test(arguments: Engine.allCases) func theDefaultIsEveryLiveCustomerByNameWithTheSummaryFieldsAndNoNotes(engine: Engine) async throws {
        let fixture = try await CustomerSearchTests.fixture(engine)
        let ana = try await StaffEditTests.id(fixture, "C-1")
        try await fixture.store.change { applier, records in
            try applier.addNote(ana, text: "Prefers a quiet room", author: "maria", at: Timestamp(microseconds: 9), store: records)
        }
        try await fixture.ingest(Events.make("erase", "customer.erasure_requested", minute: 20, #"{"customer":{"email":"zoe@example.co.uk"}}"#))
        let exporter = Self.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports"))
        let all = try Self.readBack(try await exporter.run(try Self.request(["format": .string("csv")]), requestedBy: "alice").file)
        #expect(all.first == ExportField.summary.map { $0.header(.english, currency: "EUR") })
        #expect(all.dropFirst().map { $0[0] } == ["C-3", "C-2", "C-1", "C-8", "C-5", "C-7"],
                "by last name (C-8 has only a first name, Robert); the erased C-4 is not there")
        #expect(!all.joined().joined().contains("quiet room"))
        let withNotes = try Self.readBack(try await exporter.run(
            try Self.request(["format": .string("csv"), "filter": .object(["customer_no": .string("C-1")]),
                              "fields": .array([.string("customer_no"), .string("notes")])]), requestedBy: "alice").file)
        #expect(withNotes == [["Customer no.", "Internal notes"], ["C-1", "Prefers a quiet room"]])
    }

    /// On PostgreSQL nothing else creates the data directory: the export makes it, and the
    /// exports directory in it, owner-only; where it cannot, the error names what and why.
    @Test(arguments: Engine.allCases) func anExportMakesItsDirectoryAndItsMissingParents(engine: Engine) async throws {
        let fixture = try await CustomerSearchTests.fixture(engine)
        let directory = fixture.directory.appendingPathComponent("data-not-yet-made/exports")
        let entry = try await Self.exporter(fixture, directory: directory).run(try Self.request(["format": .string("csv")]), requestedBy: "alice")
        #expect(FileManager.default.fileExists(atPath: entry.file))
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        // A file where the data directory should be.
        let blocked = fixture.directory.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocked)
        await #expect {
            _ = try await Self.exporter(fixture, directory: blocked.appendingPathComponent("exports")).run(try Self.request(["format": .string("csv")]),
                                                                                                            requestedBy: "alice")
        } throws: { error in
            "\(error)" == "mkdir \(blocked.path)/exports: Not a directory"
        }
    }

    @Test func aFailedExportLeavesNeitherFileNorLogEntry() async throws {
        let fixture = try await CustomerSearchTests.fixture()
        // The exports directory cannot be made: a file stands in its place.
        let blocked = fixture.directory.appendingPathComponent("blocked")
        try Data("x".utf8).write(to: blocked)
        await #expect(throws: ExportFileError.self) {
            try await Self.exporter(fixture, directory: blocked.appendingPathComponent("exports")).run(try Self.request(["format": .string("csv")]),
                                                                                                    requestedBy: "alice")
        }
        // The log cannot be written: the finished file is removed again.
        let directory = fixture.directory.appendingPathComponent("exports")
        try await fixture.database.pool.write { try $0.execute(sql: "DROP TABLE export_log") }
        await #expect(throws: DatabaseError.self) {
            try await Self.exporter(fixture, directory: directory).run(try Self.request(["format": .string("csv")]), requestedBy: "alice")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
        let announced = try await fixture.stores.announcements.pending(limit: 10, at: .now)
        #expect(announced.allSatisfy { $0.routingKey != "export.completed" })
    }

    @Test func retentionDeletesOldFilesAndKeepsTheirEntries() async throws {
        let fixture = try await CustomerSearchTests.fixture()
        let log = fixture.stores.exportLog
        let exporter = Self.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports"))
        let entry = try await exporter.run(try Self.request(["format": .string("csv")]), requestedBy: "alice")
        let directory = fixture.directory.appendingPathComponent("exports")
        let retention = ExportRetention(log: log, directory: directory.path, retentionDays: 30, logger: Logger(label: "test"))
        // What a kill -9 mid-write leaves: removed once it has not changed for an hour, not before.
        let partial = directory.appendingPathComponent(".customers-x.csv.partial").path
        let recent = directory.appendingPathComponent(".customers-y.csv.partial").path
        for path in [partial, recent] { #expect(FileManager.default.createFile(atPath: path, contents: Data("C-1,".utf8))) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: partial)
        try await retention.removeExpired(now: Timestamp(microseconds: entry.completedAt.microseconds + 29 * 86_400_000_000))
        #expect(FileManager.default.fileExists(atPath: entry.file))
        let later = Timestamp(microseconds: entry.completedAt.microseconds + 31 * 86_400_000_000)
        try await retention.removeExpired(now: later)
        #expect(!FileManager.default.fileExists(atPath: entry.file))
        #expect(try await log.entries(limit: 10).map(\.removedAt) == [later])
        try retention.removeAbandonedPartials(now: .now)
        #expect(!FileManager.default.fileExists(atPath: partial) && FileManager.default.fileExists(atPath: recent))
    }
}

/// XLSX and PDF exports opened by independent readers: openpyxl, qpdf, pdftotext and pdffonts.
struct SpreadsheetAndPDFExportTests {
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    static func fixture() async throws -> RecordsFixture {
        let fixture = try await CustomerSearchTests.fixture()
        try await fixture.ingest(
            Events.profile("g1", minute: 30, #"{"customer_no":"C-9","first_name":"Γιώργος","last_name":"Παπαδόπουλος","email":"gp@example.gr","mobile":"+30 691 234 5678"}"#),
            Events.profile("r1", minute: 31, #"{"customer_no":"C-10","first_name":"Анна","last_name":"Смирнова","email":"anna@example.ru","phone":"0034943000111"}"#))
        return fixture
    }

    @Test func xlsxCellsAreTypedAndTheHeaderFrozenAndFiltered() async throws {
        let fixture = try await Self.fixture()
        let entry = try await CustomerExportTests.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports")).run(
            try CustomerExportTests.request(["format": .string("xlsx"), "fields": .array(["customer_no", "last_name", "mobile", "phone", "total_spent",
                                                                                          "orders", "last_order_at", "newsletter"].map(JSONValue.string))]),
            requestedBy: "alice")
        let digest = try CustomerExportTests.sha256sum(entry.file)
        #expect(entry.file.hasSuffix(".xlsx") && entry.sha256 == digest)
        let script = """
            import json, sys, openpyxl
            book = openpyxl.load_workbook(sys.argv[1])
            sheet = book.active
            rows = [[{"v": str(c.value) if c.value is not None else None, "t": c.data_type, "f": c.number_format} for c in row] for row in sheet.iter_rows()]
            print(json.dumps({"title": sheet.title, "freeze": sheet.freeze_panes, "filter": sheet.auto_filter.ref, "rows": rows}))
            """
        let read = try Self.run("python3", ["-c", script, entry.file])
        #expect(read.status == 0, "\(read.output)")
        let book = try JSONParser.parse(Array(read.output.utf8))
        #expect(book["title"] == .string("Customers") && book["freeze"] == .string("A2") && book["filter"] == .string("A1:H10"))
        let rows = book["rows"]?.arrayValue ?? []
        #expect(rows.first?.arrayValue?.compactMap { $0["v"]?.stringValue } == ["Customer no.", "Last name", "Mobile", "Phone", "Total spent (EUR)",
                                                                               "Orders", "Last order", "Newsletter"])
        let ana = try #require(rows.first { $0.arrayValue?.first?["v"] == .string("C-1") }?.arrayValue)
        #expect(ana[2]["t"] == .string("s") && ana[2]["v"] == .string("600111222"), "a phone stays text")
        #expect(ana[4]["t"] == .string("n") && ana[4]["v"] == .string("412.5") && ana[4]["f"]?.stringValue?.contains("EUR") == true)
        #expect(ana[5]["t"] == .string("n") && ana[5]["v"] == .string("1"))
        #expect(ana[6]["t"] == .string("d") && ana[6]["v"]?.stringValue?.hasPrefix("2026-11-20") == true)
        let greek = try #require(rows.first { $0.arrayValue?.first?["v"] == .string("C-9") }?.arrayValue)
        #expect(greek[1]["v"] == .string("Παπαδόπουλος") && greek[2]["v"] == .string("+30 691 234 5678") && greek[2]["t"] == .string("s"))
        let russian = try #require(rows.first { $0.arrayValue?.first?["v"] == .string("C-10") }?.arrayValue)
        #expect(russian[3]["v"] == .string("0034943000111"), "a leading 0 stays")
    }

    /// EVENTS.md, "Definitions": export cells show times on the business's clock, with the
    /// offset where a machine reads them (CSV), as wall time in a spreadsheet, and to the minute
    /// on paper with the zone named. Ana's last order was at 08:01 UTC on 20 November.
    @Test func cellsShowTimesOnTheBusinessClock() async throws {
        let fixture = try await Self.fixture()
        let madrid = TimeZone(identifier: "Europe/Madrid")!
        let exporter = CustomerExportTests.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports"), zone: madrid)
        func export(_ format: String) async throws -> String {
            try await exporter.run(try CustomerExportTests.request(["format": .string(format), "filter": .object(["customer_no": .string("C-1")]),
                                                                    "fields": .array([.string("customer_no"), .string("last_order_at")])]),
                                   requestedBy: "alice").file
        }
        let csv = try CustomerExportTests.readBack(try await export("csv"))
        #expect(csv.last == ["C-1", "2026-11-20T09:01:00+01:00"])
        let xlsx = try Self.run("python3", ["-c", "import sys, openpyxl; print(openpyxl.load_workbook(sys.argv[1]).active['B2'].value)", try await export("xlsx")])
        #expect(xlsx.output.trimmingCharacters(in: .whitespacesAndNewlines) == "2026-11-20 09:01:00", "\(xlsx.output)")
        let pdf = try Self.run("pdftotext", ["-layout", try await export("pdf"), "-"]).output
        #expect(pdf.contains("2026-11-20 09:01") && pdf.contains("(Europe/Madrid)"), "\(pdf)")
    }

    @Test func pdfIsValidEmbedsItsFontAndPrintsEveryScript() async throws {
        let fixture = try await Self.fixture()
        let entry = try await CustomerExportTests.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports")).run(
            try CustomerExportTests.request(["format": .string("pdf"), "language": .string("es"), "filter": .object(["orders_max": .integer(5)])]),
            requestedBy: "alice")
        #expect(entry.file.hasSuffix(".pdf"))
        let check = try Self.run("qpdf", ["--check", entry.file])
        #expect(check.status == 0, "\(check.output)")
        let text = try Self.run("pdftotext", ["-layout", entry.file, "-"]).output
        for expected in ["Clientes: orders_max: 5", "Exportado", "García", "Παπαδόπουλος", "Смирнова", "Página 1 de 1", "Apellidos", "2026-11-20 08:01"] {
            #expect(text.contains(expected), "\(expected) in\n\(text)")
        }
        let fonts = try Self.run("pdffonts", [entry.file]).output
        #expect(fonts.contains("DejaVuSans") && !fonts.split(separator: "\n").dropFirst(2).contains { $0.contains(" no ") && $0.contains("TrueType") },
                "\(fonts)")
    }

    @Test func aLongListRunsOverSeveralPDFPagesEachNumbered() async throws {
        let fixture = try RecordsFixture()
        try await fixture.ingest((1...120).map { Events.profile("p\($0)", minute: $0 % 50, #"{"customer_no":"C-\#($0)","last_name":"Name\#($0)","email":"n\#($0)@example.com"}"#) })
        let entry = try await CustomerExportTests.exporter(fixture, directory: fixture.directory.appendingPathComponent("exports")).run(
            try CustomerExportTests.request(["format": .string("pdf"), "language": .string("en")]), requestedBy: "alice")
        #expect(entry.rows == 120)
        let text = try Self.run("pdftotext", ["-layout", entry.file, "-"]).output
        #expect(text.contains("Page 1 of 3") && text.contains("Page 3 of 3") && text.contains("Name120"), "\(text.suffix(500))")
    }
}
