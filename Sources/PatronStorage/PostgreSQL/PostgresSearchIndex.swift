import Foundation
import PatronDomain
import Synchronization

/// The ``SearchIndex`` of one replica, kept in step with the shared database through
/// `search_changes` (p5). A replica's position is the snapshot it last read: the next read lists
/// the changes of every transaction that snapshot did not see and the new one does, in whatever
/// order the replicas committed them. Texts are folded here as SQLite's search rows fold them,
/// so both engines compare the same way.
///
/// Changes are deleted an hour after they were written (``prune(_:)``); a replica that has not
/// read them for half of that loads the index again instead.
final class PostgresSearchIndex: Sendable {
    struct Position: Sendable {
        var snapshot: String
        var readAt: ContinuousClock.Instant
    }

    static let kept: Duration = .seconds(3600)
    private let followed = FollowedSearchIndex<Position>()
    /// The connection the load reads bookings on (tests refuse it).
    private let bookingsConnection: @Sendable (PatronPostgresDatabase) async throws -> PostgresSession
    /// From this size of the bookings table on, they load on a connection of their own: below,
    /// one connection loads in well under a second, and a test suite's many small databases
    /// would each take one more of the server's connections.
    private let parallelFromBytes: Int64
    private let lastPrune = Mutex<ContinuousClock.Instant?>(nil)

    init(parallelFromBytes: Int64 = 32 << 20,
         bookingsConnection: @escaping @Sendable (PatronPostgresDatabase) async throws -> PostgresSession = { database in
             try await PostgresSession.connect(database.location, label: "patron.postgres.search-load", logger: database.logger)
         }) {
        self.parallelFromBytes = parallelFromBytes
        self.bookingsConnection = bookingsConnection
    }

    /// Runs `body` on the index brought up to the snapshot of `statements`' transaction
    /// (REPEATABLE READ, ``PostgresEngine/read(_:)``), loading it first if needed (the bookings
    /// on a connection of its own to `database`, meanwhile).
    func withCurrentIndex<T>(_ statements: PostgresStatements, database: PatronPostgresDatabase,
                             _ body: (borrowing SearchIndex) throws -> T) throws -> T {
        let feed = FollowedSearchIndex<Position>.Feed(
            load: { try Self.load(statements, database: database, parallelFromBytes: self.parallelFromBytes, bookingsConnection: self.bookingsConnection) },
            changes: { try Self.changes(after: $0, statements) },
            facts: { try Self.facts(of: $0, statements) })
        return try followed.withCurrentIndex(feed, body)
    }

    /// Deletes the changes older than ``kept``, at most once a minute (any replica may).
    func prune(_ engine: PostgresEngine) async throws {
        let now = ContinuousClock.now
        let due = lastPrune.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(60) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        try await engine.write { statements in
            try statements.run("DELETE FROM search_changes WHERE at < clock_timestamp() - make_interval(secs => ?)",
                               [.integer(Int64(Self.kept.components.seconds))])
        }
    }

    private static func position(_ statements: PostgresStatements) throws -> Position {
        Position(snapshot: try statements.first("SELECT pg_current_snapshot()::text", []) { $0.text(0) } ?? "", readAt: .now)
    }

    private static func changes(after applied: Position, _ statements: PostgresStatements) throws -> (customers: [CustomerID], position: Position)? {
        guard ContinuousClock.now - applied.readAt < kept / 2 else { return nil }
        let position = try position(statements)
        let customers = try statements.all("""
            SELECT DISTINCT customer_id FROM search_changes
            WHERE xid >= pg_snapshot_xmin(CAST(? AS pg_snapshot)) AND NOT pg_visible_in_snapshot(xid, CAST(? AS pg_snapshot))
            """, [.text(applied.snapshot), .text(applied.snapshot)]) { $0.integer(0) }
        return (customers, position)
    }

    private static let customerColumns = """
        c.id, CAST(c.merged_into IS NULL AND c.erased_at IS NULL AS INTEGER), c.country, c.language, coalesce(c.newsletter, 0), c.auto_group,
        c.custom_group_id, c.first_contact_at, c.last_order_at, c.orders, c.city, c.zip, c.tags, c.first_name, c.last_name
        FROM customers c
        """

    /// A customer's facts, folded as SQLite's search row (v21): a live customer's only.
    private static func customer(_ row: PostgresColumns) -> CustomerFacts {
        var facts = CustomerFacts(id: row.integer(0), isLive: row.integer(1) != 0, country: row.textOrNil(2), language: row.textOrNil(3),
                                  newsletter: row.integer(4) == 1, automaticGroup: Int(row.integer(5)), customGroup: row.integerOrNil(6),
                                  firstContact: row.integer(7), lastOrder: row.integerOrNil(8), orders: row.integer(9))
        guard facts.isLive else { return facts }
        facts.city = row.textOrNil(10).map(SearchText.fold) ?? ""
        facts.zip = row.textOrNil(11).map(SearchText.fold) ?? ""
        facts.tags = SearchText.fold("\u{1F}" + row.text(12) + "\u{1F}").split(separator: "\u{1F}").map(String.init)
        let first = row.textOrNil(13).map(SearchText.fold), last = row.textOrNil(14).map(SearchText.fold)
        facts.sortName = ((last?.isEmpty == false ? last : first) ?? "") + "\u{1}" + (first ?? "")
        return facts
    }

