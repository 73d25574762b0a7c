import Foundation
import PatronDomain
import Testing

/// Reading customer lists into events: header recognition, each column's rules, rejections
/// naming line and column, and QloApps's export read from the shared fixture.
struct CustomerImportTests {
    /// Identity as the hash, so tests can read what an id was made from.
    struct PlainHasher: IdentityHasher {
        func hash(_ identity: String) -> String { identity }
    }

    static let importer = CustomerImport(rules: RecordRules(), phones: FakePhones(), hasher: PlainHasher())
    static let asOf = Timestamp(rfc3339: "2026-11-20T10:00:00Z")!

    static func read(_ text: String, groups: [String] = [], lineOffset: Int = 0) throws -> CustomerImport.Batch {
        try importer.read(Array(text.utf8), customGroups: groups, asOf: asOf, lineOffset: lineOffset)
    }

    static func input(_ row: CustomerImport.Row) -> CustomerInput {
        guard case .customerUpdated(let input) = row.event.payload else { preconditionFailure() }
        return input
    }

    @Test func readsSpanishHeadersWithSemicolonsAndABOM() throws {
        let batch = try Self.read("\u{FEFF}Nombre;Apellidos;Correo;Teléfono;Móvil;Ciudad;País;Idioma\nAna;García;Ana@Example.com;943 711 952;+34 600 111 222;Donostia;España;es\n")
        #expect(batch.rejected.isEmpty)
        let input = Self.input(try #require(batch.rows.first))
        #expect(input.fields[.firstName] == "Ana" && input.fields[.lastName] == "García")
        #expect(input.fields[.city] == "Donostia" && input.fields[.country] == "ES" && input.fields[.language] == "es")
        #expect(input.identifiers.map(\.key) == ["ana@example.com", "+34943711952", "+34600111222"])
        #expect(input.imported)
        #expect(batch.rows.first?.event.envelope.type == .customerUpdated)
        #expect(batch.rows.first?.event.envelope.occurredAt == Self.asOf)
        #expect(batch.rows.first?.event.envelope.source == "import")
        #expect(!batch.qloapps)
    }

    @Test func readsContractNamesAndEveryKindOfColumn() throws {
        let batch = try Self.read("""
            customer_no,title,first_name,email,address_line1,zip,newsletter,account,tags,group
            C-1,Sra.,Ana,ana@example.com,Calle Mayor 1,20001,sí,no,VIP|Business,Golf club
            """, groups: ["Golf Club"])
        let input = Self.input(try #require(batch.rows.first))
        #expect(input.customerNo == "C-1" && input.fields[.title] == "Mrs." && input.fields[.addressLine1] == "Calle Mayor 1")
        #expect(input.newsletter == true && input.fields[.account] == "false" && input.tags == ["VIP", "Business"])
        #expect(input.customGroup == "Golf Club" && input.minimumGroup == nil)
    }

    @Test func theSameStatementsGiveTheSameEventIdWhateverTheColumnOrderOrLine() throws {
        let first = try Self.read("email,first_name\nana@example.com,Ana\n")
        let second = try Self.read("first_name,email\n\n\nAna,ana@example.com\n")
        let changed = try Self.read("email,first_name\nana@example.com,Anna\n")
        #expect(first.rows[0].event.envelope.id == second.rows[0].event.envelope.id)
        #expect(first.rows[0].event.envelope.id != changed.rows[0].event.envelope.id)
        #expect(first.rows[0].event.envelope.id.hasPrefix("import-"))
    }

    @Test func rejectsRowsNamingLineAndColumnAndKeepsTheRest() throws {
        let batch = try Self.read("""
            Correo;País;newsletter;group
            a@example.com;Narnia;;
            b@example.com;ES;maybe;
            c@example.com;ES;1;Golfers
            d@example.com;ES
            ;ES;;
            "e@example.com
            ";ES;1;Guest
            f@example.com;FR;0;Visitor
            """, lineOffset: 100)
        #expect(batch.rejected == [
            .init(line: 102, field: "País", reason: "not an ISO 3166-1 alpha-2 code or a known country name"),
            .init(line: 103, field: "newsletter", reason: "must be yes or no (1/0, true/false, sí/no)"),
            .init(line: 104, field: "group", reason: "no group named 'Golfers' (groups.list shows them; groups.create makes one)"),
            .init(line: 105, field: "row", reason: "has 2 fields, the header has 4"),
            .init(line: 106, field: "row", reason: "must carry at least one of email, phone, mobile, customer_no"),
        ])
        #expect(batch.rows.map(\.line) == [107, 109])
        #expect(Self.input(batch.rows[0]).minimumGroup == .guest)
    }

