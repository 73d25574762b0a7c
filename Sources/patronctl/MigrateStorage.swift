import ArgumentParser
import Foundation
import Logging
import PatronDomain
import PatronStorage

extension Patronctl {
    struct MigrateStorage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-storage",
            abstract: "Copy a SQLite database into PostgreSQL and verify it, table by table.",
            discussion: """
                Stop patrond first. Works on the files and the database directly, not through the broker. \
                Copies every table in key order, in transactions of --page-size rows; run it again to finish a copy \
                cut short (rows already there are kept). Then compares each table's row count and a SHA-256 of its \
                rows on both sides. The PostgreSQL database gets Patron's schema first if it has none.
                Exit codes: 0 every table verified; 65 some table differs (listed); 66 no database at --from; \
                69 PostgreSQL unreachable.
                """)

        @Option(help: "The SQLite database file (patrond's storage.data_dir/storage.database_file).", completion: .file(extensions: ["sqlite"]))
        var from: String

        @Option(help: "postgres://user:password@host:port/database. Default: PATRON_DATABASE_URL.")
        var to: String?

        @Option(name: .customLong("page-size"), help: "Rows per transaction (1–50000).")
        var pageSize = 2_000

        @Flag(help: "Machine-readable output.")
        var json = false

        func validate() throws {
            guard (1...50_000).contains(pageSize) else { throw ValidationError("--page-size must be 1–50000") }
        }

        func run() async throws {
            try await reportingFailures {
                guard let url = to ?? ProcessInfo.processInfo.environment["PATRON_DATABASE_URL"], !url.isEmpty else {
                    throw CLIFailure(code: 64, message: "--to: a postgres:// URL is required (or PATRON_DATABASE_URL)")
                }
                let location: PostgresLocation
                do {
                    location = try PostgresLocation(url: url)
                } catch {
                    throw CLIFailure(code: 64, message: "--to: \(error)")
                }
                guard FileManager.default.fileExists(atPath: from) else { throw CLIFailure(code: 66, message: "--from: no database at \(from)") }
                let path = from as NSString
                let source = try PatronDatabase.open(directory: path.deletingLastPathComponent.isEmpty ? "." : path.deletingLastPathComponent,
                                                     fileName: path.lastPathComponent)
                var logger = Logger(label: "patronctl")
                logger.logLevel = .error
                let target: PatronPostgresDatabase
                do {
                    target = try await PatronPostgresDatabase.open(location, otherSessions: 1, logger: logger)
                } catch {
                    throw CLIFailure(code: 69, message: "cannot use \(location): \(error)")
                }
                let results: [SQLiteToPostgres.TableResult]
                do {
                    let json = self.json
                    results = try await SQLiteToPostgres(source: source, target: target, pageSize: pageSize).run { step in
                        if !json { FileHandle.standardError.write(Data("\(step)\n".utf8)) }
                    }
                } catch {
                    await target.close()
                    throw error
                }
                await target.close()
                if json {
                    Output.json(.array(results.map { result in
                        .object(["table": .string(result.table), "sqlite_rows": .integer(result.sourceRows), "postgres_rows": .integer(result.targetRows),
                                 "copied": .integer(result.copied), "sqlite_sha256": .string(result.sourceChecksum),
                                 "postgres_sha256": .string(result.targetChecksum), "verified": .bool(result.verified)])
                    }))
                } else {
                    Output.table(["TABLE", "SQLITE ROWS", "POSTGRESQL ROWS", "COPIED NOW", "SHA-256", "VERIFIED"], results.map { result in
                        [result.table, String(result.sourceRows), String(result.targetRows), String(result.copied),
                         result.sourceChecksum == result.targetChecksum ? String(result.sourceChecksum.prefix(16)) : "differs", result.verified ? "yes" : "NO"]
                    })
                }
                let differing = results.filter { !$0.verified }.map(\.table)
                if !differing.isEmpty {
                    throw CLIFailure(code: 65, message: "not verified: \(differing.joined(separator: ", ")) (was patrond running? run again with it stopped)")
                }
            }
        }
    }
}