    private static func booking(_ row: PostgresColumns) -> BookingFacts {
        BookingFacts(departure: row.textOrNil(1), salesperson: row.textOrNil(2), transport: row.textOrNil(3), hotel: row.textOrNil(4))
    }

    private static let bookingColumns = "customer_id, departure, salesperson_key, transport_key, hotel_key FROM bookings"

    /// Those customers as they are now, in one statement per table.
    private static func facts(of ids: [CustomerID], _ statements: PostgresStatements) throws -> [CustomerFacts] {
        guard !ids.isEmpty else { return [] }
        let list = try statements.isOneOf("c.id", ids.map(SQLValue.integer))
        var facts = Dictionary(uniqueKeysWithValues: ids.map { ($0, CustomerFacts(id: $0, isLive: false)) })
        for row in try statements.all("SELECT \(customerColumns) WHERE \(list.sql)", [list.parameter], read: customer) { facts[row.id] = row }
        let owners = try statements.isOneOf("customer_id", ids.map(SQLValue.integer))
        try statements.each("SELECT customer_id, currency, total_minor FROM customer_spend WHERE \(owners.sql)", [owners.parameter]) { row in
            facts[row.integer(0)]?.spend[row.text(1)] = row.integer(2)
        }
        try statements.each("SELECT \(bookingColumns) WHERE \(owners.sql)", [owners.parameter]) { row in
            facts[row.integer(0)]?.bookings.append(booking(row))
        }
        return ids.compactMap { facts[$0] }
    }

    /// Every customer, spend and booking, and the snapshot they were read on. The bookings (three
    /// rows per customer, about half of the load) are read on a connection of their own under the
    /// same snapshot (`pg_export_snapshot`) while this one reads the customers: on the 1,066,666-
    /// customer bench data, start to READY 7.4–7.6 s on one connection, 4.7–5.0 s on two. A connection
    /// of its own, not one of the database's sessions: one of those may be waiting for this
    /// index meanwhile. Without it (refused), the bookings are read here after the customers.
    private static func load(_ statements: PostgresStatements, database: PatronPostgresDatabase, parallelFromBytes: Int64,
                             bookingsConnection: @escaping @Sendable (PatronPostgresDatabase) async throws -> PostgresSession) throws -> (SearchIndex, Position) {
        let position = try position(statements)
        let size = try statements.first("SELECT pg_relation_size('bookings')", []) { $0.integer(0) } ?? 0
        guard size >= parallelFromBytes else {
            var index = try customers(statements)
            index.load(try bookings(statements))
            return (index, position)
        }
        let snapshot = try statements.first("SELECT pg_export_snapshot()", []) { $0.text(0) } ?? ""
        let bookingsRead = BlockingResult<LoadedBookings>()
        Task {
            do {
                let session = try await bookingsConnection(database)
                let loaded = await Result(catching: {
                    try await session.perform { other in
                        try other.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        defer { _ = try? other.run("COMMIT") }
                        try other.run("SET TRANSACTION SNAPSHOT '\(snapshot.filter { $0.isHexDigit || $0 == "-" })'")
                        return try bookings(other)
                    }
                })
                await session.close()
                bookingsRead.set(loaded)
            } catch {
                bookingsRead.set(.failure(error))
            }
        }
        var index = try customers(statements)
        switch bookingsRead.wait() {
        case .success(let loaded): index.load(loaded)
        case .failure(let error):
            database.logger.notice("the search index reads bookings on its own connection", metadata: ["reason": "\(error)"])
            index.load(try bookings(statements))
        }
        return (index, position)
    }

    private static let fetching = 20_000

    /// Every customer and its spend.
    private static func customers(_ statements: PostgresStatements) throws -> SearchIndex {
        var index = SearchIndex()
        try statements.each("SELECT \(customerColumns) ORDER BY c.id", [], fetching: fetching) { index.load(customer($0)) }
        try statements.each("SELECT customer_id, currency, total_minor FROM customer_spend", [], fetching: fetching) { row in
            index.load(spend: row.integer(2), of: row.integer(0), currency: row.text(1))
        }
        return index
    }

    private static func bookings(_ statements: PostgresStatements) throws -> LoadedBookings {
        var loaded = LoadedBookings()
        try statements.each("SELECT customer_id, count(*) FROM bookings WHERE customer_id IS NOT NULL GROUP BY customer_id", [], fetching: fetching) { row in
            loaded.count(Int(row.integer(1)), of: row.integer(0))
        }
        try statements.each("SELECT \(bookingColumns) WHERE customer_id IS NOT NULL", [], fetching: fetching) { row in
            loaded.add(booking(row), of: row.integer(0))
        }
        return loaded
    }
}

/// A result handed from a task to a thread that blocks for it: a session's own thread, never
/// the cooperative pool.
private final class BlockingResult<Value: Sendable>: Sendable {
    private let value = Mutex<Result<Value, any Error>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ result: Result<Value, any Error>) {
        value.withLock { $0 = result }
        ready.signal()
    }

    func wait() -> Result<Value, any Error> {
        ready.wait()
        return value.withLock { $0! }
    }
}

private extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
