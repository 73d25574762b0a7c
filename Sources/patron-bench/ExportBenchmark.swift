import ArgumentParser
import Foundation
import PatronDomain
import PatronPhone
import PatronService
import PatronStorage

extension PatronBench {
    /// Issue "Exports and Show Schedules", benchmark: every customer of the search benchmark's
    /// database exported as CSV with the summary's fields, next to `sqlite3 -csv` dumping the
    /// same columns in the same order from the same file in the same run (target ≥ 0.5 × its
    /// rate), and the memory the export adds over idle (target ≤ 64 MiB at 1M rows).
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Customer exports at scale: Patron's CSV vs sqlite3 -csv, and memory.")

        @Option(help: "Customers to seed when the database does not exist yet.") var customers = 1_000_000
        @Option(help: "The search benchmark's database directory (seeded there when missing).") var keep: String?
        @Option(help: "Formats to measure, comma-separated.") var formats = "csv,xlsx,pdf"
        @Option(help: "PDF only the customers of this country (libharu holds a whole PDF in memory); \"\" for all.") var pdfCountry = "PT"

        func run() async throws {
            let directory = keep.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-export-\(UUID().uuidString.prefix(6))")
            defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
            let databasePath = directory.appendingPathComponent("patron.sqlite").path
            let existing = FileManager.default.fileExists(atPath: databasePath)
            let database = try PatronDatabase.open(directory: directory.path)
            if !existing { try await SearchSeeder.seed(database, customers: customers, bookingsPerCustomer: 3) }
            let exports = FileManager.default.temporaryDirectory.appendingPathComponent("bench-exports-\(UUID().uuidString.prefix(6))")
            defer { try? FileManager.default.removeItem(at: exports) }
            let exporter = CustomerExporter(stores: try Storage.sqlite(database).stores(), directory: exports.path, currency: "EUR", zone: TimeZone(identifier: "Europe/Madrid")!)
            let clock = ContinuousClock()
            var patronCSV: (rows: Int, duration: Duration) = (0, .zero)
            for format in formats.split(separator: ",").map(String.init) {
                var args: [String: JSONValue] = ["format": .string(format)]
                if format == "pdf", !pdfCountry.isEmpty { args["filter"] = .object(["country": .string(pdfCountry)]) }
                let request = try ExportRequest.parse(CommandArguments(args), phones: LibPhoneNumberNormalizer(), rules: RecordRules(),
                                                      defaultLanguage: "en")
                let sampler = MemorySampler()
                let idle = MemorySampler.current()
                sampler.start()
                var entry: ExportLogEntry?
                let duration = try await clock.measure { entry = try await exporter.run(request, requestedBy: "bench") }
                let peak = sampler.stop()
                guard let entry else { continue }
                let size = (try FileManager.default.attributesOfItem(atPath: entry.file)[.size] as? Int) ?? 0
                let anonymous = Double(peak.anonymousKiB - idle.anonymousKiB) / 1024
                print(String(format: "%@: %d customers, %d columns, %d MiB in %@: %d rows/s; memory over idle: anonymous +%.1f MiB (target ≤ 64: %@), resident +%.1f MiB",
                             format.uppercased(), entry.rows, ExportField.summary.count, size / 1_048_576, Self.format(duration),
                             Int(rate(entry.rows, duration)), anonymous, anonymous <= 64 ? "PASS" : "FAIL",
                             Double(peak.residentKiB - idle.residentKiB) / 1024))
                if format == "csv" { patronCSV = (entry.rows, duration) }
                try? FileManager.default.removeItem(atPath: entry.file)
            }
            guard patronCSV.rows > 0 else { return }
            let dump = exports.appendingPathComponent("sqlite3.csv")
            let sqlite = try clock.measure { try Self.sqlite3CSV(databasePath, into: dump.path) }
            let patronRate = rate(patronCSV.rows, patronCSV.duration), sqliteRate = rate(patronCSV.rows, sqlite)
            print("sqlite3 -csv, same columns and order, to a file: \(Self.format(sqlite)), \(Int(sqliteRate)) rows/s")
            print(String(format: "CSV ratio Patron / sqlite3 %.2f (target ≥ 0.5): %@", patronRate / sqliteRate, patronRate / sqliteRate >= 0.5 ? "PASS" : "FAIL"))
            print("(resident memory includes the database file's pages that SQLite maps; anonymous is the process's own)")
        }

        static func format(_ duration: Duration) -> String { String(format: "%.2f s", duration.inSeconds) }

        /// The exporter's query with its columns as text, written by sqlite3's own CSV mode.
        static func sqlite3CSV(_ database: String, into path: String) throws {
            let sql = """
                SELECT c.customer_no, c.title, c.first_name, c.last_name, c.company, c.email, c.phone, c.city, c.country, c.language,
                    CASE c.newsletter WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END, coalesce(g.name, c.auto_group), replace(c.tags, char(31), ', '),
                    c.orders, printf('%.2f', coalesce((SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = 'EUR'), 0) / 100.0),
                    c.last_order_at
                FROM customer_search s INDEXED BY customer_search_sort_name CROSS JOIN customers c ON c.id = s.customer_id
                LEFT JOIN customer_groups g ON g.id = c.custom_group_id ORDER BY s.sort_name, s.customer_id;
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = ["-readonly", "-csv", "-header", database, sql]
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw ValidationError("cannot create \(path)") }
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? output.close() }
            process.standardOutput = output
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ValidationError("sqlite3 exited with \(process.terminationStatus)") }
        }
    }
}

/// The process's resident memory sampled every 10 ms on its own thread, keeping the maxima.
final class MemorySampler: @unchecked Sendable {
    struct Sample {
        var residentKiB = 0
        var anonymousKiB = 0
    }

    // Unchecked: `peak` and `running` are touched only under `lock`.
    private let lock = NSLock()
    private var peak = Sample()
    private var running = false
    private var thread: Thread?

    static func current() -> Sample {
        var sample = Sample()
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return sample }
        for line in status.split(separator: "\n") {
            let value = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            if line.hasPrefix("VmRSS:") { sample.residentKiB = value }
            if line.hasPrefix("RssAnon:") { sample.anonymousKiB = value }
        }
        return sample
    }

    func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                let sample = Self.current()
                lock.withLock {
                    peak.residentKiB = max(peak.residentKiB, sample.residentKiB)
                    peak.anonymousKiB = max(peak.anonymousKiB, sample.anonymousKiB)
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        self.thread = thread
        thread.start()
    }

    func stop() -> Sample {
        let final = Self.current()
        return lock.withLock {
            running = false
            return Sample(residentKiB: max(peak.residentKiB, final.residentKiB), anonymousKiB: max(peak.anonymousKiB, final.anonymousKiB))
        }
    }
}
