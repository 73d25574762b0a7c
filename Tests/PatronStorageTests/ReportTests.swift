import Foundation
import GRDB
import PatronDomain
import PatronService
import PatronStorage
import Testing

/// The built-in reports on records built by real events, as of a fixed time in Madrid.
struct ReportTests {
    static let now = Timestamp(rfc3339: "2026-12-02T09:00:00Z")!

    static func fixture(_ engine: Engine = .sqlite) async throws -> RecordsFixture {
        let fixture = try await RecordsFixture.open(engine)
        func person(_ number: String, _ last: String, _ extra: String = "") -> String {
            #"{"customer_no":"\#(number)","last_name":"\#(last)","email":"\#(number.lowercased())@example.com","language":"es"\#(extra)}"#
        }
        func booking(_ id: String, _ number: String, _ last: String, ref: String, status: String, arrival: String, departure: String, amount: String) -> String {
            Events.make(id, "booking.created", minute: 1, #"{"customer":\#(person(number, last, #","newsletter":true"#)),"booking":{"ref":"\#(ref)","status":"\#(status)","hotel":"Hotel Donostia","arrival":"\#(arrival)","departure":"\#(departure)","amount":"\#(amount)","currency":"EUR"}}"#)
        }
        try await fixture.ingest([
            booking("b1", "C-1", "Aguirre", ref: "BK-1", status: "completed", arrival: "2026-11-10", departure: "2026-11-15", amount: "900.00"),
            booking("b2", "C-2", "Beltrán", ref: "BK-2", status: "cancelled", arrival: "2026-11-25", departure: "2026-11-30", amount: "300.00"),
            booking("b3", "C-3", "Castro", ref: "BK-3", status: "confirmed", arrival: "2026-11-28", departure: "2026-12-01", amount: "500.00"),
            booking("b4", "C-4", "Díaz", ref: "BK-4", status: "confirmed", arrival: "2026-11-20", departure: "2026-11-30", amount: "100.00"),
            Events.status("n3", "booking.no_show", minute: 2, ref: "BK-3"),
            Events.make("k1", "cart.updated", minute: 3, #"{"customer":\#(person("C-5", "Echeverría")),"cart":{"id":"CART-1","status":"abandoned","total":"137.50","currency":"EUR"}}"#),
            Events.make("k2", "cart.updated", minute: 4, #"{"cart":{"id":"CART-2","status":"abandoned","total":"20.00","currency":"USD"}}"#),
            Events.make("k3", "cart.updated", minute: 5, #"{"cart":{"id":"CART-3","status":"active","total":"10.00"}}"#),
            Events.make("e4", "customer.erasure_requested", minute: 6, #"{"customer":{"email":"c-4@example.com"}}"#),
        ])
        return fixture
    }

    static func rows(_ fixture: RecordsFixture, _ args: [String: JSONValue]) async throws -> [[String]] {
        let report = try ReportRequest.parse(CommandArguments(args), zone: TimeZone(identifier: "Europe/Madrid"), defaultLanguage: "en")
        let collected = Collected()
        _ = try await fixture.stores.reports.rows(report, now: now, currency: "EUR") { values in
            collected.append(values.map { $0.csvText(language: .english, currency: "EUR", zone: .utc) })
        }
        return collected.rows
    }

    final class Collected: @unchecked Sendable {
        // Unchecked: appended to from the one reader thread, read after the report returned.
        private(set) var rows: [[String]] = []
        func append(_ row: [String]) { rows.append(row) }
    }

    @Test(arguments: Engine.allCases) func everyReportFindsItsRowsAndNeverAnErasedCustomer(engine: Engine) async throws {
        let fixture = try await Self.fixture(engine)
        // November in Madrid; the cancelled stay and the erased C-4 are out, the stay ending in December too.
        #expect(try await Self.rows(fixture, ["report": .string("follow_up"), "format": .string("csv")]) == [
            ["C-1", "", "Aguirre", "c-1@example.com", "", "es", "yes", "Hotel Donostia", "2026-11-15"],
        ])
        // The last 7 days before 2 December: arrivals 25 November to 1 December.
        #expect(try await Self.rows(fixture, ["report": .string("no_shows"), "format": .string("csv")]).map { $0[0] } == ["BK-3"])
        let carts = try await Self.rows(fixture, ["report": .string("abandoned_carts"), "format": .string("csv"), "days": .integer(30)])
        #expect(carts.map { [$0[0], $0[1], $0[6], $0[7]] } == [["CART-2", "", "20.00", "USD"], ["CART-1", "C-5", "137.50", "EUR"]])
        #expect(try await Self.rows(fixture, ["report": .string("abandoned_carts"), "format": .string("csv"), "days": .integer(3)]).isEmpty)
        let top = try await Self.rows(fixture, ["report": .string("top_customers"), "format": .string("csv"), "limit": .integer(2)])
        // The cancelled booking and the no-show count for nothing; the erased C-4 is not listed.
        #expect(top.map { [$0[0], $0[6]] } == [["C-1", "900.00"]])
        let new = try await Self.rows(fixture, ["report": .string("new_customers"), "format": .string("csv"), "period": .string("last_30_days")])
        #expect(Set(new.map { $0[0] }) == ["C-1", "C-2", "C-3", "C-5"])
    }

    @Test func aReportIsWrittenLoggedAndTitledWithItsPeriod() async throws {
        let fixture = try await Self.fixture()
        let exporter = CustomerExporter(stores: fixture.stores, directory: fixture.directory.appendingPathComponent("exports").path, currency: "EUR", zone: .utc)
        let report = try ReportRequest.parse(CommandArguments(["report": .string("top_customers"), "format": .string("pdf"), "language": .string("es")]),
                                             zone: TimeZone(identifier: "Europe/Madrid"), defaultLanguage: "en")
        let entry = try await exporter.run(report, requestedBy: "alice")
        #expect(entry.rows == 1 && entry.file.contains("/top_customers-") && entry.filter["report"] == .string("top_customers"))
        #expect(entry.fields == ["customer_no", "first_name", "last_name", "email", "phone", "orders", "total_spent", "last_order_at"])
        let text = try SpreadsheetAndPDFExportTests.run("pdftotext", ["-layout", entry.file, "-"]).output
        #expect(text.contains("Mejores clientes") && text.contains("Aguirre") && text.contains("Página 1 de 1"), "\(text)")
    }
}
