import Foundation
import GRDB
import PatronDomain

/// ``RecordTransaction`` on one GRDB connection inside a write transaction.
struct SQLiteRecordTransaction: RecordTransaction {
    let db: Database
    /// Each customer's columns as last loaded or saved in this transaction: a save writes only
    /// the columns that differ, or nothing. Writing every column rewrote every index on the
    /// customers table on each event (perf: a third of apply time once the Customer Center's
    /// indexes existed).
    private let written = WrittenRows()

    init(db: Database) {
        self.db = db
    }

    final class WrittenRows {
        var values: [CustomerID: [SQLValue]] = [:]
        /// Created, not yet saved: the number each is to answer to.
        var unsaved: [CustomerID: String] = [:]
    }

    /// Forgets what was loaded: after a rollback the rows may hold other values.
    func forgetLoadedRows() {
        written.values.removeAll()
        written.unsaved.removeAll()
    }

    private static let tagSeparator = "\u{1F}"
    private static let profileColumns = ProfileField.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_at"] }
    private static let bookingColumns = BookingField.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_at"] }
    // Every event loads and saves a customer and most load and save a booking: their SQL is built
    // once, with the columns in the order the readers and writers below use.
    private static let customerColumns = ["customer_no", "number_assigned", "first_contact_at", "auto_group", "newsletter", "newsletter_at", "tags",
                                          "bookings_count", "orders", "completed_stays", "no_shows", "first_order_at", "last_order_at"]
        + profileColumns
    private static let selectCustomerSQL = "SELECT \(customerColumns.joined(separator: ", ")) FROM customers WHERE id = ?"
    private static let updateCustomerSQL = "UPDATE customers SET \(customerColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"
    /// Its search row comes from a trigger (``NewCustomerSearchSchema``).
    private static let insertCustomerSQL = """
        INSERT INTO customers (\(customerColumns.joined(separator: ", ")), id) VALUES (\(Array(repeating: "?", count: customerColumns.count + 1).joined(separator: ", ")))
        """
    private static let bookingColumnList = (["ref", "customer_id", "status", "status_at", "first_seen_at", "amount_minor", "currency", "amount_at"]
        + bookingColumns).joined(separator: ", ")
    private static let selectBookingSQL = "SELECT \(bookingColumnList) FROM bookings"
    /// The folded copies and the live owner that booking filters read (``NarrowLookupSchema``,
    /// ``LiveBookingOwnerSchema``) are derived here from the same parameters, so a booking is never
    /// stored with copies behind its fields.
    private static let upsertBookingSQL: String = {
        let fields = NarrowLookupSchema.foldedBookingFields
        let parameters = (1...(8 + bookingColumns.count)).map { "?\($0)" }
        let folded = fields.map { folded in
            let field = BookingField.allCases.firstIndex { $0.rawValue == folded.field }!
            return "patron_fold(?\(8 + 2 * field + 1))"
        }
        return """
            INSERT OR REPLACE INTO bookings (\(bookingColumnList), \(fields.map(\.column).joined(separator: ", ")), live_customer_id)
            VALUES (\((parameters + folded + [LiveBookingOwnerSchema.liveOwner]).joined(separator: ", ")))
            """
    }()

    // MARK: Identity

    func customers(matching identifiers: [Identifier]) throws -> Set<CustomerID> {
        guard !identifiers.isEmpty else { return [] }
        let statement = try Prepared(db, "SELECT customer_id FROM customer_identifiers WHERE kind = ? AND key = ? AND matchable = 1")
        var ids = Set<CustomerID>()
        for identifier in identifiers {
            ids.formUnion(try statement.all(.text(identifier.kind.rawValue), .text(identifier.key)) { $0.integer(0) })
        }
        return ids
    }

    func customer(numbered number: String) throws -> CustomerID? {
        guard var id = try customerIgnoringMerges(numbered: number) else { return nil }
        let statement = try Prepared(db, "SELECT merged_into, erased_at FROM customers WHERE id = ?")
        while let (mergedInto, erased) = try statement.first(.integer(id), read: { ($0.integerOrNil(0), !$0.isNull(1)) }) {
            if erased { return nil }
            guard let next = mergedInto else { return id }
            id = next
        }
        return nil
    }

