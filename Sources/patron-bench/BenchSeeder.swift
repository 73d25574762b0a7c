import Foundation
import GRDB
import PatronDomain
import PatronStorage

/// Fills a Patron database with customers directly (as an import would leave them: a row, a
/// number, an email and a mobile each), for the benchmark at scale.
enum BenchSeeder {
    static func seed(_ database: PatronDatabase, customers: Int) async throws {
        let chunk = 50_000
        for start in stride(from: 0, to: customers, by: chunk) {
            try await database.write { db in
                let customer = try db.makeStatement(sql: """
                    INSERT INTO customers (id, customer_no, number_assigned, first_contact_at, auto_group, first_name, first_name_at,
                        last_name, last_name_at, email, email_at, mobile, mobile_at, city, city_at)
                    VALUES (?, ?, 0, ?, 1, 'Seed', ?, ?, ?, ?, ?, ?, ?, 'Bilbao', ?)
                    """)
                let number = try db.makeStatement(sql: "INSERT INTO customer_numbers (number, customer_id) VALUES (?, ?)")
                let identifier = try db.makeStatement(sql: """
                    INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable) VALUES (?, ?, ?, ?, 1700000000000000, 1)
                    """)
                let at: Int64 = 1_700_000_000_000_000
                for index in start..<min(start + chunk, customers) {
                    let id = Int64(index + 1)
                    let email = "seed\(index)@example.org"
                    let mobile = String(format: "+3471%07d", index)
                    try customer.execute(arguments: [id, "S-\(index)", at, at, "Customer \(index)", at, email, at, mobile, at, at])
                    try number.execute(arguments: ["S-\(index)", id])
                    try identifier.execute(arguments: ["email", email, id, email])
                    try identifier.execute(arguments: ["phone", mobile, id, mobile])
                }
            }
        }
        // The seeding's pages go into the database file now, as an import's would long before
        // the day being measured; otherwise the measured run pays their write-back in its
        // checkpoints (seeded/empty 0.74–0.78 with, 1.06 with no checkpoints at all).
        try await database.checkpoint()
    }
}
