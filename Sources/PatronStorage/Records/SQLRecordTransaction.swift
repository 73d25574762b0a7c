import Foundation
import PatronDomain

/// ``RecordTransaction`` and ``DispatchTransaction`` on one connection inside a write
/// transaction, in the SQL that SQLite and PostgreSQL share; `Statements` runs it and spells the
/// rest.
struct SQLRecordTransaction<Statements: SQLStatements>: RecordTransaction, DispatchTransaction {
    let statements: Statements
    /// Each customer's columns as last loaded or saved in this transaction: a save writes only
    /// the columns that differ, or nothing. Writing every column rewrote every index on the
    /// customers table on each event (perf: a third of apply time once the Customer Center's
    /// indexes existed).
    private let written = WrittenRows()

    init(_ statements: Statements) {
        self.statements = statements
    }

    final class WrittenRows {
        var values: [CustomerID: [SQLValue]] = [:]
        /// Created, not yet saved: the number each is to answer to.
        var unsaved: [CustomerID: String] = [:]
        var created: Set<CustomerID> = []
    }

    /// The customers this transaction created.
    var created: Set<CustomerID> { written.created }

    /// Forgets what was loaded: after a rollback the rows may hold other values.
    func forgetLoadedRows() {
        written.values.removeAll()
        written.unsaved.removeAll()
    }

    private var bookingRows: RowInsert {
        statements.replaceRows(table: "bookings", key: "ref", columns: RecordSQL.bookingUpsertColumns, values: RecordSQL.bookingUpsertValues)
    }

    private var paymentRows: RowInsert {
        statements.replaceRows(table: "payments", key: "reference", columns: RecordSQL.paymentColumns, values: numberedParameters(RecordSQL.paymentColumns.count))
    }

    private var cartRows: RowInsert {
        statements.replaceRows(table: "carts", key: "id", columns: RecordSQL.cartColumns, values: numberedParameters(RecordSQL.cartColumns.count))
    }

    private var threadRows: RowInsert {
        statements.replaceRows(table: "threads", key: "thread_id", columns: RecordSQL.threadColumns, values: numberedParameters(RecordSQL.threadColumns.count))
    }

    // MARK: Identity

    func customers(matching identifiers: [Identifier]) throws -> Set<CustomerID> {
        var ids = Set<CustomerID>()
        for identifier in identifiers {
            ids.formUnion(try statements.all("SELECT customer_id FROM customer_identifiers WHERE kind = ? AND key = ? AND matchable = 1",
                                             .text(identifier.kind.rawValue), .text(identifier.key)) { $0.integer(0) })
        }
        return ids
    }

    func customer(numbered number: String) throws -> CustomerID? {
        guard var id = try customerIgnoringMerges(numbered: number) else { return nil }
        while let (mergedInto, erased) = try statements.first("SELECT merged_into, erased_at FROM customers WHERE id = ?", .integer(id),
                                                               read: { ($0.integerOrNil(0), !$0.isNull(1)) }) {
            if erased { return nil }
            guard let next = mergedInto else { return id }
            id = next
        }
        return nil
    }

    func customerIgnoringMerges(numbered number: String) throws -> CustomerID? {
        try statements.first("SELECT customer_id FROM customer_numbers WHERE number = ?", .text(number)) { $0.integer(0) }
    }

    func loadCustomer(_ id: CustomerID) throws -> CustomerRecord {
        guard let record = try statements.first(RecordSQL.selectCustomer, .integer(id), read: { RecordSQL.customer(id, from: $0) }) else {
            throw RecordNotFound(what: "customer \(id)")
        }
        written.values[id] = RecordSQL.customerValues(record)
        return record
    }

    /// A record read by other means (several in one statement) is what the row holds now: a save
    /// then writes only the columns that differ from it.
    func noteLoaded(_ record: CustomerRecord) {
        written.values[record.id] = RecordSQL.customerValues(record)
    }

    /// The id is taken now, so the record has it before its first save inserts it.
    func createCustomer(number: String?, firstContactAt: Timestamp) throws -> CustomerRecord {
        let id = try statements.newCustomerID(reserved: written.unsaved.keys.max())
        let customerNo = number ?? RecordSQL.assignedNumber(id)
        written.unsaved[id] = customerNo
        written.created.insert(id)
        return CustomerRecord(id: id, customerNo: customerNo, numberAssigned: number == nil, firstContactAt: firstContactAt)
    }

    /// Whether the customer was created in this transaction and not saved yet.
    func isUnsaved(_ id: CustomerID) -> Bool { written.unsaved[id] != nil }

