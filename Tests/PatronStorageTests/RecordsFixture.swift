import Foundation
import GRDB
import PatronDomain
import PatronPhone
import Logging
@testable import PatronService
import PatronStorage

/// A real SQLite database in a temporary directory, fed through the real decoder and store.
final class RecordsFixture {
    let directory: URL
    let database: PatronDatabase
    let store: SQLiteEventStore
    let decoder: EventDecoder
    let rules: RecordRules
    let composer: DispatchComposer
    let ruleRunner: DispatchRuleRunner
    static let phones = LibPhoneNumberNormalizer()
    static let hashKey = String(repeating: "k", count: 32)

    /// - Parameter dispatch: templates and rules; the rules fire on what is ingested.
    init(rules: RecordRules = RecordRules(), dispatch: PatronConfiguration.Dispatch = .init()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-records-\(UUID().uuidString)")
        database = try PatronDatabase.open(directory: directory.path)
        self.rules = rules
        let library = try dispatch.templatesDirectory.map { try TemplateLibrary.load(directory: $0, defaultLanguage: "es") } ?? .empty
        composer = DispatchComposer(templates: TemplateStore(library), settings: dispatch, phones: Self.phones,
                                    defaultCountry: rules.defaultCountry, tokens: UnsubscribeTokens(secret: Self.hashKey))
        ruleRunner = DispatchRuleRunner(composer: composer, rules: dispatch.rules)
        store = SQLiteEventStore(database: database, applier: RecordApplier(rules: rules, hasher: HMACIdentityHasher(key: Self.hashKey)),
                                 reactor: dispatch.rules.isEmpty ? nil : ruleRunner)
        decoder = EventDecoder(rules: rules, phones: Self.phones)
    }