    @Test func aBrokenQuoteStopsTheReadAtItsLineKeepingEarlierRows() throws {
        let batch = try Self.read("email\na@example.com\n\"b@example.com\nc@example.com\n")
        #expect(batch.rows.map(\.line) == [2])
        #expect(batch.rejected == [.init(line: 3, field: "content", reason: "a quoted field opened on this line is never closed")])
    }

    @Test(arguments: [
        ("emial,first_name\n", "line 1: unknown column 'emial' (the README lists the column names)"),
        ("email,correo\n", "line 1: column 'correo' repeats another column's field"),
        ("first_name,city\nAna,Bilbao\n", "line 1: no column identifies a customer (email, phone, mobile or customer_no)"),
        ("", "line 1: no header row"),
        ("Customer ID,email\n", "line 1: unknown column 'Customer ID' (the README lists the column names)"),
    ])
    func refusesFilesItCannotMap(_ text: String, _ message: String) {
        #expect(throws: CustomerImport.FileError.self) { try Self.read(text) }
        do {
            _ = try Self.read(text)
        } catch {
            #expect((error as? CustomerImport.FileError)?.description == message)
        }
    }

    /// `../shared/fixtures/qloapps/customers_import.csv`, beside the project.
    static func qloappsFixture() throws -> [UInt8] {
        let project = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = project.deletingLastPathComponent().appendingPathComponent("shared/fixtures/qloapps/customers_import.csv")
        return Array(try Data(contentsOf: file))
    }

    @Test func readsQloAppsExportAsItIs() throws {
        let batch = try Self.importer.read(try Self.qloappsFixture(), customGroups: [], asOf: Self.asOf)
        #expect(batch.qloapps)
        #expect(batch.rejected.isEmpty)
        #expect(batch.rows.count == 9)
        let inputs = batch.rows.map(Self.input)
        let peter = inputs[0]
        #expect(peter.fields[.title] == "Mr." && peter.fields[.firstName] == "Peter" && peter.fields[.lastName] == "Pan")
        #expect(peter.fields[.birthday] == "1987-04-02" && peter.fields[.email] == "peterpan@qloapps.com")
        #expect(peter.newsletter == true && peter.partnerOffers == false && peter.minimumGroup == .customer)
        #expect(inputs[1].fields[.title] == "Mrs." && inputs[1].fields[.firstName] == "Monkey D")
        #expect(inputs[3].minimumGroup == .guest && inputs[3].partnerOffers == true && inputs[3].newsletter == false)
        #expect(inputs[7].minimumGroup == .visitor)
        // The placeholder phone is kept as written but identifies nobody.
        #expect(inputs.allSatisfy { $0.fields[.phone] == "1234567890" })
        #expect(inputs.allSatisfy { $0.matchableIdentifiers.map(\.kind) == [.email] })
        // The password column goes nowhere: not in the journaled body, not in the event id.
        for row in batch.rows {
            let body = String(decoding: row.body, as: UTF8.self)
            #expect(!body.contains("123456789\"") && !body.lowercased().contains("password"))
            #expect(!row.event.envelope.id.contains("password"))
        }
    }
}