    /// Customers created in this transaction, each row written once and whole, with the numbers
    /// they answer to.
    func insertCustomers(_ records: [CustomerRecord]) throws {
        var rows: [[SQLValue]] = []
        var numbers: [[SQLValue]] = []
        for record in records {
            guard let number = written.unsaved.removeValue(forKey: record.id) else { preconditionFailure("customer \(record.id) is not new") }
            let values = RecordSQL.customerValues(record)
            rows.append(values + [.integer(record.id)])
            numbers.append([.text(number), .integer(record.id)])
            written.values[record.id] = values
        }
        try RecordSQL.customerRows.run(rows, on: statements)
        try RecordSQL.numberRows.run(numbers, on: statements)
    }

    func saveCustomer(_ record: CustomerRecord) throws {
        let values = RecordSQL.customerValues(record)
        if let number = written.unsaved.removeValue(forKey: record.id) {
            try statements.run(RecordSQL.insertCustomer, values + [.integer(record.id)])
            try addNumber(number, to: record.id)
            written.values[record.id] = values
            return
        }
        let changed = written.values[record.id].map { before in values.indices.filter { values[$0] != before[$0] } }
            ?? Array(values.indices)
        guard !changed.isEmpty else { return }
        let sql = changed.count == values.count ? RecordSQL.updateCustomer
            : "UPDATE customers SET \(changed.map { "\(RecordSQL.customerColumns[$0]) = ?" }.joined(separator: ", ")) WHERE id = ?"
        try statements.run(sql, changed.map { values[$0] } + [.integer(record.id)])
        written.values[record.id] = values
    }

    func addIdentifiers(_ identifiers: [Identifier], to customer: CustomerID, at time: Timestamp) throws {
        try RecordSQL.identifierRows.run(identifiers.map { identifier in
            [.text(identifier.kind.rawValue), .text(identifier.key), .integer(customer), .text(identifier.display), .of(time), .of(identifier.matchable)]
        }, on: statements)
    }

    func addNumber(_ number: String, to customer: CustomerID) throws {
        try RecordSQL.numberRows.run([[.text(number), .integer(customer)]], on: statements)
    }

    func addConsent(_ statement: ConsentStatement, to customer: CustomerID) throws {
        try RecordSQL.consentRows.run([RecordSQL.consentValues(statement, customer: customer)], on: statements)
    }

    /// Group names are unique without regard to (ASCII) case.
    func joinCustomGroup(named name: String, customer: CustomerID) throws {
        try statements.run("UPDATE customers SET custom_group_id = (SELECT id FROM customer_groups WHERE lower(name) = lower(?)) WHERE id = ?",
                           .text(name), .integer(customer))
    }

    func addNote(text: String, author: String, at time: Timestamp, to customer: CustomerID) throws {
        try statements.run("INSERT INTO customer_notes (customer_id, text, author, created_at) VALUES (?, ?, ?, ?)",
                           .integer(customer), .text(text), .text(author), .of(time))
    }

    func recordIssue(_ issue: RecordIssue) throws {
        try statements.run("INSERT INTO record_issues (kind, customer_ids, event_id, detail) VALUES (?, ?, ?, ?)",
                           .text(issue.kind.rawValue), .text(issue.customerIDs.map(String.init).joined(separator: ",")), .of(issue.eventID),
                           .text(issue.detail))
    }

