import Foundation
import PatronDomain
import Testing

extension BrokerBacked {
    /// The patronctl binary against a running Patron: the import of QloApps's export from the
    /// shared fixture, searches, exit codes, a long file sent in parts.
    @Suite struct Patronctl {
        struct Run {
            let status: Int32
            let output: String
            let errors: String
            var json: JSONValue? { try? JSONValue(parsing: Array(output.utf8)) }
        }

        static func patronctl(_ setup: TestSetup, _ arguments: [String]) throws -> Run {
            try patronctl(arguments + ["--config", setup.configurationPath])
        }

        /// patronctl with these arguments, and the test's environment less `unset` and with `set`.
        static func patronctl(_ arguments: [String], unset: [String] = [], set: [String: String] = [:]) throws -> Run {
            let process = Process()
            process.executableURL = TestEnvironment.binDirectory.appendingPathComponent("patronctl")
            process.arguments = arguments
            if !unset.isEmpty || !set.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.filter { !unset.contains($0.key) }.merging(set) { $1 }
            }
            let (output, errors) = (Pipe(), Pipe())
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), errors: String(decoding: err, as: UTF8.self))
        }

        static var qloappsFixture: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("shared/fixtures/qloapps/customers_import.csv").path
        }

        @Test func importsQloAppsExportOnceThenFindsItsCustomers() async throws {
            try await withRunningPatron { setup, _, _ in
                let dry = try Self.patronctl(setup, ["customers", "import", Self.qloappsFixture, "--dry-run", "--json"])
                #expect(dry.status == 0, "\(dry.errors)")
                #expect(dry.json?["created"] == .integer(9) && dry.json?["dry_run"] == .bool(true))
                let first = try Self.patronctl(setup, ["customers", "import", Self.qloappsFixture, "--json"])
                #expect(first.json?["created"] == .integer(9) && first.json?["rejected"] == .array([]))
                let second = try Self.patronctl(setup, ["customers", "import", Self.qloappsFixture])
                #expect(second.status == 0)
                #expect(second.output.contains("created 0, updated 0, unchanged 9"))

                let found = try Self.patronctl(setup, ["customers", "search", "--last-name", "pan", "--newsletter", "yes", "--json"])
                #expect(found.json?["total"] == .integer(1))
                let table = try Self.patronctl(setup, ["customers", "search", "--group", "Guest"])
                #expect(table.output.hasPrefix("CUSTOMER NO"), "\(table.output)")
                #expect(table.output.contains("Hook") && table.output.contains("2 shown of 2"))
                let shown = try Self.patronctl(setup, ["customers", "show", "--email", "TinkerBell@qloapps.com"])
                #expect(shown.status == 0 && shown.output.contains("partner_offers"))
            }
        }

        @Test func exportsAndSchedulesTheCustomersASearchFinds() async throws {
            try await withRunningPatron { setup, _, _ in
                _ = try Self.patronctl(setup, ["customers", "import", Self.qloappsFixture])
                let run = try Self.patronctl(setup, ["exports", "run", "--group", "Guest", "--fields", "customer_no,last_name,email",
                                                     "--export-language", "en", "--delimiter", ";", "--json"])
                #expect(run.status == 0, "\(run.errors)")
                let file = try #require(run.json?["file"]?.stringValue)
                let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\r\n")
                #expect(lines.first == "Customer no.;Last name;Email" && lines.count == 3)
                let log = try Self.patronctl(setup, ["exports", "log"])
                let id = try #require(run.json?["export_id"]?.stringValue)
                #expect(log.output.hasPrefix("EXPORT") && log.output.contains(id), "\(log.output)")
                let bad = try Self.patronctl(setup, ["exports", "run", "--fields", "password"])
                #expect(bad.status == 65 && bad.errors.contains("args.fields"))
                // The file fetched over the broker, in parts when large, is the same byte for byte.
                let copy = setup.directory.appendingPathComponent("fetched.csv").path
                let fetched = try Self.patronctl(setup, ["exports", "fetch", id, "--output", copy])
                #expect(fetched.status == 0 && fetched.output.contains("checked"), "\(fetched.output) \(fetched.errors)")
                #expect(FileManager.default.contents(atPath: copy) == FileManager.default.contents(atPath: file))
                let again = try Self.patronctl(setup, ["exports", "fetch", id, "--output", copy])
                #expect(again.status == 73 && again.errors.contains("not replaced"), "\(again.errors)")
                let unknown = try Self.patronctl(setup, ["exports", "fetch", "20000101-000000-000000", "--output", copy + ".x"])
                #expect(unknown.status == 66 && unknown.errors.contains("args.export_id"), "\(unknown.errors)")

                let scheduled = try Self.patronctl(setup, ["schedules", "create", "weekly guests", "--cron", "0 7 * * mon",
                                                           "--timezone", "Europe/Madrid", "--group", "Guest"])
                #expect(scheduled.status == 0 && scheduled.output.contains("next run"), "\(scheduled.errors)")
                let ran = try Self.patronctl(setup, ["schedules", "run-now", "weekly guests"])
                #expect(ran.status == 0 && ran.output.hasPrefix("ok: export"), "\(ran.output) \(ran.errors)")
                let listed = try Self.patronctl(setup, ["schedules", "--json"])
                #expect(listed.json?["schedules"]?.arrayValue?.first?["last_result"]?.stringValue?.hasPrefix("ok") == true)
                let badCron = try Self.patronctl(setup, ["schedules", "create", "x", "--cron", "daily", "--timezone", "UTC"])
                #expect(badCron.status == 65 && badCron.errors.contains("args.cron"))
            }
        }

        @Test func sendsAndSchedulesTheMonthlyFollowUpMailing() async throws {
            try await withRunningPatron(try BrokerBacked.Dispatch.setup()) { setup, broker, _ in
                _ = try Self.patronctl(setup, ["customers", "import", Self.qloappsFixture])
                let preview = try Self.patronctl(setup, ["dispatch", "send", "--template", "newsletter", "--purpose", "marketing", "--everyone",
                                                         "--dry-run", "--json"])
                #expect(preview.status == 0, "\(preview.errors)")
                let reachable = try #require(preview.json?["queued"]?.intValue)
                #expect(reachable > 0 && preview.json?["skipped"]?["no_consent"]?.intValue ?? 0 > 0, "\(preview.output)")
                let sent = try Self.patronctl(setup, ["dispatch", "send", "--template", "newsletter", "--purpose", "marketing", "--everyone"])
                #expect(sent.status == 0 && sent.output.hasPrefix("queued \(reachable)") && sent.output.contains("no_consent"), "\(sent.output)")
                let wrongPurpose = try Self.patronctl(setup, ["dispatch", "send", "--template", "newsletter", "--purpose", "transactional",
                                                              "--customer", "C-1"])
                #expect(wrongPurpose.status == 65 && wrongPurpose.errors.contains("args.purpose"))
                let unnamed = try Self.patronctl(setup, ["dispatch", "send", "--template", "newsletter", "--purpose", "marketing"])
                #expect(unnamed.status == 64 && unnamed.errors.contains("--everyone"))

                let scheduled = try Self.patronctl(setup, ["schedules", "create", "monthly follow-up", "--cron", "@monthly", "--timezone", "Europe/Madrid",
                                                           "--newsletter", "yes", "--send-template", "newsletter", "--send-purpose", "marketing"])
                #expect(scheduled.status == 0, "\(scheduled.errors)")
                // Everyone it would reach was sent the newsletter a moment ago: nobody gets it twice.
                let ran = try Self.patronctl(setup, ["schedules", "run-now", "monthly follow-up"])
                #expect(ran.status == 0 && ran.output.hasPrefix("ok: 0 queued") && ran.output.contains("recently_sent \(reachable)"),
                        "\(ran.output) \(ran.errors)")
                let queue = setup.topology.dispatchQueue(.email)
                try await eventually("the send's jobs") { try await broker.queueDepth(queue) == Int(reachable) }
            }
        }

        @Test func aLargeSendShowsItsProgress() async throws {
            try await withRunningPatron(try BrokerBacked.Dispatch.setup()) { setup, broker, _ in
                try await broker.publish(BrokerBacked.Dispatch.customers(1_200, exchange: setup.topology.eventsExchange))
                try await eventually("the customers") { try await setup.journalCount() == 1_200 }
                let preview = try Self.patronctl(setup, ["dispatch", "send", "--template", "newsletter", "--purpose", "marketing", "--everyone", "--dry-run"])
                #expect(preview.status == 0 && preview.output.hasPrefix("would queue 1200"), "\(preview.output) \(preview.errors)")
                #expect(preview.errors.contains("… 500 of 1200 customers, 500 queued") && preview.errors.contains("… 1000 of 1200"), "\(preview.errors)")
            }
        }

        @Test func exitCodesSayWhatWentWrong() async throws {
            try await withRunningPatron { setup, _, _ in
                let missing = try Self.patronctl(setup, ["customers", "show", "C-404"])
                #expect(missing.status == 66 && missing.errors.contains("not_found"))
                let unconfirmed = try Self.patronctl(setup, ["customers", "erase", "C-404"])
                #expect(unconfirmed.status == 64 && unconfirmed.errors.contains("--yes"))
                let badFilter = try Self.patronctl(setup, ["customers", "search", "--departure-from", "2026-13-01"])
                #expect(badFilter.status == 65 && badFilter.errors.contains("args.departure_from"))
                // With --json the error is JSON on standard output, as a script reads results.
                let missingJSON = try Self.patronctl(setup, ["customers", "show", "C-404", "--json"])
                #expect(missingJSON.status == 66 && missingJSON.errors.isEmpty, "\(missingJSON.errors)")
                #expect(missingJSON.json?["error"]?["code"] == .string("not_found") && missingJSON.json?["error"]?["exit_code"] == .integer(66),
                        "\(missingJSON.output)")
                let completion = try Self.patronctl(setup, ["--generate-completion-script", "bash"])
                #expect(completion.output.contains("customers") && completion.output.contains("import"))
            }
        }

        /// The front desk's view: one search box for a name, an email, a phone or a number, and the
        /// whole record (payments, carts, each thread with its messages), never cut when piped.
        @Test func oneSearchBoxAndTheCompleteRecord() async throws {
            try await withRunningPatron { setup, broker, _ in
                let exchange = setup.topology.eventsExchange
                try await CustomerCommands.publishAnaAndBen(setup, broker)
                try await broker.publish([
                    RecordIngest.message("p1", "payment.recorded", minute: 10, exchange: exchange,
                                         #"{"customer":{"customer_no":"C-1"},"payment":{"reference":"PAY-1","booking_ref":"BK-1","amount":"100.00","method":"card"}}"#),
                    RecordIngest.message("t1", "contact.submitted", minute: 11, exchange: exchange,
                                         #"{"customer":{"customer_no":"C-1"},"message":{"thread_id":"T-1","subject":"Late arrival","body":"We arrive at midnight after a long drive from Bordeaux.\nIs the desk open then?"}}"#),
                ])
                try await eventually("the payment and the thread") { try await setup.journalCount() >= 5 }
                for text in [["garcía"], ["ana@example.com"], ["600", "111", "222"], ["C-1"]] {
                    let found = try Self.patronctl(setup, ["customers", "search"] + text + ["--json"])
                    #expect(found.json?["customers"]?.arrayValue?.compactMap { $0["customer_no"]?.stringValue } == ["C-1"], "\(text): \(found.output)")
                }
                let shown = try Self.patronctl(["customers", "show", "C-1", "--config", setup.configurationPath], unset: ["COLUMNS"])
                #expect(shown.status == 0, "\(shown.errors)")
                for expected in ["PAYMENTS", "PAY-1", "card", "CARTS", "CART-1", "THREAD T-1 (open) Late arrival",
                                 // Times on the business's clock (the example zone, Europe/Madrid): the
                                 // message came at 10:11 UTC.
                                 "2026-11-20 11:11:00 +01:00",
                                 // Whole, though its line is wider than the 120 columns a pipe once got.
                                 "We arrive at midnight after a long drive from Bordeaux. Is the desk open then?"] {
                    #expect(shown.output.contains(expected), "\(expected) in\n\(shown.output)")
                }
                // A row wider than the 120 columns a pipe once got is printed whole.
                let long = "maria.de.las.mercedes.fernandez-villaverde@correo.example.com"
                try await broker.publish([RecordIngest.message("w1", "customer.updated", minute: 12, exchange: exchange,
                                                               #"{"customer":{"email":"\#(long)","first_name":"María de las Mercedes","last_name":"Fernández-Villaverde y Castañeda","address":{"city":"Donostia"}}}"#)])
                try await eventually("the long row") { try await setup.journalCount() >= 6 }
                let table = try Self.patronctl(["customers", "search", "--city", "Donostia", "--config", setup.configurationPath], unset: ["COLUMNS"])
                #expect(table.output.contains(long) && !table.output.contains("…"), "a piped table keeps its full width:\n\(table.output)")
            }
        }

        /// patronctl says a configuration file is missing as patrond does, and reads the file as
        /// a client: the daemon's secrets are neither required nor a way around a missing file.
        @Test func aMissingConfigurationFileIsAConfigurationErrorAndSecretsAreNotNeeded() async throws {
            try await withRunningPatron { setup, _, _ in
                // Naming the broker does not make a named file optional.
                for broker in [[], ["--url", "amqp://patron:patron@127.0.0.1:1"]] {
                    let missing = try Self.patronctl(["status", "--config", "/nonexistent/patrond.yaml"] + broker,
                                                     set: ["PATRON_ERASURE_HASH_KEY": String(repeating: "k", count: 40)])
                    #expect(missing.status == 78, "\(missing.errors)")
                    #expect(missing.errors.contains("/nonexistent/patrond.yaml: no such configuration file"), "\(missing.errors)")
                    #expect(!missing.errors.contains("erasure_hash_key"))
                }
                // The daemon's file less its secret: what an operator's copy may hold.
                let yaml = try String(contentsOfFile: setup.configurationPath, encoding: .utf8)
                    .split(separator: "\n").filter { !$0.contains("erasure_hash_key") }.joined(separator: "\n")
                let clientCopy = setup.configurationPath + ".client.yaml"
                try yaml.write(toFile: clientCopy, atomically: true, encoding: .utf8)
                let status = try Self.patronctl(["status", "--config", clientCopy], unset: ["PATRON_ERASURE_HASH_KEY"])
                #expect(status.status == 0, "\(status.errors)")
            }
        }

        /// On-call's view: the dispatch queues' depths beside patrond's own queues, and the events
        /// dropped because they predate an erasure (a late replay of erased data, which must stay
        /// visible without being applied).
        @Test func statusShowsTheDispatchQueuesAndEventsDroppedAfterAnErasure() async throws {
            try await withRunningPatron { setup, broker, _ in
                let exchange = setup.topology.eventsExchange
                let messages = [
                    RecordIngest.message("s1", "customer.updated", minute: 1, exchange: exchange, #"{"customer":{"email":"late@example.com"}}"#),
                    RecordIngest.message("s2", "customer.erasure_requested", minute: 5, exchange: exchange, #"{"customer":{"email":"late@example.com"}}"#),
                    RecordIngest.message("s3", "customer.updated", minute: 3, exchange: exchange,
                                         #"{"customer":{"email":"late@example.com","first_name":"Late"}}"#),
                ]
                try await broker.publish(messages)
                try await eventually("every event journaled") { try await setup.journalCount() == messages.count }
                let json = try Self.patronctl(setup, ["status", "--json"])
                #expect(json.status == 0, "\(json.errors)")
                #expect(json.json?["patrond"]?["journal"]?["suppressed"] == .integer(1), "\(json.output)")
                #expect(json.json?["patrond"]?["since_start"]?["suppressed"] == .integer(1), "\(json.output)")
                for channel in ["email", "sms"] {
                    #expect(json.json?["queues"]?["dispatch \(channel)"]?["name"] == .string("\(setup.topology.dispatchExchange).\(channel)"), "\(json.output)")
                }
                let text = try Self.patronctl(setup, ["status"])
                #expect(text.output.contains("1 dropped as older than an erasure") && text.output.contains("dispatch email"), "\(text.output)")
            }
        }

        /// A broker that refuses the connection fails patronctl at once, and one that accepts it
        /// but never answers fails it at --timeout; each with one line an operator can act on, not
        /// rabbitmq-c's status numbers or Patron's source locations.
        @Test func anUnreachableBrokerFailsAtOnceWithOneReadableLine() async throws {
            func status(_ url: String, timeout: Int) throws -> (run: Run, seconds: Double) {
                let start = ContinuousClock.now
                let run = try Self.patronctl(["status", "--config", "config/patrond.example.yaml", "--url", url, "--timeout", String(timeout)])
                return (run, (ContinuousClock.now - start).inSeconds)
            }
            let refused = try status("amqp://patron:patron@127.0.0.1:1", timeout: 20)
            #expect(refused.run.status == 69)
            #expect(refused.seconds < 5, "a refused connection does not wait for the timeout")
            let silentListener = try Self.silentListener()
            // SIGKILL: the test process blocks SIGTERM (ServiceLifecycle's signal handling), and its
            // children inherit that mask.
            defer { kill(silentListener.process.processIdentifier, SIGKILL) }
            let silent = try status("amqp://patron:patron@127.0.0.1:\(silentListener.port)", timeout: 2)
            #expect(silent.run.status == 69)
            #expect(silent.seconds < 8)
            #expect(silent.run.errors.contains("no answer within 2"), "\(silent.run.errors)")
            for run in [refused.run, silent.run] {
                let lines = run.errors.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].hasPrefix("patronctl: cannot reach the broker (amqp://patron@127.0.0.1:"), "\(run.errors)")
                #expect(!run.errors.contains(".swift:") && !run.errors.contains("status -"), "\(run.errors)")
                #expect(!run.errors.contains("patron:patron@"), "no password in messages")
            }
        }

        /// A TCP listener that accepts connections and never answers, and its port.
        static func silentListener() throws -> (process: Process, port: Int) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", """
                import socket, sys, time
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
                print(s.getsockname()[1], flush=True)
                held = []
                while True:
                    c, _ = s.accept(); held.append(c)
                """]
            let output = Pipe()
            process.standardOutput = output
            // Not the test run's own output, which the runner waits on until every writer is gone.
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            while !text.contains("\n") {
                let data = output.fileHandleForReading.availableData
                guard !data.isEmpty else { break }
                text += String(decoding: data, as: UTF8.self)
            }
            guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                process.terminate()
                throw CocoaError(.fileReadCorruptFile)
            }
            return (process, port)
        }

        @Test func aLongFileGoesInPartsAndRejectionsKeepTheirFileLines() async throws {
            try await withRunningPatron { setup, _, _ in
                var lines = ["Correo;Nombre;País"]
                for index in 1...250 {
                    // Row 120 spans two lines; row 200 names no country Patron knows.
                    let name = index == 120 ? "\"Ana\nMaría\"" : "Guest \(index)"
                    lines.append("guest\(index)@example.com;\(name);\(index == 200 ? "Narnia" : "ES")")
                }
                let file = setup.directory.appendingPathComponent("guests.csv")
                try Data(("\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n").utf8).write(to: file)
                let run = try Self.patronctl(setup, ["customers", "import", file.path, "--rows-per-request", "100", "--json"])
                #expect(run.status == 65)
                #expect(run.json?["created"] == .integer(249))
                // Header on line 1, row n on line n + 1, and one more after the two-line row.
                #expect(run.json?["rejected"] == .array([.object(["line": .integer(202), "field": .string("País"),
                                                                  "reason": .string("not an ISO 3166-1 alpha-2 code or a known country name")])]))
            }
        }

        /// `migrate-storage` on the files of a stopped patrond: the copy verifies, a second run
        /// copies nothing, and bad arguments get their exit codes.
        @Test func migrateStorageCopiesAStoppedPatronsDatabaseIntoPostgreSQL() async throws {
            try await withRunningPatron { setup, broker, patron in
                try await CustomerCommands.publishAnaAndBen(setup, broker)
                try await patron.stop()
                let (url, database) = try await TestSetup.freshPostgres()
                await database.close()
                func migrate(_ arguments: [String]) throws -> Run {
                    try Self.patronctl(["migrate-storage"] + arguments, unset: ["PATRON_DATABASE_URL"])
                }
                let first = try migrate(["--from", setup.databasePath, "--to", url, "--json"])
                #expect(first.status == 0, "\(first.errors)")
                let tables = try JSONParser.parse(Array(first.output.utf8)).arrayValue ?? []
                #expect(tables.allSatisfy { $0["verified"] == .bool(true) })
                #expect(tables.first { $0["table"] == .string("event_journal") }?["copied"] == .integer(3))
                let second = try migrate(["--from", setup.databasePath, "--to", url])
                #expect(second.status == 0, "\(second.errors)")
                let rows = second.output.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
                #expect(!rows.isEmpty && rows.allSatisfy { $0.hasSuffix("yes") }, "\(second.output)")
                #expect(try migrate(["--from", setup.directory.appendingPathComponent("missing.sqlite").path, "--to", url]).status == 66)
                #expect(try migrate(["--from", setup.databasePath, "--to", "mysql://x@h/db"]).status == 64)
                #expect(try migrate(["--from", setup.databasePath]).status == 64, "no URL and no PATRON_DATABASE_URL")
            }
        }
    }
}
