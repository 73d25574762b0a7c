import Foundation
import GRDB
import PatronDomain

/// ``RecordTransaction`` on one GRDB connection inside a write transaction.
struct SQLiteRecordTransaction: RecordTransaction {
    let db: Database

    private static let tagSeparator = "\u{1F}"
    private static let profileColumns = ProfileField.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_at"] }
    private static let bookingColumns = BookingField.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_at"] }
    // Every event saves a customer and most save a booking: their SQL is built once.
    private static let updateCustomerSQL = "UPDATE customers SET "
        + (["customer_no", "number_assigned", "first_contact_at", "auto_group", "newsletter", "newsletter_at", "tags"] + profileColumns)
            .map { "\($0) = ?" }.joined(separator: ", ")
        + " WHERE id = ?"
    private static let upsertBookingSQL: String = {
        let columns = ["ref", "customer_id", "status", "status_at", "first_seen_at", "amount_minor", "currency", "amount_at"] + bookingColumns
        return "INSERT OR REPLACE INTO bookings (\(columns.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: columns.count)))"
    }()

    // MARK: Identity

    func customers(matching identifiers: [Identifier]) throws -> Set<CustomerID> {
        guard !identifiers.isEmpty else { return [] }
        let statement = try db.cachedStatement(sql: """
            SELECT customer_id FROM customer_identifiers WHERE kind = ? AND key = ? AND matchable = 1
            """)
        var ids = Set<CustomerID>()
        for identifier in identifiers {
            ids.formUnion(try CustomerID.fetchAll(statement, arguments: [identifier.kind.rawValue, identifier.key]))
        }
        return ids
    }

    func customer(numbered number: String) throws -> CustomerID? {
        guard var id = try customerIgnoringMerges(numbered: number) else { return nil }
        let statement = try db.cachedStatement(sql: "SELECT merged_into, erased_at FROM customers WHERE id = ?")
        while let row = try Row.fetchOne(statement, arguments: [id]) {
            if (row[1] as Int64?) != nil { return nil }
            guard let next: CustomerID = row[0] else { return id }
            id = next
        }
        return nil
    }

    func customerIgnoringMerges(numbered number: String) throws -> CustomerID? {
        try CustomerID.fetchOne(db.cachedStatement(sql: "SELECT customer_id FROM customer_numbers WHERE number = ?"),
                                arguments: [number])
    }