    func enqueue(_ announcement: Announcement) throws {
        let body = try JSONOutput.encode(JSONValue.object(announcement.body))
        try statements.run("INSERT INTO outbox (message_id, routing_key, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           .text(announcement.id), .text(announcement.type), .blob([UInt8](body)))
    }

    // MARK: Bookings, payments, carts, threads

    func booking(ref: String) throws -> BookingRecord? {
        try statements.first(RecordSQL.selectBooking + " WHERE ref = ?", .text(ref), read: { RecordSQL.booking(from: $0) })
    }

    func saveBooking(_ booking: BookingRecord) throws {
        try saveBookings([booking])
    }

    func saveBookings(_ bookings: [BookingRecord]) throws {
        try bookingRows.run(bookings.map(RecordSQL.bookingValues), on: statements)
    }

    func bookings(of customer: CustomerID) throws -> [BookingRecord] {
        try statements.all(RecordSQL.selectBooking + " WHERE customer_id = ?", .integer(customer), read: { RecordSQL.booking(from: $0) })
    }

    func addSpend(_ minorUnits: Int64, orders: Int, currency: String, to customer: CustomerID) throws {
        try statements.run("""
            INSERT INTO customer_spend (customer_id, currency, total_minor, orders, live_customer_id)
            VALUES (?1, ?2, ?3, ?4, \(LiveSpendOwnerSchema.liveOwner))
            ON CONFLICT (customer_id, currency) DO UPDATE SET total_minor = customer_spend.total_minor + excluded.total_minor,
                orders = customer_spend.orders + excluded.orders
            """, .integer(customer), .text(currency), .integer(minorUnits), .integer(Int64(orders)))
        if orders < 0 { try removeEmptySpend(of: customer, currency: currency) }
    }

    /// A currency in which the customer has no order left is not listed.
    func removeEmptySpend(of customer: CustomerID, currency: String) throws {
        try statements.run("DELETE FROM customer_spend WHERE customer_id = ? AND currency = ? AND orders = 0", .integer(customer), .text(currency))
    }

    func replaceSpend(_ aggregates: CustomerAggregates, of customer: CustomerID) throws {
        try statements.run("DELETE FROM customer_spend WHERE customer_id = ?", .integer(customer))
        for (currency, total) in aggregates.spent {
            try statements.run("""
                INSERT INTO customer_spend (customer_id, currency, total_minor, orders, live_customer_id)
                VALUES (?1, ?2, ?3, ?4, \(LiveSpendOwnerSchema.liveOwner))
                """, .integer(customer), .text(currency), .integer(total), .integer(Int64(aggregates.ordersByCurrency[currency] ?? 0)))
        }
    }

    func payment(reference: String) throws -> PaymentRecord? {
        try statements.first(RecordSQL.selectPayment + " WHERE reference = ?", .text(reference), read: { RecordSQL.payment(from: $0) })
    }

    func savePayment(_ payment: PaymentRecord) throws {
        try savePayments([payment])
    }

    func savePayments(_ payments: [PaymentRecord]) throws {
        try paymentRows.run(payments.map(RecordSQL.paymentValues), on: statements)
    }

    func attachPayments(bookingRef: String, to customer: CustomerID) throws {
        try statements.run("UPDATE payments SET customer_id = ? WHERE booking_ref = ? AND customer_id IS NULL", .integer(customer), .text(bookingRef))
    }

    func cart(id: String) throws -> CartRecord? {
        try statements.first(RecordSQL.selectCart + " WHERE id = ?", .text(id), read: { RecordSQL.cart(from: $0) })
    }

    func saveCart(_ cart: CartRecord) throws {
        try saveCarts([cart])
    }

    func saveCarts(_ carts: [CartRecord]) throws {
        try cartRows.run(carts.map(RecordSQL.cartValues), on: statements)
    }

    func thread(id: String) throws -> ThreadRecord? {
        try statements.first(RecordSQL.selectThread + " WHERE thread_id = ?", .text(id), read: { RecordSQL.thread(from: $0) })
    }

    func saveThread(_ thread: ThreadRecord) throws {
        try saveThreads([thread])
    }

    func saveThreads(_ threads: [ThreadRecord]) throws {
        try threadRows.run(threads.map(RecordSQL.threadValues), on: statements)
    }

    func addMessage(_ message: ThreadMessage) throws {
        try RecordSQL.messageRows.run([RecordSQL.messageValues(message)], on: statements)
    }

    func earliestReply(threadID: String) throws -> Timestamp? {
        try statements.first("SELECT min(occurred_at) FROM thread_messages WHERE thread_id = ? AND direction = 'staff'", .text(threadID)) {
            $0.integerOrNil(0)
        }?.map(Timestamp.init(microseconds:))
    }

    // MARK: Merges

    func isMergeBlocked(_ first: CustomerID, _ second: CustomerID) throws -> Bool {
        try statements.first("SELECT 1 FROM merge_blocks WHERE first_id = ? AND second_id = ?",
                             .integer(min(first, second)), .integer(max(first, second))) { _ in true } ?? false
    }

    func blockMerge(_ first: CustomerID, _ second: CustomerID) throws {
        try statements.run("INSERT INTO merge_blocks (first_id, second_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                           .integer(min(first, second)), .integer(max(first, second)))
    }

    /// Tables whose rows a customer owns, with their key column.
    private static var ownedTables: [(table: String, key: String, path: WritableKeyPath<Contribution, [String]>)] { [
        ("bookings", "ref", \.bookings), ("payments", "reference", \.payments), ("threads", "thread_id", \.threads), ("carts", "id", \.carts),
    ] }
    private static var ownedRowTables: [(table: String, path: WritableKeyPath<Contribution, [Int64]>)] { [
        ("customer_notes", \.notes), ("consent_statements", \.consentStatements),
    ] }

    func moveOwnership(from loser: CustomerID, to survivor: CustomerID) throws -> Contribution {
        written.values[loser] = nil  // the loser's row is written directly
        var contribution = Contribution()
        for owned in Self.ownedTables {
            contribution[keyPath: owned.path] = try statements.all("SELECT \(owned.key) FROM \(owned.table) WHERE customer_id = ?",
                                                                   .integer(loser)) { $0.text(0) }
            try statements.run("UPDATE \(owned.table) SET customer_id = ? WHERE customer_id = ?", .integer(survivor), .integer(loser))
        }
        for owned in Self.ownedRowTables {
            contribution[keyPath: owned.path] = try statements.all("SELECT id FROM \(owned.table) WHERE customer_id = ?", .integer(loser)) {
                $0.integer(0)
            }
            try statements.run("UPDATE \(owned.table) SET customer_id = ? WHERE customer_id = ?", .integer(survivor), .integer(loser))
        }
        contribution.identifiers = try identifierRefs(of: loser)
        contribution.survivorIdentifiers = try identifierRefs(of: survivor)
        try statements.run("""
            INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable)
            SELECT kind, key, ?, display, first_seen_at, matchable FROM customer_identifiers WHERE customer_id = ?
            \(RecordSQL.identifierRows.tail)
            """, .integer(survivor), .integer(loser))
        try statements.run("DELETE FROM customer_identifiers WHERE customer_id = ?", .integer(loser))
        contribution.numbers = try statements.all("SELECT number FROM customer_numbers WHERE customer_id = ?", .integer(loser)) { $0.text(0) }
        try statements.run("UPDATE customers SET merged_into = ? WHERE id = ?", .integer(survivor), .integer(loser))
        try statements.run("""
            UPDATE customers SET bookings_count = 0, orders = 0, completed_stays = 0, no_shows = 0, first_order_at = NULL, last_order_at = NULL
            WHERE id = ?
            """, .integer(loser))
        try replaceSpend(CustomerAggregates(), of: loser)
        return contribution
    }

    private func identifierRefs(of customer: CustomerID) throws -> [Contribution.IdentifierRef] {
        try statements.all("SELECT kind, key, display, first_seen_at, matchable FROM customer_identifiers WHERE customer_id = ? ORDER BY kind, key",
                           .integer(customer)) {
            Contribution.IdentifierRef(kind: $0.text(0), key: $0.text(1), display: $0.text(2), firstSeenAt: $0.integer(3), matchable: $0.bool(4))
        }
    }

    func restoreOwnership(_ contribution: Contribution, to loser: CustomerID, from survivor: CustomerID) throws {
        written.values[loser] = nil  // the loser's row is written directly
        for owned in Self.ownedTables {
            for key in contribution[keyPath: owned.path] {
                try statements.run("UPDATE \(owned.table) SET customer_id = ? WHERE \(owned.key) = ?", .integer(loser), .text(key))
            }
        }
        for owned in Self.ownedRowTables {
            for id in contribution[keyPath: owned.path] {
                try statements.run("UPDATE \(owned.table) SET customer_id = ? WHERE id = ?", .integer(loser), .integer(id))
            }
        }
        let survivorHad = Set(contribution.survivorIdentifiers.map { [$0.kind, $0.key] })
        for identifier in contribution.identifiers {
            try statements.run("""
                INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, .text(identifier.kind), .text(identifier.key), .integer(loser), .text(identifier.display), .integer(identifier.firstSeenAt),
                               .of(identifier.matchable))
            if !survivorHad.contains([identifier.kind, identifier.key]) {
                try statements.run("DELETE FROM customer_identifiers WHERE kind = ? AND key = ? AND customer_id = ?",
                                   .text(identifier.kind), .text(identifier.key), .integer(survivor))
            }
        }
        try statements.run("UPDATE customers SET merged_into = NULL WHERE id = ?", .integer(loser))
    }

    func saveMerge(_ entry: MergeEntry) throws -> Int64 {
        try statements.first("""
            INSERT INTO merges (survivor_id, loser_id, automatic, event_id, merged_at, entry) VALUES (?, ?, ?, ?, ?, ?) RETURNING id
            """, .integer(entry.survivor), .integer(entry.loser), .of(entry.automatic), .of(entry.eventID), .of(entry.mergedAt),
                             .blob([UInt8](try JSONEncoder().encode(entry)))) { $0.integer(0) } ?? 0
    }

    func latestMerge(loser: CustomerID) throws -> (id: Int64, entry: MergeEntry)? {
        guard let (id, entry) = try statements.first("SELECT id, entry FROM merges WHERE loser_id = ? AND unmerged = 0 ORDER BY id DESC LIMIT 1",
                                                     .integer(loser), read: { ($0.integer(0), $0.bytesOrNil(1) ?? []) }) else { return nil }
        return (id, try JSONDecoder().decode(MergeEntry.self, from: Data(entry)))
    }

    func markUnmerged(mergeID: Int64) throws {
        try statements.run("UPDATE merges SET unmerged = 1 WHERE id = ?", .integer(mergeID))
    }

    // MARK: Erasure

    /// Once anyone has been erased, every event asks this: one indexed lookup per hash.
    func erasureTime(hashes: [String]) throws -> Timestamp? {
        try hashes.compactMap { hash in
            try statements.first("SELECT max(erased_at) FROM erased_identities WHERE hash = ?", .text(hash)) { $0.integerOrNil(0) } ?? nil
        }.max().map(Timestamp.init(microseconds:))
    }

    /// The customer and every record merged into it, directly or through others.
    private func mergedFamily(of customer: CustomerID) throws -> [CustomerID] {
        try statements.all("""
            WITH RECURSIVE family(id) AS (SELECT CAST(? AS BIGINT) UNION SELECT c.id FROM customers c JOIN family f ON c.merged_into = f.id)
            SELECT id FROM family
            """, .integer(customer)) { $0.integer(0) }
    }

    func identityKeys(of customer: CustomerID) throws -> [String] {
        let family = try mergedFamily(of: customer).map(SQLValue.integer)
        let marks = parameterList(family.count)
        let identifiers = try statements.all("SELECT kind, key FROM customer_identifiers WHERE matchable = 1 AND customer_id IN (\(marks))", family) {
            IdentityKey.of(kind: $0.text(0), key: $0.text(1))
        }
        let numbers = try statements.all("SELECT number FROM customer_numbers WHERE customer_id IN (\(marks))", family) {
            IdentityKey.of(kind: "customer_no", key: $0.text(0))
        }
        return identifiers + numbers
    }

    func erasePersonalData(of customer: CustomerID?, hashes: [String], at time: Timestamp, source: String?, eventID: String?) throws {
        forgetLoadedRows()  // these write customers rows directly
        for hash in hashes {
            try statements.run("INSERT INTO erased_identities (hash, erased_at) VALUES (?, ?) ON CONFLICT DO NOTHING", .text(hash), .of(time))
        }
        guard let customer else {
            try statements.run("INSERT INTO erasure_log (erased_at, customer_no, source, event_id) VALUES (?, NULL, ?, ?)",
                               .of(time), .of(source), .of(eventID))
            return
        }
        let ids = try mergedFamily(of: customer).map(SQLValue.integer)
        let marks = parameterList(ids.count)
        let blanked = (["newsletter", "newsletter_at"] + RecordSQL.profileColumns).map { "\($0) = NULL" }.joined(separator: ", ")
        try statements.run("UPDATE customers SET \(blanked), tags = '', erased_at = ? WHERE id IN (\(marks))", [.of(time)] + ids)
        let threadIDs = "SELECT thread_id FROM threads WHERE customer_id IN (\(marks))"
        // Journal payloads: the customer's events and every message of its threads.
        try statements.run("""
            UPDATE event_journal SET payload = ? WHERE customer_id IN (\(marks))
               OR event_id IN (SELECT event_id FROM thread_messages WHERE thread_id IN (\(threadIDs)))
            """, [.blob([])] + ids + ids)
        try statements.run("UPDATE thread_messages SET author = NULL, subject = NULL, body = NULL WHERE thread_id IN (\(threadIDs))", ids)
        try statements.run("UPDATE threads SET subject = NULL, contact = NULL WHERE customer_id IN (\(marks))", ids)
        try statements.run("UPDATE carts SET items = NULL WHERE customer_id IN (\(marks))", ids)
        // Messages not yet handed to a gateway are not sent to someone erased.
        try statements.run("DELETE FROM dispatch_outbox WHERE customer_id IN (\(marks)) AND published_at IS NULL", ids)
        for table in ["customer_identifiers", "customer_numbers", "customer_notes", "consent_statements"] {
            try statements.run("DELETE FROM \(table) WHERE customer_id IN (\(marks))", ids)
        }
        let number = try statements.first("SELECT customer_no FROM customers WHERE id = ?", .integer(customer)) { $0.textOrNil(0) } ?? nil
        try statements.run("INSERT INTO erasure_log (erased_at, customer_no, source, event_id) VALUES (?, ?, ?, ?)",
                           .of(time), .of(number), .of(source), .of(eventID))
    }

    func countSuppressed() throws {
        try statements.countSuppressed()
    }

    // MARK: Dispatch

    func isErased(_ customer: CustomerID) throws -> Bool {
        try statements.first("SELECT erased_at FROM customers WHERE id = ?", .integer(customer)) { !$0.isNull(0) } ?? true
    }

    func reply(eventID: String) throws -> ThreadMessage? {
        try statements.first("""
            SELECT thread_id, direction, author, subject, body, booking_ref, occurred_at FROM thread_messages WHERE event_id = ?
            """, .text(eventID)) { row in
            ThreadMessage(eventID: eventID, threadID: row.text(0), direction: ThreadMessage.Direction(rawValue: row.text(1)) ?? .staff,
                          author: row.textOrNil(2), subject: row.textOrNil(3), body: row.textOrNil(4), bookingRef: row.textOrNil(5),
                          occurredAt: Timestamp(microseconds: row.integer(6)))
        }
    }

    func enqueueDispatch(_ job: DispatchJob, customer: CustomerID, trigger: String, notBefore: Timestamp) throws -> Bool {
        let body = try JSONOutput.encode(job.json)
        return try statements.first("""
            INSERT INTO dispatch_outbox (job_id, channel, customer_id, template, purpose, trigger, body, created_at, not_before)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING RETURNING id
            """, .text(job.jobID), .text(job.channel.rawValue), .of(customer), .text(job.template), .text(job.purpose.rawValue),
                                    .text(trigger), .blob([UInt8](body)), .of(job.createdAt), .of(notBefore)) { _ in true } ?? false
    }

    func wasSent(_ template: String, on channel: DispatchChannel, to customer: CustomerID, since: Timestamp, otherThan trigger: String) throws -> Bool {
        try statements.first("""
            SELECT 1 FROM dispatch_outbox WHERE customer_id = ? AND template = ? AND channel = ? AND created_at >= ? AND trigger <> ? LIMIT 1
            """, .integer(customer), .text(template), .text(channel.rawValue), .of(since), .text(trigger)) { _ in true } ?? false
    }

    func completedSend(idempotencyKey: String) throws -> CompletedSend? {
        try statements.first("""
            SELECT request_digest, requested_by, result, completed_at FROM dispatch_sends WHERE idempotency_key = ?
            """, .text(idempotencyKey)) { row in
            CompletedSend(idempotencyKey: idempotencyKey, requestDigest: row.text(0), requestedBy: row.text(1),
                          result: (try? JSONValue(parsing: Array(row.text(2).utf8))) ?? .null, completedAt: Timestamp(microseconds: row.integer(3)))
        }
    }

    func recordCompletedSend(_ send: CompletedSend) throws {
        try statements.run("""
            INSERT INTO dispatch_sends (idempotency_key, request_digest, requested_by, result, completed_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (idempotency_key) DO NOTHING
            """, .text(send.idempotencyKey), .text(send.requestDigest), .text(send.requestedBy),
                           .text(String(decoding: try JSONOutput.encode(send.result), as: UTF8.self)), .of(send.completedAt))
    }

    func setDispatchTimer(_ firing: RuleFiring) throws {
        let (kind, id, date, reply): (String, String, String?, String?) = switch firing.subject {
        case .booking(let ref, let date): ("booking", ref, date, nil)
        case .cart(let id): ("cart", id, nil, nil)
        case .thread(let id, let event): ("thread", id, nil, event)
        }
        try statements.run("""
            INSERT INTO dispatch_timers (key, rule, subject_kind, subject_id, subject_date, reply_event_id, due_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at
            """, .text(firing.key), .text(firing.rule), .text(kind), .text(id), .of(date), .of(reply), .of(firing.due))
    }

    func removeDispatchTimer(key: String) throws {
        try statements.run("DELETE FROM dispatch_timers WHERE key = ?", .text(key))
    }
}

/// A row the record rules expected is not there.
struct RecordNotFound: Error, CustomStringConvertible {
    let what: String
    var description: String { "\(what) not found" }
}
