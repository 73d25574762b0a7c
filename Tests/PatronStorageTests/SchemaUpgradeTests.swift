import Foundation
import GRDB
import PatronDomain
@testable import PatronStorage
import Testing

/// A file an older patrond left, with customers in it, opened by this one.
struct SchemaUpgradeTests {
    /// v25 moved the word index's writing from the search row's triggers to a queue handed over
    /// at each commit: the words written the old way are found, and so are those written the new way.
    @Test func customersOfAV24FileAreFoundAfterTheUpgradeAndAfterTheyChange() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { try PatronDatabase.addFold(to: $0) }
            let old = try DatabasePool(path: directory.appendingPathComponent("patron.sqlite").path, configuration: configuration)
            try PatronDatabase.migrator.migrate(old, upTo: "v24-customer-segments-by-city")
            try await old.write { db in
                for (id, first, last, city) in [(1, "Ana", "García", "Donostia"), (2, "Luis", "Pérez", "Bilbao")] {
                    try db.execute(sql: """
                        INSERT INTO customers (id, customer_no, number_assigned, first_contact_at, first_name, last_name, city)
                        VALUES (?, ?, 0, 0, ?, ?, ?)
                        """, arguments: [id, "C-\(id)", first, last, city])
                    try db.execute(sql: "INSERT INTO customer_numbers (number, customer_id) VALUES (?, ?)", arguments: ["C-\(id)", id])
                }
            }
            try old.close()
        }
        let fixture = try RecordsFixture.upgrading(directory)
        #expect(try await fixture.searchIndexDisagreements() == [])
        #expect(try await Self.found(["last_name": "garc"], in: fixture) == ["C-1"])

        try await fixture.ingest(Events.profile("rename", minute: 0, #"{"customer_no":"C-2","last_name":"Etxeberria"}"#))
        #expect(try await Self.found(["last_name": "etxeb"], in: fixture) == ["C-2"])
        #expect(try await Self.found(["last_name": "perez"], in: fixture) == [])
        #expect(try await fixture.searchIndexDisagreements() == [])
    }

    private static func found(_ filters: [String: String], in fixture: RecordsFixture) async throws -> [String] {
        CustomerSearchTests.numbers(try await CustomerSearchTests.search(fixture, filters.mapValues(JSONValue.string)))
    }
}