    func loadCustomer(_ id: CustomerID) throws -> CustomerRecord {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM customers WHERE id = ?"), arguments: [id]) else {
            throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "customer \(id) not found")
        }
        var values: [ProfileField: Stamped] = [:]
        for field in ProfileField.allCases {
            if let value: String = row[field.rawValue], let at: Int64 = row["\(field.rawValue)_at"] {
                values[field] = Stamped(value, at: Timestamp(microseconds: at))
            }
        }
        var newsletter: Stamped?
        if let optedIn: Bool = row["newsletter"], let at: Int64 = row["newsletter_at"] {
            newsletter = Stamped(optedIn ? "true" : "false", at: Timestamp(microseconds: at))
        }
        let tags: String = row["tags"]
        return CustomerRecord(
            id: id, customerNo: row["customer_no"], numberAssigned: row["number_assigned"], fields: StampedFields(values),
            newsletter: newsletter, group: AutomaticGroup(rawValue: row["auto_group"]) ?? .visitor,
            firstContactAt: Timestamp(microseconds: row["first_contact_at"]),
            tags: tags.isEmpty ? [] : tags.components(separatedBy: Self.tagSeparator))
    }

    func createCustomer(number: String?, firstContactAt: Timestamp) throws -> CustomerRecord {
        try db.execute(sql: "INSERT INTO customers (customer_no, number_assigned, first_contact_at) VALUES ('', 1, ?)",
                       arguments: [firstContactAt.microseconds])
        let id = db.lastInsertedRowID
        let customerNo = number ?? String(format: "P-%06lld", id)
        try db.execute(sql: "UPDATE customers SET customer_no = ?, number_assigned = ? WHERE id = ?",
                       arguments: [customerNo, number == nil, id])
        try addNumber(customerNo, to: id)
        return CustomerRecord(id: id, customerNo: customerNo, numberAssigned: number == nil, firstContactAt: firstContactAt)
    }

    func saveCustomer(_ record: CustomerRecord) throws {
        var values: [(any DatabaseValueConvertible)?] = [
            record.customerNo, record.numberAssigned, record.firstContactAt.microseconds, record.group.rawValue,
            record.newsletter.map { $0.value == "true" }, record.newsletter?.at.microseconds,
            record.tags.joined(separator: Self.tagSeparator),
        ]
        for field in ProfileField.allCases {
            values.append(record.fields[field]?.value)
            values.append(record.fields[field]?.at.microseconds)
        }
        values.append(record.id)
        try db.cachedStatement(sql: Self.updateCustomerSQL).execute(arguments: StatementArguments(values))
    }

    /// The earliest event's display form wins, whatever the order events arrive in.
    private static let keepEarliestDisplay = """
        ON CONFLICT DO UPDATE SET display = excluded.display, first_seen_at = excluded.first_seen_at
        WHERE excluded.first_seen_at < first_seen_at OR (excluded.first_seen_at = first_seen_at AND excluded.display < display)
        """

    func addIdentifiers(_ identifiers: [Identifier], to customer: CustomerID, at time: Timestamp) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable) VALUES (?, ?, ?, ?, ?, ?)
            \(Self.keepEarliestDisplay)
            """)
        for identifier in identifiers {
            try statement.execute(arguments: [identifier.kind.rawValue, identifier.key, customer, identifier.display,
                                              time.microseconds, identifier.matchable])
        }
    }

    func addNumber(_ number: String, to customer: CustomerID) throws {
        try db.cachedStatement(sql: "INSERT INTO customer_numbers (number, customer_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .execute(arguments: [number, customer])
    }

    func addConsent(_ statement: ConsentStatement, to customer: CustomerID) throws {
        try db.cachedStatement(sql: """
            INSERT INTO consent_statements (customer_id, opted_in, occurred_at, source, event_id) VALUES (?, ?, ?, ?, ?)
            """).execute(arguments: [customer, statement.optedIn, statement.occurredAt.microseconds, statement.source, statement.eventID])
    }

    func recordIssue(_ issue: RecordIssue) throws {
        try db.execute(sql: "INSERT INTO record_issues (kind, customer_ids, event_id, detail) VALUES (?, ?, ?, ?)",
                       arguments: [issue.kind.rawValue, issue.customerIDs.map(String.init).joined(separator: ","), issue.eventID, issue.detail])
    }

    func enqueue(_ announcement: Announcement) throws {
        let body = try JSONOutput.encode(JSONValue.object(announcement.body))
        try db.execute(sql: "INSERT INTO outbox (message_id, routing_key, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       arguments: [announcement.id, announcement.type, body])
    }

    // MARK: Bookings, payments, carts, threads

    func booking(ref: String) throws -> BookingRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM bookings WHERE ref = ?"), arguments: [ref]).map(Self.booking(from:))
    }

    private static func booking(from row: Row) -> BookingRecord {
        var values: [BookingField: Stamped] = [:]
        for field in BookingField.allCases {
            if let value: String = row[field.rawValue], let at: Int64 = row["\(field.rawValue)_at"] {
                values[field] = Stamped(value, at: Timestamp(microseconds: at))
            }
        }
        var status: Stamped?
        if let value: String = row["status"], let at: Int64 = row["status_at"] { status = Stamped(value, at: Timestamp(microseconds: at)) }
        var amount: Money?
        if let minor: Int64 = row["amount_minor"], let currency: String = row["currency"] { amount = Money(minorUnits: minor, currency: currency) }
        return BookingRecord(ref: row["ref"], customerID: row["customer_id"], status: status, fields: StampedFields(values),
                             amount: amount, amountAt: (row["amount_at"] as Int64?).map(Timestamp.init(microseconds:)),
                             firstSeenAt: Timestamp(microseconds: row["first_seen_at"]))
    }

    func saveBooking(_ booking: BookingRecord) throws {
        var values: [(any DatabaseValueConvertible)?] = [
            booking.ref, booking.customerID, booking.status?.value, booking.status?.at.microseconds, booking.firstSeenAt.microseconds,
            booking.amount?.minorUnits, booking.amount?.currency, booking.amountAt?.microseconds,
        ]
        for field in BookingField.allCases {
            values.append(booking.fields[field]?.value)
            values.append(booking.fields[field]?.at.microseconds)
        }
        try db.cachedStatement(sql: Self.upsertBookingSQL).execute(arguments: StatementArguments(values))
    }

    func bookings(of customer: CustomerID) throws -> [BookingRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM bookings WHERE customer_id = ?"), arguments: [customer]).map(Self.booking(from:))
    }

    func saveAggregates(_ aggregates: CustomerAggregates, of customer: CustomerID) throws {
        try db.cachedStatement(sql: """
            UPDATE customers SET bookings_count = ?, orders = ?, completed_stays = ?, no_shows = ?, first_order_at = ?, last_order_at = ?
            WHERE id = ?
            """).execute(arguments: [aggregates.bookings, aggregates.orders, aggregates.completedStays, aggregates.noShows,
                                     aggregates.firstOrderAt?.microseconds, aggregates.lastOrderAt?.microseconds, customer])
        try db.cachedStatement(sql: "DELETE FROM customer_spend WHERE customer_id = ?").execute(arguments: [customer])
        let insert = try db.cachedStatement(sql: "INSERT INTO customer_spend (customer_id, currency, total_minor, orders) VALUES (?, ?, ?, ?)")
        for (currency, total) in aggregates.spent {
            try insert.execute(arguments: [customer, currency, total, aggregates.ordersByCurrency[currency] ?? 0])
        }
    }

    func payment(reference: String) throws -> PaymentRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM payments WHERE reference = ?"), arguments: [reference]).map { row in
            PaymentRecord(reference: row["reference"], customerID: row["customer_id"], bookingRef: row["booking_ref"],
                          amount: Money(minorUnits: row["amount_minor"], currency: row["currency"]), method: row["method"],
                          status: (row["status"] as String?).flatMap(PaymentStatus.init(rawValue:)),
                          occurredAt: Timestamp(microseconds: row["occurred_at"]))
        }
    }

    func savePayment(_ payment: PaymentRecord) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO payments (reference, customer_id, booking_ref, amount_minor, currency, method, status, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [payment.reference, payment.customerID, payment.bookingRef, payment.amount.minorUnits,
                                     payment.amount.currency, payment.method, payment.status?.rawValue, payment.occurredAt.microseconds])
    }

    func attachPayments(bookingRef: String, to customer: CustomerID) throws {
        try db.cachedStatement(sql: "UPDATE payments SET customer_id = ? WHERE booking_ref = ? AND customer_id IS NULL")
            .execute(arguments: [customer, bookingRef])
    }

    func cart(id: String) throws -> CartRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM carts WHERE id = ?"), arguments: [id]).map { row in
            var total: Money?
            if let minor: Int64 = row["total_minor"], let currency: String = row["currency"] { total = Money(minorUnits: minor, currency: currency) }
            return CartRecord(id: row["id"], customerID: row["customer_id"],
                              status: (row["status"] as String?).flatMap(CartStatus.init(rawValue:)), items: row["items"], total: total,
                              updatedAt: Timestamp(microseconds: row["updated_at"]), firstSeenAt: Timestamp(microseconds: row["first_seen_at"]))
        }
    }

    func saveCart(_ cart: CartRecord) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO carts (id, customer_id, status, items, total_minor, currency, updated_at, first_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [cart.id, cart.customerID, cart.status?.rawValue, cart.items, cart.total?.minorUnits,
                                     cart.total?.currency, cart.updatedAt.microseconds, cart.firstSeenAt.microseconds])
    }

    func thread(id: String) throws -> ThreadRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM threads WHERE thread_id = ?"), arguments: [id]).map { row in
            ThreadRecord(threadID: row["thread_id"], customerID: row["customer_id"], contact: row["contact"], subject: row["subject"],
                         bookingRef: row["booking_ref"], isOpen: row["is_open"], openedAt: Timestamp(microseconds: row["opened_at"]),
                         firstResponseAt: (row["first_response_at"] as Int64?).map(Timestamp.init(microseconds:)))
        }
    }

    func saveThread(_ thread: ThreadRecord) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO threads (thread_id, customer_id, contact, subject, booking_ref, is_open, opened_at, first_response_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [thread.threadID, thread.customerID, thread.contact, thread.subject, thread.bookingRef,
                                     thread.isOpen, thread.openedAt.microseconds, thread.firstResponseAt?.microseconds])
    }

    func addMessage(_ message: ThreadMessage) throws {
        try db.cachedStatement(sql: """
            INSERT INTO thread_messages (event_id, thread_id, direction, author, subject, body, booking_ref, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """).execute(arguments: [message.eventID, message.threadID, message.direction.rawValue, message.author, message.subject,
                                     message.body, message.bookingRef, message.occurredAt.microseconds])
    }

    func earliestReply(threadID: String) throws -> Timestamp? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(occurred_at) FROM thread_messages WHERE thread_id = ? AND direction = 'staff'"),
                           arguments: [threadID]).map(Timestamp.init(microseconds:))
    }

    // MARK: Merges

    func isMergeBlocked(_ first: CustomerID, _ second: CustomerID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM merge_blocks WHERE first_id = ? AND second_id = ?)"),
                          arguments: [min(first, second), max(first, second)]) ?? false
    }

    func blockMerge(_ first: CustomerID, _ second: CustomerID) throws {
        try db.execute(sql: "INSERT INTO merge_blocks (first_id, second_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                       arguments: [min(first, second), max(first, second)])
    }

    /// Tables whose rows a customer owns, with their key column.
    private static var ownedTables: [(table: String, key: String, path: WritableKeyPath<Contribution, [String]>)] { [
        ("bookings", "ref", \.bookings), ("payments", "reference", \.payments), ("threads", "thread_id", \.threads), ("carts", "id", \.carts),
    ] }
    private static var ownedRowTables: [(table: String, path: WritableKeyPath<Contribution, [Int64]>)] { [
        ("customer_notes", \.notes), ("consent_statements", \.consentStatements),
    ] }

    func moveOwnership(from loser: CustomerID, to survivor: CustomerID) throws -> Contribution {
        var contribution = Contribution()
        for owned in Self.ownedTables {
            contribution[keyPath: owned.path] = try String.fetchAll(db, sql: "SELECT \(owned.key) FROM \(owned.table) WHERE customer_id = ?", arguments: [loser])
            try db.execute(sql: "UPDATE \(owned.table) SET customer_id = ? WHERE customer_id = ?", arguments: [survivor, loser])
        }
        for owned in Self.ownedRowTables {
            contribution[keyPath: owned.path] = try Int64.fetchAll(db, sql: "SELECT id FROM \(owned.table) WHERE customer_id = ?", arguments: [loser])
            try db.execute(sql: "UPDATE \(owned.table) SET customer_id = ? WHERE customer_id = ?", arguments: [survivor, loser])
        }
        contribution.identifiers = try identifierRefs(of: loser)
        contribution.survivorIdentifiers = try identifierRefs(of: survivor)
        try db.execute(sql: """
            INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable)
            SELECT kind, key, ?, display, first_seen_at, matchable FROM customer_identifiers WHERE customer_id = ?
            \(Self.keepEarliestDisplay)
            """, arguments: [survivor, loser])
        try db.execute(sql: "DELETE FROM customer_identifiers WHERE customer_id = ?", arguments: [loser])
        contribution.numbers = try String.fetchAll(db, sql: "SELECT number FROM customer_numbers WHERE customer_id = ?", arguments: [loser])
        try db.execute(sql: "UPDATE customers SET merged_into = ? WHERE id = ?", arguments: [survivor, loser])
        try saveAggregates(CustomerAggregates(), of: loser)
        return contribution
    }

    private func identifierRefs(of customer: CustomerID) throws -> [Contribution.IdentifierRef] {
        try Row.fetchAll(db, sql: "SELECT kind, key, display, first_seen_at, matchable FROM customer_identifiers WHERE customer_id = ? ORDER BY kind, key",
                         arguments: [customer]).map {
            Contribution.IdentifierRef(kind: $0[0], key: $0[1], display: $0[2], firstSeenAt: $0[3], matchable: $0[4])
        }
    }

    func restoreOwnership(_ contribution: Contribution, to loser: CustomerID, from survivor: CustomerID) throws {
        for owned in Self.ownedTables {
            let statement = try db.makeStatement(sql: "UPDATE \(owned.table) SET customer_id = ? WHERE \(owned.key) = ?")
            for key in contribution[keyPath: owned.path] { try statement.execute(arguments: [loser, key]) }
        }
        for owned in Self.ownedRowTables {
            let statement = try db.makeStatement(sql: "UPDATE \(owned.table) SET customer_id = ? WHERE id = ?")
            for id in contribution[keyPath: owned.path] { try statement.execute(arguments: [loser, id]) }
        }
        let insert = try db.makeStatement(sql: """
            INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """)
        let delete = try db.makeStatement(sql: "DELETE FROM customer_identifiers WHERE kind = ? AND key = ? AND customer_id = ?")
        let survivorHad = Set(contribution.survivorIdentifiers.map { [$0.kind, $0.key] })
        for identifier in contribution.identifiers {
            try insert.execute(arguments: [identifier.kind, identifier.key, loser, identifier.display, identifier.firstSeenAt, identifier.matchable])
            if !survivorHad.contains([identifier.kind, identifier.key]) {
                try delete.execute(arguments: [identifier.kind, identifier.key, survivor])
            }
        }
        try db.execute(sql: "UPDATE customers SET merged_into = NULL WHERE id = ?", arguments: [loser])
    }

    func saveMerge(_ entry: MergeEntry) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO merges (survivor_id, loser_id, automatic, event_id, merged_at, entry) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [entry.survivor, entry.loser, entry.automatic, entry.eventID, entry.mergedAt, try JSONEncoder().encode(entry)])
        return db.lastInsertedRowID
    }

    func latestMerge(loser: CustomerID) throws -> (id: Int64, entry: MergeEntry)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, entry FROM merges WHERE loser_id = ? AND unmerged = 0 ORDER BY id DESC LIMIT 1",
                                         arguments: [loser]) else { return nil }
        return (row[0], try JSONDecoder().decode(MergeEntry.self, from: row[1] as Data))
    }

    func markUnmerged(mergeID: Int64) throws {
        try db.execute(sql: "UPDATE merges SET unmerged = 1 WHERE id = ?", arguments: [mergeID])
    }

    // MARK: Erasure

    func erasureTime(hashes: [String]) throws -> Timestamp? {
        guard !hashes.isEmpty else { return nil }
        return try Int64.fetchOne(db, sql: "SELECT max(erased_at) FROM erased_identities WHERE hash IN (\(databaseQuestionMarks(count: hashes.count)))",
                                  arguments: StatementArguments(hashes)).map(Timestamp.init(microseconds:))
    }

    /// The customer and every record merged into it, directly or through others.
    private func mergedFamily(of customer: CustomerID) throws -> [CustomerID] {
        try CustomerID.fetchAll(db, sql: """
            WITH RECURSIVE family(id) AS (SELECT ? UNION SELECT c.id FROM customers c JOIN family f ON c.merged_into = f.id)
            SELECT id FROM family
            """, arguments: [customer])
    }

    func identityKeys(of customer: CustomerID) throws -> [String] {
        let family = try mergedFamily(of: customer)
        let marks = databaseQuestionMarks(count: family.count)
        let identifiers = try Row.fetchAll(db, sql: "SELECT kind, key FROM customer_identifiers WHERE matchable = 1 AND customer_id IN (\(marks))",
                                           arguments: StatementArguments(family))
            .map { IdentityKey.of(kind: $0[0], key: $0[1]) }
        let numbers = try String.fetchAll(db, sql: "SELECT number FROM customer_numbers WHERE customer_id IN (\(marks))", arguments: StatementArguments(family))
            .map { IdentityKey.of(kind: "customer_no", key: $0) }
        return identifiers + numbers
    }

    func erasePersonalData(of customer: CustomerID?, hashes: [String], at time: Timestamp, source: String?, eventID: String?) throws {
        let insertHash = try db.makeStatement(sql: "INSERT INTO erased_identities (hash, erased_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
        for hash in hashes { try insertHash.execute(arguments: [hash, time.microseconds]) }
        guard let customer else {
            try db.execute(sql: "INSERT INTO erasure_log (erased_at, customer_no, source, event_id) VALUES (?, NULL, ?, ?)",
                           arguments: [time.microseconds, source, eventID])
            return
        }
        let family = try mergedFamily(of: customer)
        let marks = databaseQuestionMarks(count: family.count)
        let ids = StatementArguments(family)
        let blanked = (["newsletter", "newsletter_at"] + Self.profileColumns).map { "\($0) = NULL" }.joined(separator: ", ")
        try db.execute(sql: "UPDATE customers SET \(blanked), tags = '', erased_at = ? WHERE id IN (\(marks))",
                       arguments: [time.microseconds] + ids)
        let threadIDs = "SELECT thread_id FROM threads WHERE customer_id IN (\(marks))"
        // Journal payloads: the customer's events and every message of its threads.
        try db.execute(sql: """
            UPDATE event_journal SET payload = X'' WHERE customer_id IN (\(marks))
               OR event_id IN (SELECT event_id FROM thread_messages WHERE thread_id IN (\(threadIDs)))
            """, arguments: ids + ids)
        try db.execute(sql: "UPDATE thread_messages SET author = NULL, subject = NULL, body = NULL WHERE thread_id IN (\(threadIDs))", arguments: ids)
        try db.execute(sql: "UPDATE threads SET subject = NULL, contact = NULL WHERE customer_id IN (\(marks))", arguments: ids)
        try db.execute(sql: "UPDATE carts SET items = NULL WHERE customer_id IN (\(marks))", arguments: ids)
        for table in ["customer_identifiers", "customer_numbers", "customer_notes", "consent_statements"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE customer_id IN (\(marks))", arguments: ids)
        }
        let number = try String.fetchOne(db, sql: "SELECT customer_no FROM customers WHERE id = ?", arguments: [customer])
        try db.execute(sql: "INSERT INTO erasure_log (erased_at, customer_no, source, event_id) VALUES (?, ?, ?, ?)",
                       arguments: [time.microseconds, number, source, eventID])
    }

    func countSuppressed() throws {
        try db.execute(sql: "UPDATE ingest_state SET suppressed = suppressed + 1 WHERE id = 1")
    }
}