    func customerIgnoringMerges(numbered number: String) throws -> CustomerID? {
        try Prepared(db, "SELECT customer_id FROM customer_numbers WHERE number = ?").first(.text(number)) { $0.integer(0) }
    }

    func loadCustomer(_ id: CustomerID) throws -> CustomerRecord {
        let record = try Prepared(db, Self.selectCustomerSQL).first(.integer(id)) { row in
            var newsletter: Stamped?
            if let optedIn = row.integerOrNil(4), let at = row.integerOrNil(5) {
                newsletter = Stamped(optedIn != 0 ? "true" : "false", at: Timestamp(microseconds: at))
            }
            let tags = row.text(6)
            return CustomerRecord(
                id: id, customerNo: row.text(0), numberAssigned: row.bool(1), fields: Self.stampedFields(row, from: 13), newsletter: newsletter,
                group: AutomaticGroup(rawValue: Int(row.integer(3))) ?? .visitor, firstContactAt: Timestamp(microseconds: row.integer(2)),
                tags: tags.isEmpty ? [] : tags.components(separatedBy: Self.tagSeparator),
                figures: CustomerFigures(bookings: Int(row.integer(7)), orders: Int(row.integer(8)), completedStays: Int(row.integer(9)),
                                         noShows: Int(row.integer(10)), firstOrderAt: row.integerOrNil(11).map(Timestamp.init(microseconds:)),
                                         lastOrderAt: row.integerOrNil(12).map(Timestamp.init(microseconds:))))
        }
        guard let record else { throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "customer \(id) not found") }
        written.values[id] = Self.columnValues(record)
        return record
    }

    /// The id SQLite would give the row (the largest plus one), taken now so the record has it
    /// before its first save inserts it.
    func createCustomer(number: String?, firstContactAt: Timestamp) throws -> CustomerRecord {
        let stored = try Prepared(db, "SELECT coalesce(max(id), 0) FROM customers").first { $0.integer(0) } ?? 0
        let id = max(stored, written.unsaved.keys.max() ?? 0) + 1
        let customerNo = number ?? Self.assignedNumber(id)
        written.unsaved[id] = customerNo
        return CustomerRecord(id: id, customerNo: customerNo, numberAssigned: number == nil, firstContactAt: firstContactAt)
    }

    /// `P-` and at least six digits of the row id.
    private static func assignedNumber(_ id: CustomerID) -> String {
        let digits = String(id)
        return "P-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Fields stored as value and `_at` column pairs, in `allCases` order from column `first`.
    private static func stampedFields<Field: CaseIterable & Hashable & Sendable>(_ row: Prepared.Columns, from first: Int32) -> StampedFields<Field> {
        var values: [Field: Stamped] = [:]
        var column = first
        for field in Field.allCases {
            if let value = row.textOrNil(column), let at = row.integerOrNil(column + 1) {
                values[field] = Stamped(value, at: Timestamp(microseconds: at))
            }
            column += 2
        }
        return StampedFields(values)
    }

    func saveCustomer(_ record: CustomerRecord) throws {
        let values = Self.columnValues(record)
        if let number = written.unsaved.removeValue(forKey: record.id) {
            try Prepared(db, Self.insertCustomerSQL).run(values + [.integer(record.id)])
            try addNumber(number, to: record.id)
            written.values[record.id] = values
            return
        }
        let changed = written.values[record.id].map { before in values.indices.filter { values[$0] != before[$0] } }
            ?? Array(values.indices)
        guard !changed.isEmpty else { return }
        let sql = changed.count == values.count ? Self.updateCustomerSQL
            : "UPDATE customers SET \(changed.map { "\(Self.customerColumns[$0]) = ?" }.joined(separator: ", ")) WHERE id = ?"
        try Prepared(db, sql).run(changed.map { values[$0] } + [.integer(record.id)])
        written.values[record.id] = values
    }

    /// The customers columns of a record, in the order of `customerColumns`.
    private static func columnValues(_ record: CustomerRecord) -> [SQLValue] {
        var values: [SQLValue] = [
            .text(record.customerNo), .of(record.numberAssigned), .of(record.firstContactAt), .integer(Int64(record.group.rawValue)),
            .of(record.newsletter.map { $0.value == "true" }), .of(record.newsletter?.at), .text(record.tags.joined(separator: Self.tagSeparator)),
            .integer(Int64(record.figures.bookings)), .integer(Int64(record.figures.orders)), .integer(Int64(record.figures.completedStays)),
            .integer(Int64(record.figures.noShows)), .of(record.figures.firstOrderAt), .of(record.figures.lastOrderAt),
        ]
        values.reserveCapacity(customerColumns.count)
        for field in ProfileField.allCases {
            values.append(.of(record.fields[field]?.value))
            values.append(.of(record.fields[field]?.at))
        }
        return values
    }

    /// The earliest event's display form wins, whatever the order events arrive in.
    private static let keepEarliestDisplay = """
        ON CONFLICT DO UPDATE SET display = excluded.display, first_seen_at = excluded.first_seen_at
        WHERE excluded.first_seen_at < first_seen_at OR (excluded.first_seen_at = first_seen_at AND excluded.display < display)
        """

    func addIdentifiers(_ identifiers: [Identifier], to customer: CustomerID, at time: Timestamp) throws {
        let statement = try Prepared(db, """
            INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable) VALUES (?, ?, ?, ?, ?, ?)
            \(Self.keepEarliestDisplay)
            """)
        for identifier in identifiers {
            try statement.run(.text(identifier.kind.rawValue), .text(identifier.key), .integer(customer), .text(identifier.display),
                              .of(time), .of(identifier.matchable))
        }
    }

    func addNumber(_ number: String, to customer: CustomerID) throws {
        try Prepared(db, "INSERT INTO customer_numbers (number, customer_id) VALUES (?, ?) ON CONFLICT DO NOTHING").run(.text(number), .integer(customer))
    }

    func addConsent(_ statement: ConsentStatement, to customer: CustomerID) throws {
        try Prepared(db, "INSERT INTO consent_statements (customer_id, opted_in, occurred_at, source, event_id, purpose) VALUES (?, ?, ?, ?, ?, ?)")
            .run(.integer(customer), .of(statement.optedIn), .of(statement.occurredAt), .of(statement.source), .text(statement.eventID),
                 .text(statement.purpose.rawValue))
    }

    func joinCustomGroup(named name: String, customer: CustomerID) throws {
        try Prepared(db, "UPDATE customers SET custom_group_id = (SELECT id FROM customer_groups WHERE name = ?) WHERE id = ?")
            .run(.text(name), .integer(customer))
    }

    func addNote(text: String, author: String, at time: Timestamp, to customer: CustomerID) throws {
        try Prepared(db, "INSERT INTO customer_notes (customer_id, text, author, created_at) VALUES (?, ?, ?, ?)")
            .run(.integer(customer), .text(text), .text(author), .of(time))
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
        try Prepared(db, Self.selectBookingSQL + " WHERE ref = ?").first(.text(ref), read: Self.booking(from:))
    }

    private static func booking(from row: Prepared.Columns) -> BookingRecord {
        var status: Stamped?
        if let value = row.textOrNil(2), let at = row.integerOrNil(3) { status = Stamped(value, at: Timestamp(microseconds: at)) }
        var amount: Money?
        if let minor = row.integerOrNil(5), let currency = row.textOrNil(6) { amount = Money(minorUnits: minor, currency: currency) }
        return BookingRecord(ref: row.text(0), customerID: row.integerOrNil(1), status: status, fields: stampedFields(row, from: 8),
                             amount: amount, amountAt: row.integerOrNil(7).map(Timestamp.init(microseconds:)),
                             firstSeenAt: Timestamp(microseconds: row.integer(4)))
    }

    func saveBooking(_ booking: BookingRecord) throws {
        var values: [SQLValue] = [
            .text(booking.ref), .of(booking.customerID), .of(booking.status?.value), .of(booking.status?.at), .of(booking.firstSeenAt),
            .of(booking.amount?.minorUnits), .of(booking.amount?.currency), .of(booking.amountAt),
        ]
        for field in BookingField.allCases {
            values.append(.of(booking.fields[field]?.value))
            values.append(.of(booking.fields[field]?.at))
        }
        try Prepared(db, Self.upsertBookingSQL).run(values)
    }

    func bookings(of customer: CustomerID) throws -> [BookingRecord] {
        try Prepared(db, Self.selectBookingSQL + " WHERE customer_id = ?").all(.integer(customer), read: Self.booking(from:))
    }

    func addSpend(_ minorUnits: Int64, orders: Int, currency: String, to customer: CustomerID) throws {
        try Prepared(db, """
            INSERT INTO customer_spend (customer_id, currency, total_minor, orders, live_customer_id)
            VALUES (?1, ?2, ?3, ?4, \(LiveSpendOwnerSchema.liveOwner))
            ON CONFLICT DO UPDATE SET total_minor = total_minor + excluded.total_minor, orders = orders + excluded.orders
            """).run(.integer(customer), .text(currency), .integer(minorUnits), .integer(Int64(orders)))
        if orders < 0 {
            try Prepared(db, "DELETE FROM customer_spend WHERE customer_id = ? AND currency = ? AND orders = 0").run(.integer(customer), .text(currency))
        }
    }

    func replaceSpend(_ aggregates: CustomerAggregates, of customer: CustomerID) throws {
        try Prepared(db, "DELETE FROM customer_spend WHERE customer_id = ?").run(.integer(customer))
        let insert = try Prepared(db, """
            INSERT INTO customer_spend (customer_id, currency, total_minor, orders, live_customer_id)
            VALUES (?1, ?2, ?3, ?4, \(LiveSpendOwnerSchema.liveOwner))
            """)
        for (currency, total) in aggregates.spent {
            try insert.run(.integer(customer), .text(currency), .integer(total), .integer(Int64(aggregates.ordersByCurrency[currency] ?? 0)))
        }
    }

    func payment(reference: String) throws -> PaymentRecord? {
        try Prepared(db, """
            SELECT reference, customer_id, booking_ref, amount_minor, currency, method, status, occurred_at FROM payments WHERE reference = ?
            """).first(.text(reference)) { row in
            PaymentRecord(reference: row.text(0), customerID: row.integerOrNil(1), bookingRef: row.textOrNil(2),
                          amount: Money(minorUnits: row.integer(3), currency: row.text(4)), method: row.textOrNil(5),
                          status: row.textOrNil(6).flatMap(PaymentStatus.init(rawValue:)), occurredAt: Timestamp(microseconds: row.integer(7)))
        }
    }

    func savePayment(_ payment: PaymentRecord) throws {
        try Prepared(db, """
            INSERT OR REPLACE INTO payments (reference, customer_id, booking_ref, amount_minor, currency, method, status, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).run(.text(payment.reference), .of(payment.customerID), .of(payment.bookingRef), .integer(payment.amount.minorUnits),
                     .text(payment.amount.currency), .of(payment.method), .of(payment.status?.rawValue), .of(payment.occurredAt))
    }

    func attachPayments(bookingRef: String, to customer: CustomerID) throws {
        try Prepared(db, "UPDATE payments SET customer_id = ? WHERE booking_ref = ? AND customer_id IS NULL").run(.integer(customer), .text(bookingRef))
    }

    func cart(id: String) throws -> CartRecord? {
        try Prepared(db, "SELECT id, customer_id, status, items, total_minor, currency, updated_at, first_seen_at FROM carts WHERE id = ?")
            .first(.text(id)) { row in
                var total: Money?
                if let minor = row.integerOrNil(4), let currency = row.textOrNil(5) { total = Money(minorUnits: minor, currency: currency) }
                return CartRecord(id: row.text(0), customerID: row.integerOrNil(1), status: row.textOrNil(2).flatMap(CartStatus.init(rawValue:)),
                                  items: row.textOrNil(3), total: total, updatedAt: Timestamp(microseconds: row.integer(6)),
                                  firstSeenAt: Timestamp(microseconds: row.integer(7)))
            }
    }

    func saveCart(_ cart: CartRecord) throws {
        try Prepared(db, """
            INSERT OR REPLACE INTO carts (id, customer_id, status, items, total_minor, currency, updated_at, first_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).run(.text(cart.id), .of(cart.customerID), .of(cart.status?.rawValue), .of(cart.items), .of(cart.total?.minorUnits),
                     .of(cart.total?.currency), .of(cart.updatedAt), .of(cart.firstSeenAt))
    }

    func thread(id: String) throws -> ThreadRecord? {
        try Prepared(db, """
            SELECT thread_id, customer_id, contact, subject, booking_ref, is_open, opened_at, first_response_at FROM threads WHERE thread_id = ?
            """).first(.text(id)) { row in
            ThreadRecord(threadID: row.text(0), customerID: row.integerOrNil(1), contact: row.textOrNil(2), subject: row.textOrNil(3),
                         bookingRef: row.textOrNil(4), isOpen: row.bool(5), openedAt: Timestamp(microseconds: row.integer(6)),
                         firstResponseAt: row.integerOrNil(7).map(Timestamp.init(microseconds:)))
        }
    }

    func saveThread(_ thread: ThreadRecord) throws {
        try Prepared(db, """
            INSERT OR REPLACE INTO threads (thread_id, customer_id, contact, subject, booking_ref, is_open, opened_at, first_response_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).run(.text(thread.threadID), .of(thread.customerID), .of(thread.contact), .of(thread.subject), .of(thread.bookingRef),
                     .of(thread.isOpen), .of(thread.openedAt), .of(thread.firstResponseAt))
    }

    func addMessage(_ message: ThreadMessage) throws {
        try Prepared(db, """
            INSERT INTO thread_messages (event_id, thread_id, direction, author, subject, body, booking_ref, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """).run(.text(message.eventID), .text(message.threadID), .text(message.direction.rawValue), .of(message.author), .of(message.subject),
                     .of(message.body), .of(message.bookingRef), .of(message.occurredAt))
    }

    func earliestReply(threadID: String) throws -> Timestamp? {
        try Prepared(db, "SELECT min(occurred_at) FROM thread_messages WHERE thread_id = ? AND direction = 'staff'")
            .first(.text(threadID)) { $0.integerOrNil(0) }?.map(Timestamp.init(microseconds:))
    }

    // MARK: Merges

    func isMergeBlocked(_ first: CustomerID, _ second: CustomerID) throws -> Bool {
        try Prepared(db, "SELECT 1 FROM merge_blocks WHERE first_id = ? AND second_id = ?")
            .first(.integer(min(first, second)), .integer(max(first, second))) { _ in true } ?? false
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
        forgetLoadedRows()  // these write customers rows directly
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
        try db.execute(sql: """
            UPDATE customers SET bookings_count = 0, orders = 0, completed_stays = 0, no_shows = 0, first_order_at = NULL, last_order_at = NULL
            WHERE id = ?
            """, arguments: [loser])
        try replaceSpend(CustomerAggregates(), of: loser)
        return contribution
    }

    private func identifierRefs(of customer: CustomerID) throws -> [Contribution.IdentifierRef] {
        try Row.fetchAll(db, sql: "SELECT kind, key, display, first_seen_at, matchable FROM customer_identifiers WHERE customer_id = ? ORDER BY kind, key",
                         arguments: [customer]).map {
            Contribution.IdentifierRef(kind: $0[0], key: $0[1], display: $0[2], firstSeenAt: $0[3], matchable: $0[4])
        }
    }

    func restoreOwnership(_ contribution: Contribution, to loser: CustomerID, from survivor: CustomerID) throws {
        forgetLoadedRows()  // these write customers rows directly
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

    /// Once anyone has been erased, every event asks this: one indexed lookup per hash.
    func erasureTime(hashes: [String]) throws -> Timestamp? {
        let statement = try Prepared(db, "SELECT max(erased_at) FROM erased_identities WHERE hash = ?")
        return try hashes.compactMap { hash in try statement.first(.text(hash)) { $0.integerOrNil(0) } ?? nil }.max()
            .map(Timestamp.init(microseconds:))
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
        forgetLoadedRows()  // these write customers rows directly
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
        // Messages not yet handed to a gateway are not sent to someone erased.
        try db.execute(sql: "DELETE FROM dispatch_outbox WHERE customer_id IN (\(marks)) AND published_at IS NULL", arguments: ids)
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