    func dispatchSender() -> DispatchSender {
        DispatchSender(store: store, export: SQLiteCustomerExport(database: database), composer: composer, logger: Logger(label: "test")) { _ in }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Decodes (must be accepted) and records the events as one batch.
    @discardableResult
    func ingest(_ bodies: [String]) async throws -> RecordOutcome {
        let events = try bodies.map { body in
            let bytes = Array(body.utf8)
            let decoded = try decoder.decode(body: bytes, context: MessageContext(routingKey: "x")).get()
            return AcceptedEvent(event: decoded, routingKey: decoded.envelope.type.rawValue, receivedAt: .init(microseconds: 0), body: bytes)
        }
        return try await store.record(events)
    }

    @discardableResult
    func ingest(_ bodies: String...) async throws -> RecordOutcome { try await ingest(bodies) }

    func read<T: Sendable>(_ block: @Sendable (Database) throws -> T) async throws -> T {
        try await database.pool.read(block)
    }

    /// Live customers whose maintained figures or spend differ from a recount of their bookings
    /// (the definitions of EVENTS.md, written once more in SQL).
    func figuresDifferingFromARecount() async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: """
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
                WHERE c.orders != fresh.orders OR c.no_shows != fresh.no_shows OR c.first_order_at IS NOT fresh.first_order
                   OR c.last_order_at IS NOT fresh.last_order OR c.bookings_count != fresh.bookings_count
                   OR c.completed_stays != fresh.completed_stays
                   OR fresh.spent != coalesce((SELECT sum(total_minor) FROM customer_spend s WHERE s.customer_id = c.id), 0)
                   OR fresh.orders != coalesce((SELECT sum(orders) FROM customer_spend s WHERE s.customer_id = c.id), 0)
                """)!
        }
    }

    func liveCount() async throws -> Int {
        try await read { try Int.fetchOne($0, sql: "SELECT count(*) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL")! }
    }

    /// The customer row a number answers to (following merges), column → value.
    func customer(_ number: String) async throws -> [String: DatabaseValue]? {
        try await read { db in
            guard var id = try Int64.fetchOne(db, sql: "SELECT customer_id FROM customer_numbers WHERE number = ?", arguments: [number]) else {
                return nil
            }
            while let next = try Int64.fetchOne(db, sql: "SELECT merged_into FROM customers WHERE id = ?", arguments: [id]) { id = next }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM customers WHERE id = ?", arguments: [id]) else { return nil }
            return Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, row[$0] as DatabaseValue) })
        }
    }

    /// Where the search table and its word index disagree with the customers they are kept from:
    /// a live customer without a search row or a merged or erased one with it, a search row whose
    /// folded name is stale, a booking or spend row whose live owner (or folded fields) are, and
    /// any value the word index finds in other rows than a plain substring test does (stale
    /// entries of deleted or changed rows included).
    func searchIndexDisagreements() async throws -> [String] {
        try await read { db in
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
            // What booking filters read: the owner while it is live, and the folded fields.
            let owners = try String.fetchAll(db, sql: """
                SELECT b.ref FROM bookings b LEFT JOIN customers c ON c.id = b.customer_id
                WHERE b.live_customer_id IS NOT (CASE WHEN c.merged_into IS NULL AND c.erased_at IS NULL THEN c.id END)
                   OR b.hotel_key IS NOT patron_fold(b.hotel) OR b.salesperson_key IS NOT patron_fold(b.salesperson)
                   OR b.transport_key IS NOT patron_fold(b.transport)
                """)
            problems += owners.map { "booking \($0): live owner or folded fields stale" }
            let spenders = try Int64.fetchAll(db, sql: """
                SELECT p.customer_id FROM customer_spend p JOIN customers c ON c.id = p.customer_id
                WHERE p.live_customer_id IS NOT (CASE WHEN c.merged_into IS NULL AND c.erased_at IS NULL THEN c.id END)
                """)
            problems += spenders.map { "spend of customer \($0): live owner stale" }
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
            return problems
        }
    }

    /// Every live record in a canonical text form: fields with their times, identifiers,
    /// bookings, payments, carts, threads, messages, consent, tags, aggregates. Internal ids and
    /// Patron-assigned numbers are left out, so two databases built in different orders compare.
    func canonicalDump() async throws -> [String] {
        try await read { db in
            let customers = try Row.fetchAll(db, sql: "SELECT * FROM customers WHERE merged_into IS NULL ORDER BY id")
            var lines: [String] = []
            for row in customers {
                let id: Int64 = row["id"]
                var parts: [String] = []
                let assigned: Bool = row["number_assigned"]
                parts.append(assigned ? "number=P-*" : "number=\(row["customer_no"] as String)")
                for column in row.columnNames where !["id", "customer_no", "number_assigned"].contains(column) {
                    parts.append("\(column)=\(row[column] as DatabaseValue)")
                }
                for (label, sql) in [
                    ("identifiers", "SELECT kind || ':' || key || ':' || display || ':' || matchable FROM customer_identifiers WHERE customer_id = ?"),
                    ("spend", "SELECT currency || ':' || total_minor || ':' || orders FROM customer_spend WHERE customer_id = ?"),
                    ("bookings", "SELECT ref || ':' || coalesce(status, '') || ':' || coalesce(status_at, '') || ':' || coalesce(amount_minor, '') || ':' || first_seen_at || ':' || coalesce(hotel, '') FROM bookings WHERE customer_id = ?"),
                    ("payments", "SELECT reference || ':' || amount_minor || ':' || coalesce(status, '') FROM payments WHERE customer_id = ?"),
                    ("carts", "SELECT id || ':' || coalesce(status, '') || ':' || updated_at FROM carts WHERE customer_id = ?"),
                    ("threads", "SELECT thread_id || ':' || opened_at || ':' || coalesce(first_response_at, '') FROM threads WHERE customer_id = ?"),
                    ("consent", "SELECT opted_in || ':' || occurred_at || ':' || event_id FROM consent_statements WHERE customer_id = ?"),
                ] {
                    let values = try String.fetchAll(db, sql: sql, arguments: [id]).sorted()
                    parts.append("\(label)=[\(values.joined(separator: ","))]")
                }
                lines.append(parts.joined(separator: " "))
            }
            return lines.sorted()
        }
    }
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
