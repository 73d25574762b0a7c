import PatronDomain

/// ``CustomerDirectory``: reads beside ingest (SQLite's reader connections, PostgreSQL's other sessions).
struct SQLCustomerDirectory<Engine: SQLEngine>: CustomerDirectory {
    let engine: Engine

    func customers(_ lookup: CustomerLookup) async throws -> [CustomerID] {
        try await engine.read { statements in
            let records = SQLRecordTransaction(statements)
            switch lookup {
            case .number(let number):
                return try records.customer(numbered: number).map { [$0] } ?? []
            case .identifier(let identifier):
                return try records.customers(matching: [identifier]).sorted()
            }
        }
    }

    func file(_ customer: CustomerID) async throws -> CustomerFile {
        try await engine.read { statements in
            let records = SQLRecordTransaction(statements)
            let id = SQLValue.integer(customer)
            var file = CustomerFile(record: try records.loadCustomer(customer))
            file.erasedAt = try statements.first("SELECT erased_at FROM customers WHERE id = ?", id) { $0.integerOrNil(0) }?
                .map(Timestamp.init(microseconds:))
            file.customGroup = try statements.first("""
                SELECT g.name, g.discount_bp FROM customers c JOIN customer_groups g ON g.id = c.custom_group_id WHERE c.id = ?
                """, id) { GroupSummary(name: $0.text(0), automatic: false, discountBasisPoints: $0.integer(1), members: 0) }
            file.identifiers = try statements.all("""
                SELECT kind, key, display, matchable FROM customer_identifiers WHERE customer_id = ? ORDER BY first_seen_at, kind, key
                """, id) { row in
                Identifier(kind: IdentifierKind(rawValue: row.text(0)) ?? .email, key: row.text(1), display: row.text(2), matchable: row.bool(3))
            }
            for (currency, total, orders) in try statements.all("SELECT currency, total_minor, orders FROM customer_spend WHERE customer_id = ?", id, read: { ($0.text(0), $0.integer(1), Int($0.integer(2))) }) {
                file.spent[currency] = total
                file.ordersByCurrency[currency] = orders
            }
            file.consent = try statements.all("""
                SELECT opted_in, occurred_at, source, event_id, purpose FROM consent_statements WHERE customer_id = ? ORDER BY occurred_at, id
                """, id) { row in
                ConsentStatement(purpose: ConsentPurpose(rawValue: row.text(4)) ?? .newsletter, optedIn: row.bool(0),
                                 occurredAt: Timestamp(microseconds: row.integer(1)), source: row.textOrNil(2), eventID: row.text(3))
            }
            file.bookings = try records.bookings(of: customer).sorted { ($0.firstSeenAt, $0.ref) < ($1.firstSeenAt, $1.ref) }
            file.payments = try statements.all("SELECT reference FROM payments WHERE customer_id = ? ORDER BY occurred_at, reference", id) { $0.text(0) }.compactMap(records.payment(reference:))
            file.carts = try statements.all("SELECT id FROM carts WHERE customer_id = ? ORDER BY first_seen_at, id", id) { $0.text(0) }.compactMap(records.cart(id:))
            let messages = """
                SELECT event_id, thread_id, direction, author, subject, body, booking_ref, occurred_at FROM thread_messages
                WHERE thread_id = ? ORDER BY occurred_at, event_id
                """
            file.threads = try statements.all("SELECT thread_id FROM threads WHERE customer_id = ? ORDER BY opened_at, thread_id", id) { $0.text(0) }.compactMap(records.thread(id:)).map { thread in
                    CustomerFile.Thread(thread: thread, messages: try statements.all(messages, .text(thread.threadID)) { row in
                        ThreadMessage(eventID: row.text(0), threadID: row.text(1), direction: ThreadMessage.Direction(rawValue: row.text(2)) ?? .customer,
                                      author: row.textOrNil(3), subject: row.textOrNil(4), body: row.textOrNil(5), bookingRef: row.textOrNil(6),
                                      occurredAt: Timestamp(microseconds: row.integer(7)))
                    })
                }
            file.notes = try statements.all("SELECT text, author, created_at FROM customer_notes WHERE customer_id = ? ORDER BY created_at, id", id) { CustomerFile.Note(text: $0.text(0), author: $0.textOrNil(1), createdAt: Timestamp(microseconds: $0.integer(2))) }
            return file
        }
    }
}
