import Foundation
import Testing
import GRDB
import PatronDomain
import PatronPhone
import Logging
@testable import PatronService
@testable import PatronStorage

/// The engines the record suites run on. PostgreSQL is the server scripts/test starts
/// (`PATRON_TEST_DATABASE_URL`); a test that cannot reach it fails.
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// A fresh PostgreSQL database per fixture, on the test server.
enum TestPostgres {
    static func freshDatabase() async throws -> PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["PATRON_TEST_DATABASE_URL"] else {
            throw TestSetupError("PATRON_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
        }
        let name = "patron_test_" + UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: "")
        return try await PatronPostgresDatabase.createDatabase(on: PostgresLocation(url: url), named: name, logger: Logger(label: "test"))
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A real database (a SQLite file in a temporary directory, or a fresh PostgreSQL database), fed
/// through the real decoder and store.
final class RecordsFixture {
    let engine: Engine
    let directory: URL
    private let sqlite: PatronDatabase?
    let postgres: PatronPostgresDatabase?
    private var replicas: [PatronPostgresDatabase] = []
    let store: any RecordStore
    /// The stores besides the records, on the same database.
    let stores: Storage.Stores
    let decoder: EventDecoder
    let rules: RecordRules
    let composer: DispatchComposer
    let ruleRunner: DispatchRuleRunner
    static let phones = LibPhoneNumberNormalizer()
    static let hashKey = String(repeating: "k", count: 32)

    /// The SQLite database, for the suites that run on SQLite only (search, exports, …).
    var database: PatronDatabase { sqlite! }

    /// On SQLite.
    /// - Parameter dispatch: templates and rules; the rules fire on what is ingested.
    convenience init(rules: RecordRules = RecordRules(), dispatch: PatronConfiguration.Dispatch = .init()) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-records-\(UUID().uuidString)")
        try self.init(engine: .sqlite, directory: directory, sqlite: PatronDatabase.open(directory: directory.path), postgres: nil,
                      rules: rules, dispatch: dispatch)
    }

    /// On SQLite, on the file in `directory`, upgraded as patrond opens it.
    static func upgrading(_ directory: URL) throws -> RecordsFixture {
        try RecordsFixture(engine: .sqlite, directory: directory, sqlite: PatronDatabase.open(directory: directory.path), postgres: nil,
                           rules: RecordRules(), dispatch: .init())
    }

