import PatronDomain

/// ``CustomerCatalog``: groups, contacts, threads and carts.
struct SQLCustomerCatalog<Engine: SQLEngine>: CustomerCatalog {
    let engine: Engine
    private var dialect: SQLDialect { Engine.Statements.dialect }

    func createGroup(name: String, discountBasisPoints: Int64, at time: Timestamp) async throws -> GroupSummary? {
        if AutomaticGroup.allCases.contains(where: { $0.name.lowercased() == name.lowercased() }) { return nil }
        return try await engine.write { statements in
            let inserted = try statements.changes("INSERT INTO customer_groups (name, discount_bp, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                                  .text(name), .integer(discountBasisPoints), .of(time))
            guard inserted > 0 else { return nil }
            return GroupSummary(name: name, automatic: false, discountBasisPoints: discountBasisPoints, members: 0)
        }
    }

    func groups() async throws -> [GroupSummary] {
        let dialect = self.dialect
        return try await engine.read { statements in
            let live = "merged_into IS NULL AND erased_at IS NULL"
            let automatic = try AutomaticGroup.allCases.map { group in
                GroupSummary(name: group.name, automatic: true, discountBasisPoints: 0,
                             members: try statements.first("SELECT count(*) FROM customers WHERE merged_into IS NULL AND auto_group = ? AND erased_at IS NULL",
                                                           .integer(Int64(group.rawValue))) { $0.integer(0) } ?? 0)
            }
            let custom = try statements.all("""
                SELECT g.name, g.discount_bp, (SELECT count(*) FROM customers c WHERE c.custom_group_id = g.id AND \(live)) AS members
                FROM customer_groups g ORDER BY \(dialect.caseless("g.name"))
                """) { GroupSummary(name: $0.text(0), automatic: false, discountBasisPoints: $0.integer(1), members: $0.integer(2)) }
            return automatic + custom
        }
    }

    func setGroup(_ customer: CustomerID, group: String) async throws -> Bool {
        let dialect = self.dialect
        return try await engine.write { statements in
            if let automatic = AutomaticGroup.allCases.first(where: { $0.name.lowercased() == group.lowercased() }) {
                try statements.run("UPDATE customers SET auto_group = ?, custom_group_id = NULL WHERE id = ?",
                                   .integer(Int64(automatic.rawValue)), .integer(customer))
                return true
            }
            guard let id = try statements.first("SELECT id FROM customer_groups WHERE \(dialect.caseless("name")) = \(dialect.caseless("?"))",
                                                .text(group), read: { $0.integer(0) }) else { return false }
            try statements.run("UPDATE customers SET custom_group_id = ? WHERE id = ?", .integer(id), .integer(customer))
            return true
        }
    }

    func createContact(name: String, email: String?, at time: Timestamp) async throws -> ContactSummary? {
        let dialect = self.dialect
        return try await engine.write { statements in
            let inserted = try statements.changes("INSERT INTO contacts (name, email, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                                  .text(name), .of(email), .of(time))
            guard inserted > 0 else { return nil }
            let open = try statements.first("SELECT count(*) FROM threads WHERE is_open = 1 AND \(dialect.caseless("contact")) = \(dialect.caseless("?"))",
                                            .text(name)) { $0.integer(0) } ?? 0
            return ContactSummary(name: name, email: email, openThreads: open)
        }
    }

    func contacts() async throws -> [ContactSummary] {
        let dialect = self.dialect
        return try await engine.read { statements in
            try statements.all("""
                SELECT name, email, (SELECT count(*) FROM threads t WHERE t.is_open = 1 AND \(dialect.caseless("t.contact")) = \(dialect.caseless("contacts.name"))) AS open
                FROM contacts ORDER BY \(dialect.caseless("name"))
                """) { ContactSummary(name: $0.text(0), email: $0.textOrNil(1), openThreads: $0.integer(2)) }
        }
    }

    func threads(open: Bool?, contact: String?, limit: Int) async throws -> [ThreadSummary] {
        let dialect = self.dialect
        return try await engine.read { statements in
            var conditions: [String] = []
            var values: [SQLValue] = []
            if let open {
                conditions.append("t.is_open = ?")
                values.append(.of(open))
            }
            if let contact {
                conditions.append("\(dialect.caseless("t.contact")) = \(dialect.caseless("?"))")
                values.append(.text(contact))
            }
            values.append(.integer(Int64(limit)))
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let records = SQLRecordTransaction(statements)
            return try statements.all("""
                SELECT t.thread_id, c.customer_no, (SELECT count(*) FROM thread_messages m WHERE m.thread_id = t.thread_id) AS messages
                FROM threads t LEFT JOIN customers c ON c.id = t.customer_id \(filter)
                ORDER BY t.opened_at DESC, t.thread_id LIMIT ?
                """, values) { ($0.text(0), $0.textOrNil(1), $0.integer(2)) }.compactMap { id, customerNo, messages in
                try records.thread(id: id).map { ThreadSummary(thread: $0, customerNo: customerNo, messages: messages) }
            }
        }
    }

    func closeThread(_ threadID: String) async throws -> Bool {
        try await engine.write { try $0.changes("UPDATE threads SET is_open = 0 WHERE thread_id = ?", .text(threadID)) > 0 }
    }

    func carts(_ selection: CartSelection, limit: Int) async throws -> [CartSummary] {
        try await engine.read { statements in
            let filter = selection == .visitor ? "k.customer_id IS NULL" : "k.status = ?"
            let values: [SQLValue] = selection == .visitor ? [.integer(Int64(limit))] : [.text(selection.rawValue), .integer(Int64(limit))]
            let records = SQLRecordTransaction(statements)
            return try statements.all("""
                SELECT k.id, c.customer_no FROM carts k LEFT JOIN customers c ON c.id = k.customer_id
                WHERE \(filter) ORDER BY k.updated_at DESC, k.id LIMIT ?
                """, values) { ($0.text(0), $0.textOrNil(1)) }.compactMap { id, customerNo in
                try records.cart(id: id).map { CartSummary(cart: $0, customerNo: customerNo) }
            }
        }
    }
}
