import ArgumentParser
import Foundation
import PatronDomain
import PatronPhone
import PatronService
import PatronStorage

extension PatronBench {
    /// Issue "Customer Center", benchmark: 100,000 CSV rows, a third of them naming existing
    /// customers by email or by phone written another way, loaded into a database of 1,000,000
    /// customers with identity resolution and merge rules. Target: ≥ 10,000 rows/s.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "CSV import into a large customer database.")

        @Option(help: "Customers already in the database.") var customers = 1_000_000
        @Option(help: "Rows in the CSV file.") var rows = 100_000
        @Option(help: "Keep the seeded database in this directory (reused when it exists; the import is then on a copy).") var keep: String?
        @Option(help: "Imports, each into a fresh copy of the seeded database (the figures of one run move by about 15 %).") var runs = 1

        func run() async throws {
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bench-import-\(UUID().uuidString.prefix(6))")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let seeded: URL
            if let keep {
                seeded = URL(fileURLWithPath: keep)
                if !FileManager.default.fileExists(atPath: seeded.appendingPathComponent("patron.sqlite").path) {
                    try await SearchSeeder.seed(try PatronDatabase.open(directory: seeded.path), customers: customers, bookingsPerCustomer: 3)
                }
            } else {
                seeded = scratch.appendingPathComponent("seeded")
                try await SearchSeeder.seed(try PatronDatabase.open(directory: seeded.path), customers: customers, bookingsPerCustomer: 3)
            }
            var rates: [Double] = []
            for run in 1...runs {
                // The seeded database stays as it is: each import runs on a copy.
                let directory = scratch.appendingPathComponent("run")
                try? FileManager.default.removeItem(at: directory)
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                for name in try FileManager.default.contentsOfDirectory(atPath: seeded.path) where name.hasPrefix("patron.sqlite") {
                    try FileManager.default.copyItem(at: seeded.appendingPathComponent(name), to: directory.appendingPathComponent(name))
                }
                print("run \(run) of \(runs)")
                rates.append(try await importOnce(into: PatronDatabase.open(directory: directory.path)))
            }
            let sorted = rates.sorted()
            let median = sorted[sorted.count / 2]
            print("rows/s over \(runs) run(s): min \(Int(sorted.first!)), median \(Int(median)), max \(Int(sorted.last!))")
            print("target ≥ 10000 rows/s (median): \(median >= 10_000 ? "PASS" : "FAIL")")
        }

        /// One import of the file and one of the same file again; returns the first's rows per second.
        private func importOnce(into database: PatronDatabase) async throws -> Double {
            let existing = try await database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM customers")! }
            let content = Array(Self.file(rows: rows, existing: existing).utf8)
            let rules = RecordRules()
            let hasher = HMACIdentityHasher(key: "bench-key-bench-key-bench-key-bench-key")
            let importer = CustomerImport(rules: rules, phones: LibPhoneNumberNormalizer(), hasher: hasher)
            let loader = CustomerListLoader(store: SQLiteEventStore(database: database, applier: RecordApplier(rules: rules, hasher: hasher)),
                                            importer: importer)
            let clock = ContinuousClock()
            var batch: CustomerImport.Batch?
            let reading = try clock.measure { batch = try importer.read(content, customGroups: [], asOf: .now) }
            let cpuBefore = processCPUSeconds()
            var totals: CustomerListLoader.Totals?
            let loading = try await clock.measure { totals = try await loader.load(content, customGroups: [], asOf: .now, dryRun: false) }
            let cpu = processCPUSeconds() - cpuBefore
            let again = try await clock.measure { _ = try await loader.load(content, customGroups: [], asOf: .now, dryRun: false) }
            guard let totals, let batch else { return 0 }
            let after = try await database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM customers WHERE merged_into IS NULL")! }
            print("database: \(existing) customers before, \(after) live after; file: \(rows) rows, \(content.count / 1_048_576) MiB")
            print("read and validate only: \(format(reading)) (\(Int(rate(batch.rows.count, reading))) rows/s)")
            print("import: \(format(loading)), \(Int(rate(rows, loading))) rows/s, CPU \(String(format: "%.0f", cpu / Double(rows) * 1e6)) µs/row: "
                  + "created \(totals.created), updated \(totals.updated), unchanged \(totals.unchanged), rejected \(totals.rejected.count)")
            print("the same file again: \(format(again)) (\(Int(rate(rows, again))) rows/s, nothing changes)")
            print("peak RSS \(String(format: "%.0f", peakResidentMiB())) MiB")
            return rate(rows, loading)
        }

        /// Spanish headers; every third row names a seeded customer, alternately by its email in
        /// other capitals and by its mobile written another way; the rest are new people.
        static func file(rows: Int, existing: Int) -> String {
            var lines = ["Nombre;Apellidos;Correo;Móvil;Ciudad;País;Idioma;newsletter"]
            lines.reserveCapacity(rows + 1)
            for row in 0..<rows {
                let first = SearchSeeder.firstNames[row % SearchSeeder.firstNames.count]
                let last = SearchSeeder.lastNames[(row / 7) % SearchSeeder.lastNames.count]
                let place = SearchSeeder.cities[row % SearchSeeder.cities.count]
                let newsletter = row % 2 == 0 ? "sí" : "no"
                if row % 3 == 0 {
                    let customer = (row * 7919) % existing
                    if row % 2 == 0 {
                        lines.append("\(first);\(last);\(SearchSeeder.email(customer).uppercased());;\(place.city);\(place.country);\(place.language);\(newsletter)")
                    } else {
                        lines.append("\(first);\(last);;\(SearchSeeder.writtenMobile(customer + 1).replacingOccurrences(of: " ", with: ""));\(place.city);\(place.country);\(place.language);\(newsletter)")
                    }
                } else {
                    let phone = String(format: "91 %03d %02d %02d", (row / 10_000) % 1000, (row / 100) % 100, row % 100)
                    lines.append("\(first);\(last);new\(row)@example.net;\(phone);\(place.city);\(place.country);\(place.language);\(newsletter)")
                }
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
