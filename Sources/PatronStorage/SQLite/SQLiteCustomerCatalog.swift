import GRDB
import PatronDomain

/// ``CustomerCatalog`` on SQLite.
public struct SQLiteCustomerCatalog: CustomerCatalog {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func createGroup(name: String, discountBasisPoints: Int64, at time: Timestamp) async throws -> GroupSummary? {
        if AutomaticGroup.allCases.contains(where: { $0.name.lowercased() == name.lowercased() }) { return nil }
        return try await database.pool.write { db in
            try db.execute(sql: "INSERT INTO customer_groups (name, discount_bp, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [name, discountBasisPoints, time.microseconds])
            guard db.changesCount > 0 else { return nil }
            return GroupSummary(name: name, automatic: false, discountBasisPoints: discountBasisPoints, members: 0)
        }
    }

    public func groups() async throws -> [GroupSummary] {
        try await database.pool.read { db in
            let live = "merged_into IS NULL AND erased_at IS NULL"
            let automatic = try AutomaticGroup.allCases.map { group in
                GroupSummary(name: group.name, automatic: true, discountBasisPoints: 0,
                             members: try Int64.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE merged_into IS NULL AND auto_group = ? AND erased_at IS NULL",
                                                         arguments: [group.rawValue]) ?? 0)
            }
            let custom = try Row.fetchAll(db, sql: """
                SELECT g.name, g.discount_bp, (SELECT count(*) FROM customers c WHERE c.custom_group_id = g.id AND \(live)) AS members
                FROM customer_groups g ORDER BY g.name COLLATE NOCASE
                """).map { GroupSummary(name: $0["name"], automatic: false, discountBasisPoints: $0["discount_bp"], members: $0["members"]) }
            return automatic + custom
        }
    }

    public func setGroup(_ customer: CustomerID, group: String) async throws -> Bool {
        try await database.pool.write { db in
            if let automatic = AutomaticGroup.allCases.first(where: { $0.name.lowercased() == group.lowercased() }) {
                try db.execute(sql: "UPDATE customers SET auto_group = ?, custom_group_id = NULL WHERE id = ?", arguments: [automatic.rawValue, customer])
                return true
            }
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM customer_groups WHERE name = ?", arguments: [group]) else { return false }
            try db.execute(sql: "UPDATE customers SET custom_group_id = ? WHERE id = ?", arguments: [id, customer])
            return true
        }
    }

    public func createContact(name: String, email: String?, at time: Timestamp) async throws -> ContactSummary? {
        try await database.pool.write { db in
            try db.execute(sql: "INSERT INTO contacts (name, email, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [name, email, time.microseconds])
            guard db.changesCount > 0 else { return nil }
            let open = try Int64.fetchOne(db, sql: "SELECT count(*) FROM threads WHERE is_open = 1 AND contact = ? COLLATE NOCASE", arguments: [name]) ?? 0
            return ContactSummary(name: name, email: email, openThreads: open)
        }
    }

    public func contacts() async throws -> [ContactSummary] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT name, email, (SELECT count(*) FROM threads t WHERE t.is_open = 1 AND t.contact = contacts.name COLLATE NOCASE) AS open
                FROM contacts ORDER BY name COLLATE NOCASE
                """).map { ContactSummary(name: $0["name"], email: $0["email"], openThreads: $0["open"]) }
        }
    }

    public func threads(open: Bool?, contact: String?, limit: Int) async throws -> [ThreadSummary] {
        try await database.pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let open {
                conditions.append("t.is_open = ?")
                arguments += [open]
            }
            if let contact {
                conditions.append("t.contact = ? COLLATE NOCASE")
                arguments += [contact]
            }
            arguments += [limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let records = SQLiteRecordTransaction(db: db)
            return try Row.fetchAll(db, sql: """
                SELECT t.thread_id, c.customer_no, (SELECT count(*) FROM thread_messages m WHERE m.thread_id = t.thread_id) AS messages
                FROM threads t LEFT JOIN customers c ON c.id = t.customer_id \(filter)
                ORDER BY t.opened_at DESC, t.thread_id LIMIT ?
                """, arguments: arguments).compactMap { row in
                try records.thread(id: row["thread_id"]).map { ThreadSummary(thread: $0, customerNo: row["customer_no"], messages: row["messages"]) }
            }
        }
    }

    public func closeThread(_ threadID: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE threads SET is_open = 0 WHERE thread_id = ?", arguments: [threadID])
            return db.changesCount > 0
        }
    }

    public func carts(_ selection: CartSelection, limit: Int) async throws -> [CartSummary] {
        try await database.pool.read { db in
            let filter = selection == .visitor ? "k.customer_id IS NULL" : "k.status = ?"
            let arguments: StatementArguments = selection == .visitor ? [limit] : [selection.rawValue, limit]
            let records = SQLiteRecordTransaction(db: db)
            return try Row.fetchAll(db, sql: """
                SELECT k.id, c.customer_no FROM carts k LEFT JOIN customers c ON c.id = k.customer_id
                WHERE \(filter) ORDER BY k.updated_at DESC, k.id LIMIT ?
                """, arguments: arguments).compactMap { row in
                try records.cart(id: row["id"]).map { CartSummary(cart: $0, customerNo: row["customer_no"]) }
            }
        }
    }
}
