import GRDB
import PatronDomain
import Synchronization

/// The ``SearchIndex`` of one SQLite file, kept in step with it: loaded once (at start, before
/// READY), then, before each search and every quarter second, given the facts of the customers
/// that triggers listed in `search_changes` since (v28). The changes are read on the search's own
/// snapshot, so a search sees every commit its reader sees; a write transaction then deletes the
/// changes the index has read (``prune(_:)``).
final class SQLiteSearchIndex: Sendable {
    private let followed = FollowedSearchIndex<Int64>()
    /// Changes below this may be deleted; -1 until the index is loaded (a load started meanwhile
    /// must still find the changes committed after its snapshot).
    private let pruneBelow = Atomic<Int64>(-1)

    /// Runs `body` on the index brought up to the snapshot `db` reads, loading it first if needed.
    func withCurrentIndex<T>(_ db: Database, _ body: (borrowing SearchIndex) throws -> T) throws -> T {
        let feed = FollowedSearchIndex<Int64>.Feed(load: { try Self.load(db) }, changes: { try Self.changes(after: $0, db) },
                                                   facts: { ids in try ids.map { try Self.facts(of: $0, db) } })
        return try followed.withCurrentIndex(feed, applied: { pruneBelow.store($0, ordering: .releasing) }, body)
    }

    /// Deletes the changes the index has applied, in a write transaction. The last applied one
    /// stays, so that the next change's `seq` (the largest plus one) stays above it.
    func prune(_ db: Database) throws {
        let below = pruneBelow.load(ordering: .acquiring)
        guard below > 0 else { return }
        try Prepared(db, "DELETE FROM search_changes WHERE seq < ?").run(.integer(below))
    }

    private static func changes(after applied: Int64, _ db: Database) throws -> (customers: [CustomerID], position: Int64)? {
        var customers = Set<CustomerID>()
        var last = applied
        try Prepared(db, "SELECT seq, customer_id FROM search_changes WHERE seq > ? ORDER BY seq").each([.integer(applied)], read: { row in
            last = row.integer(0)
            customers.insert(row.integer(1))
        })
        return (customers.sorted(), last)
    }

    private static let customerColumns = """
        c.id, c.merged_into IS NULL AND c.erased_at IS NULL, c.country, c.language, coalesce(c.newsletter, 0), c.auto_group,
        c.custom_group_id, c.first_contact_at, c.last_order_at, c.orders, s.city, s.zip, s.tags, s.sort_name
        FROM customers c LEFT JOIN customer_search s ON s.customer_id = c.id
        """

    private static func customer(_ row: Prepared.Columns) -> CustomerFacts {
        CustomerFacts(id: row.integer(0), isLive: row.integer(1) != 0, country: row.textOrNil(2), language: row.textOrNil(3),
                      newsletter: row.integer(4) == 1, automaticGroup: Int(row.integer(5)), customGroup: row.integerOrNil(6),
                      firstContact: row.integer(7), lastOrder: row.integerOrNil(8), orders: row.integer(9), city: row.textOrNil(10) ?? "",
                      zip: row.textOrNil(11) ?? "", tags: tags(row.textOrNil(12)), sortName: row.textOrNil(13) ?? "")
    }

    /// The search row's tags, folded between separators (`␟vip␟late checkout␟`).
    private static func tags(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: "\u{1F}").map(String.init)
    }

    private static func booking(_ row: Prepared.Columns, from column: Int32) -> BookingFacts {
        BookingFacts(departure: row.textOrNil(column), salesperson: row.textOrNil(column + 1), transport: row.textOrNil(column + 2),
                     hotel: row.textOrNil(column + 3))
    }

    /// One customer as it is now; a customer without a row (none is deleted today) is not live.
    private static func facts(of id: CustomerID, _ db: Database) throws -> CustomerFacts {
        guard var facts = try Prepared(db, "SELECT \(customerColumns) WHERE c.id = ?").first(.integer(id), read: customer) else {
            return CustomerFacts(id: id, isLive: false)
        }
        try Prepared(db, "SELECT currency, total_minor FROM customer_spend WHERE customer_id = ?").each([.integer(id)], read: { row in
            facts.spend[row.text(0)] = row.integer(1)
        })
        facts.bookings = try Prepared(db, "SELECT departure, salesperson_key, transport_key, hotel_key FROM bookings WHERE customer_id = ?")
            .all(.integer(id)) { booking($0, from: 0) }
        return facts
    }

    /// Every customer, spend and booking, and the last change they include (one snapshot).
    private static func load(_ db: Database) throws -> (SearchIndex, applied: Int64) {
        let applied = try Prepared(db, "SELECT coalesce(max(seq), 0) FROM search_changes").first { $0.integer(0) } ?? 0
        var index = SearchIndex()
        try Prepared(db, "SELECT \(customerColumns) ORDER BY c.id").each([]) { index.load(customer($0)) }
        try Prepared(db, "SELECT customer_id, currency, total_minor FROM customer_spend").each([]) { row in
            index.load(spend: row.integer(2), of: row.integer(0), currency: row.text(1))
        }
        var bookings = LoadedBookings()
        try Prepared(db, "SELECT customer_id, count(*) FROM bookings WHERE customer_id IS NOT NULL GROUP BY customer_id").each([]) { row in
            bookings.count(Int(row.integer(1)), of: row.integer(0))
        }
        try Prepared(db, "SELECT customer_id, departure, salesperson_key, transport_key, hotel_key FROM bookings WHERE customer_id IS NOT NULL")
            .each([]) { row in bookings.add(booking(row, from: 1), of: row.integer(0)) }
        index.load(bookings)
        return (index, applied)
    }
}
