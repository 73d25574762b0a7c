import GRDB
import PatronDomain

/// `stats.get` on SQLite: each KPI one aggregate query over indexed columns (migration
/// v6-stats-indexes) or the figures kept per customer; no customer is loaded.
public struct SQLiteCustomerStats: Sendable {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func stats(_ period: CustomerStats.Period, currency: String) async throws -> CustomerStats {
        try await database.pool.read { db in
            var stats = CustomerStats(period: period, currency: currency)
            let range: StatementArguments = [period.lower, period.upper]
            let live = "merged_into IS NULL AND erased_at IS NULL"
            let orders = "status IN ('confirmed', 'completed') AND first_seen_at BETWEEN ? AND ?"
            func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int64 {
                try Int64.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            }
            stats.customers = try count("SELECT count(*) FROM customers WHERE \(live)")
            stats.newCustomers = try count("SELECT count(*) FROM customers WHERE \(live) AND first_contact_at BETWEEN ? AND ?", range)
            stats.customersWithOrder = try count("SELECT count(DISTINCT customer_id) FROM bookings WHERE customer_id IS NOT NULL AND \(orders)", range)
            // Returning: ordered in the period, known from before it.
            stats.returningCustomers = try count("""
                SELECT count(DISTINCT b.customer_id) FROM bookings b JOIN customers c ON c.id = b.customer_id
                WHERE b.status IN ('confirmed', 'completed') AND b.first_seen_at BETWEEN ? AND ? AND c.first_contact_at < ?
                """, range + [period.lower])
            stats.newsletterOptIns = try count("SELECT count(*) FROM customers WHERE \(live) AND newsletter = 1")
            for row in try Row.fetchAll(db, sql: "SELECT coalesce(currency, ?) AS currency, count(*) AS orders, sum(coalesce(amount_minor, 0)) AS minor FROM bookings WHERE \(orders) GROUP BY 1",
                                        arguments: [currency] + range) {
                stats.revenue[row["currency"]] = (row["minor"], row["orders"])
                stats.orders += row["orders"] as Int64
            }
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM carts WHERE updated_at BETWEEN ? AND ? GROUP BY status", arguments: range) {
                switch row["status"] as String? {
                case "active": stats.activeCarts = row["n"]
                case "abandoned": stats.abandonedCarts = row["n"]
                case "ordered": stats.orderedCarts = row["n"]
                default: break
                }
            }
            stats.visitorCarts = try count("SELECT count(*) FROM carts WHERE customer_id IS NULL AND updated_at BETWEEN ? AND ?", range)
            stats.openThreads = try count("SELECT count(*) FROM threads WHERE is_open = 1")
            stats.averageFirstResponseSeconds = try Double.fetchOne(db, sql: """
                SELECT avg(first_response_at - opened_at) / 1e6 FROM threads WHERE first_response_at IS NOT NULL AND opened_at BETWEEN ? AND ?
                """, arguments: range).map { Int64($0.rounded()) }
            stats.noShows = try count("SELECT count(*) FROM bookings WHERE status = 'no_show' AND first_seen_at BETWEEN ? AND ?", range)
            stats.bookingsDue = try count("SELECT count(*) FROM bookings WHERE status IN ('confirmed', 'completed', 'no_show') AND first_seen_at BETWEEN ? AND ?", range)
            stats.topCustomers = try Row.fetchAll(db, sql: """
                SELECT c.customer_no, p.total_minor FROM customer_spend p JOIN customers c ON c.id = p.customer_id
                WHERE p.currency = ? AND c.merged_into IS NULL AND c.erased_at IS NULL ORDER BY p.total_minor DESC, c.id LIMIT 10
                """, arguments: [currency]).map { CustomerStats.TopCustomer(customerNo: $0["customer_no"], spentMinor: $0["total_minor"]) }
            var methods: [String: CustomerStats.PaymentMethod] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT coalesce(method, 'unknown') AS method, currency, count(*) AS n, sum(amount_minor) AS minor FROM payments
                WHERE coalesce(status, 'succeeded') = 'succeeded' AND occurred_at BETWEEN ? AND ? GROUP BY 1, 2
                """, arguments: range) {
                let method: String = row["method"]
                methods[method, default: .init(method: method, payments: 0, amounts: [:])].payments += row["n"] as Int64
                methods[method]?.amounts[row["currency"]] = row["minor"]
            }
            stats.paymentMethods = methods.values.sorted { ($0.payments, $1.method) > ($1.payments, $0.method) }
            func busiest(_ format: String) throws -> Int? {
                try Int.fetchOne(db, sql: """
                    SELECT CAST(strftime('\(format)', first_seen_at / 1000000, 'unixepoch') AS INTEGER) AS slot FROM bookings WHERE \(orders)
                    GROUP BY slot ORDER BY count(*) DESC, slot LIMIT 1
                    """, arguments: range)
            }
            stats.busiestWeekday = try busiest("%w")
            stats.busiestHour = try busiest("%H")
            return stats
        }
    }
}