    /// On either engine.
    static func open(_ engine: Engine, rules: RecordRules = RecordRules(), dispatch: PatronConfiguration.Dispatch = .init()) async throws -> RecordsFixture {
        switch engine {
        case .sqlite:
            return try RecordsFixture(rules: rules, dispatch: dispatch)
        case .postgres:
            // One session besides the writer: the suites run in parallel, each fixture with a database of its own.
            let database = try await PatronPostgresDatabase.open(try await TestPostgres.freshDatabase(), otherSessions: 1, logger: Logger(label: "test"))
            // A directory of its own too, for the files its exports write.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-records-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try RecordsFixture(engine: .postgres, directory: directory, sqlite: nil, postgres: database,
                                      rules: rules, dispatch: dispatch)
        }
    }

    private init(engine: Engine, directory: URL, sqlite: PatronDatabase?, postgres: PatronPostgresDatabase?, rules: RecordRules,
                 dispatch: PatronConfiguration.Dispatch) throws {
        self.engine = engine
        self.directory = directory
        self.sqlite = sqlite
        self.postgres = postgres
        self.rules = rules
        let library = try dispatch.templatesDirectory.map { try TemplateLibrary.load(directory: $0, defaultLanguage: "es") } ?? .empty
        composer = DispatchComposer(templates: TemplateStore(library), settings: dispatch, phones: Self.phones,
                                    defaultCountry: rules.defaultCountry, tokens: UnsubscribeTokens(secret: Self.hashKey))
        ruleRunner = DispatchRuleRunner(composer: composer, rules: dispatch.rules, firings: DispatchFiringSignal())
        let applier = RecordApplier(rules: rules, hasher: HMACIdentityHasher(key: Self.hashKey))
        let reactor = dispatch.rules.isEmpty ? nil : ruleRunner
        let storage: Storage = if let postgres { .postgres(postgres) } else { .sqlite(sqlite!) }
        store = storage.records(applier: applier, reactor: reactor)
        stores = try storage.stores()
        decoder = EventDecoder(rules: rules, phones: Self.phones)
    }

    /// Composes the jobs of the rules due by `now`, as patrond's timer loop does right after the
    /// commit that fired them.
    func fireDueRules(at now: Timestamp = .now) async throws {
        try await DispatchTimers(outbox: stores.dispatchOutbox, store: store, runner: ruleRunner, logger: Logger(label: "test")).fireDue(now: now)
    }

    func dispatchSender() -> DispatchSender {
        DispatchSender(store: store, export: stores.customerRows, composer: composer, logger: Logger(label: "test")) { _ in }
    }

    deinit {
        for database in replicas + [postgres].compactMap({ $0 }) { Task { await database.close() } }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Decodes (must be accepted) and records the events as one batch.
    @discardableResult
    func ingest(_ bodies: [String]) async throws -> RecordOutcome {
        try await store.record(accepted(bodies))
    }

    /// The events as the ingest hands them to a store.
    func accepted(_ bodies: [String]) throws -> [AcceptedEvent] {
        try bodies.map { body in
            let bytes = Array(body.utf8)
            let decoded = try decoder.decode(body: bytes, context: MessageContext(routingKey: "x")).get()
            return AcceptedEvent(event: decoded, routingKey: decoded.envelope.type.rawValue, receivedAt: .init(microseconds: 0), body: bytes)
        }
    }

    /// PostgreSQL only: another replica's store (without dispatch rules), with a connection of its
    /// own to the same database.
    func replica(transactionSize: Int = 50) async throws -> any RecordStore {
        let database = try await PatronPostgresDatabase.open(postgres!.location, otherSessions: 1, logger: Logger(label: "test"))
        replicas.append(database)
        return PostgresEventStore(database: database, applier: RecordApplier(rules: rules, hasher: HMACIdentityHasher(key: Self.hashKey)),
                                  transactionSize: transactionSize)
    }

    /// PostgreSQL only: another replica's stores besides the records, on a connection of its own.
    func replicaStores() async throws -> Storage.Stores {
        let database = try await PatronPostgresDatabase.open(postgres!.location, otherSessions: 1, logger: Logger(label: "test"))
        replicas.append(database)
        return try Storage.postgres(database).stores()
    }

    @discardableResult
    func ingest(_ bodies: String...) async throws -> RecordOutcome { try await ingest(bodies) }

    /// SQLite only: GRDB's reading API.
    func read<T: Sendable>(_ block: @Sendable (Database) throws -> T) async throws -> T {
        try await database.pool.read(block)
    }

    /// Every row of a query in the SQL both engines take, column name → value.
    func rows(_ sql: String, _ values: [SQLValue] = []) async throws -> [[String: SQLValue]] {
        if let postgres {
            return try await postgres.writer.perform { try $0.all(sql, values) { Self.columns($0) } }
        }
        return try await database.pool.read { try SQLiteStatements(db: $0).all(sql, values) { Self.columns($0) } }
    }

    private static func columns(_ row: some ColumnReader) -> [String: SQLValue] {
        Dictionary(uniqueKeysWithValues: (0..<row.columnCount).map { (row.columnName($0), row.value($0)) })
    }

    /// Runs SQL statements on the PostgreSQL database (a test's own trigger, say).
    /// Runs a statement in the SQL both engines take, in a transaction of its own.
    func run(_ sql: String, _ values: [SQLValue] = []) async throws {
        if let postgres {
            try await postgres.writer.perform { try $0.run(sql, values) }
        } else {
            try await SQLiteEngine(database: database).write { try $0.run(sql, values) }
        }
    }

    func executeOnPostgres(_ script: String) async throws {
        try await postgres!.writer.perform { try $0.session.execute(script: script) }
    }

    /// The first column of every row.
    func column(_ sql: String, _ values: [SQLValue] = []) async throws -> [SQLValue] {
        try await rows(sql, values).map { row in row.count == 1 ? row.values.first! : .null }
    }

    func integer(_ sql: String, _ values: [SQLValue] = []) async throws -> Int64? { try await column(sql, values).first?.integerValue }
    func texts(_ sql: String, _ values: [SQLValue] = []) async throws -> [String] { try await column(sql, values).compactMap(\.textValue) }

    /// Live customers whose maintained figures or spend differ from a recount of their bookings
    /// (the definitions of EVENTS.md, written once more in SQL).
    func figuresDifferingFromARecount() async throws -> Int64 {
        try await integer("""
            WITH orders AS (SELECT * FROM bookings WHERE status IN ('confirmed', 'completed')),
            fresh AS (
                SELECT c.id,
                    (SELECT count(*) FROM orders b WHERE b.customer_id = c.id) AS orders,
                    (SELECT count(*) FROM bookings b WHERE b.customer_id = c.id AND b.status = 'no_show') AS no_shows,
                    (SELECT coalesce(sum(amount_minor), 0) FROM orders b WHERE b.customer_id = c.id) AS spent,
                    (SELECT min(first_seen_at) FROM orders b WHERE b.customer_id = c.id) AS first_order,
                    (SELECT max(first_seen_at) FROM orders b WHERE b.customer_id = c.id) AS last_order,
                    (SELECT count(*) FROM bookings b WHERE b.customer_id = c.id) AS bookings_count,
                    (SELECT count(*) FROM bookings b WHERE b.customer_id = c.id AND b.status = 'completed') AS completed_stays
                FROM customers c WHERE c.merged_into IS NULL)
            SELECT count(*) FROM fresh JOIN customers c ON c.id = fresh.id
            WHERE c.orders != fresh.orders OR c.no_shows != fresh.no_shows OR c.first_order_at IS DISTINCT FROM fresh.first_order
               OR c.last_order_at IS DISTINCT FROM fresh.last_order OR c.bookings_count != fresh.bookings_count
               OR c.completed_stays != fresh.completed_stays
               OR fresh.spent != coalesce((SELECT sum(total_minor) FROM customer_spend s WHERE s.customer_id = c.id), 0)
               OR fresh.orders != coalesce((SELECT sum(orders) FROM customer_spend s WHERE s.customer_id = c.id), 0)
            """) ?? -1
    }

    func liveCount() async throws -> Int64 {
        try await integer("SELECT count(*) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL") ?? -1
    }

    /// The customer row a number answers to (following merges), column → value.
    func customer(_ number: String) async throws -> [String: SQLValue]? {
        guard var id = try await integer("SELECT customer_id FROM customer_numbers WHERE number = ?", [.text(number)]) else { return nil }
        while let next = try await integer("SELECT merged_into FROM customers WHERE id = ?", [.integer(id)]) { id = next }
        return try await rows("SELECT * FROM customers WHERE id = ?", [.integer(id)]).first
    }

    /// Where what is kept beside the records disagrees with them: on both engines, a booking or
    /// spend row whose live owner is stale; on SQLite, also the search table and its word index
    /// (a live customer without a search row or a merged or erased one with it, a stale folded
    /// column, a booking's stale folded fields, any value the word index finds in other rows
    /// than a plain substring test does).
    func searchIndexDisagreements() async throws -> [String] {
        var problems = try await texts("""
            SELECT 'booking ' || b.ref || ': live owner stale' FROM bookings b LEFT JOIN customers c ON c.id = b.customer_id
            WHERE b.live_customer_id IS DISTINCT FROM (CASE WHEN c.merged_into IS NULL AND c.erased_at IS NULL THEN c.id END)
            UNION ALL
            SELECT 'spend of customer ' || p.customer_id || ': live owner stale' FROM customer_spend p JOIN customers c ON c.id = p.customer_id
            WHERE p.live_customer_id IS DISTINCT FROM (CASE WHEN c.merged_into IS NULL AND c.erased_at IS NULL THEN c.id END)
            """)
        guard engine == .sqlite else { return problems }
        problems += try await read { db in
            var problems: [String] = []
            let misplaced = try Int64.fetchAll(db, sql: """
                SELECT c.id FROM customers c LEFT JOIN customer_search s ON s.customer_id = c.id
                WHERE (c.merged_into IS NULL AND c.erased_at IS NULL) != (s.customer_id IS NOT NULL)
                """)
            problems += misplaced.map { "customer \($0): search row present iff live is false" }
            // Every search column against its customers fields, folded afresh.
            let expected = [
                "name": "patron_fold(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, ''))",
                "first_name": "patron_fold(c.first_name)", "last_name": "patron_fold(c.last_name)", "company": "patron_fold(c.company)",
                "contact": "patron_fold(c.contact)", "city": "patron_fold(c.city)", "zip": "patron_fold(c.zip)",
                "address": "patron_fold(coalesce(c.address_line1, '') || ' ' || coalesce(c.address_line2, ''))",
                "tags": "patron_fold(char(31) || c.tags || char(31))",
                "sort_name": "coalesce(nullif(patron_fold(c.last_name), ''), patron_fold(c.first_name), '') || char(1) || coalesce(patron_fold(c.first_name), '')",
            ]
            for (column, value) in expected.sorted(by: { $0.key < $1.key }) {
                let stale = try Int64.fetchAll(db, sql: """
                    SELECT c.id FROM customers c JOIN customer_search s ON s.customer_id = c.id WHERE s.\(column) IS NOT coalesce(\(value), '')
                    """)
                problems += stale.map { "customer \($0): stale search \(column)" }
            }
            let folded = try String.fetchAll(db, sql: """
                SELECT ref FROM bookings WHERE hotel_key IS NOT patron_fold(hotel) OR salesperson_key IS NOT patron_fold(salesperson)
                   OR transport_key IS NOT patron_fold(transport)
                """)
            problems += folded.map { "booking \($0): folded fields stale" }
            for column in ["first_name", "last_name", "company", "contact", "address", "tags"] {
                for value in try String.fetchAll(db, sql: "SELECT DISTINCT \(column) FROM customer_search WHERE length(\(column)) >= 3") {
                    let phrase = "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                    let indexed = try Int64.fetchAll(db, sql: "SELECT rowid FROM customer_words WHERE customer_words MATCH ? ORDER BY rowid",
                                                     arguments: ["\(column) : \(phrase)"])
                    let scanned = try Int64.fetchAll(db, sql: "SELECT customer_id FROM customer_search WHERE instr(\(column), ?) > 0 ORDER BY customer_id",
                                                     arguments: [value])
                    if indexed != scanned { problems.append("\(column) '\(value)': index \(indexed), rows \(scanned)") }
                }
            }
            // Every transaction hands its queued word changes to the index before it commits.
            problems += try String.fetchAll(db, sql: "SELECT 'words of customer ' || customer_id || ' still queued' FROM customer_words_pending")
            return problems
        }
        return problems
    }

    /// Every live record in a canonical text form: fields with their times, identifiers,
    /// bookings, payments, carts, threads, messages, consent, tags, aggregates. Internal ids and
    /// Patron-assigned numbers are left out, so two databases built in different orders compare.
    func canonicalDump() async throws -> [String] {
        var lines: [String] = []
        for row in try await rows("SELECT * FROM customers WHERE merged_into IS NULL ORDER BY id") {
            let id = row["id"]!
            var parts: [String] = []
            parts.append(row["number_assigned"] == .integer(1) ? "number=P-*" : "number=\(row.text("customer_no") ?? "")")
            for (column, value) in row.sorted(by: { $0.key < $1.key }) where !["id", "customer_no", "number_assigned"].contains(column) {
                parts.append("\(column)=\(value)")
            }
            for (label, sql) in [
                ("identifiers", "SELECT kind || ':' || key || ':' || display || ':' || matchable FROM customer_identifiers WHERE customer_id = ?"),
                ("spend", "SELECT currency || ':' || total_minor || ':' || orders FROM customer_spend WHERE customer_id = ?"),
                ("bookings", """
                    SELECT ref || ':' || coalesce(status, '') || ':' || coalesce(CAST(status_at AS TEXT), '') || ':'
                        || coalesce(CAST(amount_minor AS TEXT), '') || ':' || first_seen_at || ':' || coalesce(hotel, '')
                    FROM bookings WHERE customer_id = ?
                    """),
                ("payments", "SELECT reference || ':' || amount_minor || ':' || coalesce(status, '') FROM payments WHERE customer_id = ?"),
                ("carts", "SELECT id || ':' || coalesce(status, '') || ':' || updated_at FROM carts WHERE customer_id = ?"),
                ("threads", "SELECT thread_id || ':' || opened_at || ':' || coalesce(CAST(first_response_at AS TEXT), '') FROM threads WHERE customer_id = ?"),
                ("consent", "SELECT opted_in || ':' || occurred_at || ':' || event_id FROM consent_statements WHERE customer_id = ?"),
            ] {
                let values = try await texts(sql, [id]).sorted()
                parts.append("\(label)=[\(values.joined(separator: ","))]")
            }
            lines.append(parts.joined(separator: " "))
        }
        return lines.sorted()
    }
}

extension SQLValue {
    var integerValue: Int64? { if case .integer(let value) = self { value } else { nil } }
    var textValue: String? { if case .text(let value) = self { value } else { nil } }
}

extension Dictionary where Key == String, Value == SQLValue {
    func text(_ column: String) -> String? { self[column]?.textValue }
    func int(_ column: String) -> Int64? { self[column]?.integerValue }
}

/// Builds event JSON for the tests.
enum Events {
    static func at(_ minute: Int) -> String {
        String(format: "2026-11-20T%02d:%02d:00Z", 8 + minute / 60, minute % 60)
    }

    static func make(_ id: String, _ type: String, minute: Int, _ data: String) -> String {
        #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(at(minute))","source":"test","data":\#(data)}"#
    }

    static func booking(_ id: String, minute: Int, customer: String, ref: String, status: String = "confirmed",
                        amount: String = "\"100.00\"", type: String = "booking.created") -> String {
        make(id, type, minute: minute, #"{"customer":\#(customer),"booking":{"ref":"\#(ref)","status":"\#(status)","hotel":"Hotel Donostia","arrival":"2026-12-01","departure":"2026-12-04","amount":\#(amount),"currency":"EUR"}}"#)
    }

    static func status(_ id: String, _ type: String, minute: Int, ref: String) -> String {
        make(id, type, minute: minute, #"{"booking":{"ref":"\#(ref)"}}"#)
    }

    static func profile(_ id: String, minute: Int, _ customer: String) -> String {
        make(id, "customer.updated", minute: minute, #"{"customer":\#(customer)}"#)
    }
}
