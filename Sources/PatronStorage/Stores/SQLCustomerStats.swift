import PatronDomain

/// `stats.get`: each KPI one aggregate query over indexed columns (SQLite's migration
/// v6-stats-indexes, and the same indexes on PostgreSQL) or the figures kept per customer; no
/// customer is loaded. Sums are cast to integers: PostgreSQL sums integers as numeric.
struct SQLCustomerStats<Engine: SQLEngine>: CustomerStatsSource {
    let engine: Engine

    func stats(_ period: CustomerStats.Period, currency: String) async throws -> CustomerStats {
        try await engine.read { statements in
            var stats = CustomerStats(period: period, currency: currency)
            let range: [SQLValue] = [.integer(period.lower), .integer(period.upper)]
            let orders = "status IN ('confirmed', 'completed') AND first_seen_at BETWEEN ? AND ?"
            func count(_ sql: String, _ values: [SQLValue] = []) throws -> Int64 {
                try statements.first(sql, values) { $0.integer(0) } ?? 0
            }
            // EVENTS.md: an erased customer's anonymous row still counts, as its orders and
            // revenue do; a merged-away record is part of its survivor, not a customer.
            stats.customers = try count("SELECT count(*) FROM customers WHERE merged_into IS NULL")
            // New: the first order (of all time) lies inside the period. Returning: an order
            // inside it and the first one before it.
            stats.newCustomers = try count("SELECT count(*) FROM customers WHERE merged_into IS NULL AND first_order_at BETWEEN ? AND ?", range)
            stats.customersWithOrder = try count("SELECT count(DISTINCT customer_id) FROM bookings WHERE customer_id IS NOT NULL AND \(orders)", range)
            stats.returningCustomers = try count("""
                SELECT count(DISTINCT b.customer_id) FROM bookings b JOIN customers c ON c.id = b.customer_id
                WHERE b.status IN ('confirmed', 'completed') AND b.first_seen_at BETWEEN ? AND ? AND c.merged_into IS NULL AND c.first_order_at < ?
                """, range + [.integer(period.lower)])
            stats.newsletterOptIns = try count("SELECT count(*) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL AND newsletter = 1")
            for (currency, orders, minor) in try statements.all("""
                SELECT coalesce(currency, ?) AS currency, count(*) AS orders, CAST(sum(coalesce(amount_minor, 0)) AS BIGINT) AS minor
                FROM bookings WHERE \(orders) GROUP BY 1
                """, [.text(currency)] + range, read: { ($0.text(0), $0.integer(1), $0.integer(2)) }) {
                stats.revenue[currency] = (minor, orders)
                stats.orders += orders
            }
            for (status, count) in try statements.all("SELECT status, count(*) AS n FROM carts WHERE updated_at BETWEEN ? AND ? GROUP BY status",
                                                      range, read: { ($0.textOrNil(0), $0.integer(1)) }) {
                switch status {
                case "active": stats.activeCarts = count
                case "abandoned": stats.abandonedCarts = count
                case "ordered": stats.orderedCarts = count
                default: break
                }
            }
            stats.visitorCarts = try count("SELECT count(*) FROM carts WHERE customer_id IS NULL AND updated_at BETWEEN ? AND ?", range)
            stats.openThreads = try count("SELECT count(*) FROM threads WHERE is_open = 1")
            stats.averageFirstResponseSeconds = try statements.first("""
                SELECT CAST(round(avg(first_response_at - opened_at) / 1e6) AS BIGINT) FROM threads
                WHERE first_response_at IS NOT NULL AND opened_at BETWEEN ? AND ?
                """, range) { $0.integerOrNil(0) } ?? nil
            stats.noShows = try count("SELECT count(*) FROM bookings WHERE status = 'no_show' AND first_seen_at BETWEEN ? AND ?", range)
            stats.bookingsDue = try count("SELECT count(*) FROM bookings WHERE status IN ('confirmed', 'completed', 'no_show') AND first_seen_at BETWEEN ? AND ?", range)
            stats.topCustomers = try statements.all("""
                SELECT c.customer_no, p.total_minor, c.first_name, c.last_name FROM customer_spend p JOIN customers c ON c.id = p.customer_id
                WHERE p.currency = ? AND c.merged_into IS NULL AND c.erased_at IS NULL ORDER BY p.total_minor DESC, c.id LIMIT 10
                """, .text(currency)) { row in
                let name = [row.textOrNil(2), row.textOrNil(3)].compactMap { $0 }.joined(separator: " ")
                return CustomerStats.TopCustomer(customerNo: row.text(0), name: name, spentMinor: row.integer(1))
            }
            var methods: [String: CustomerStats.PaymentMethod] = [:]
            for (method, currency, payments, minor) in try statements.all("""
                SELECT coalesce(method, 'unknown') AS method, currency, count(*) AS n, CAST(sum(amount_minor) AS BIGINT) AS minor FROM payments
                WHERE coalesce(status, 'succeeded') = 'succeeded' AND occurred_at BETWEEN ? AND ? GROUP BY 1, 2
                """, range, read: { ($0.text(0), $0.text(1), $0.integer(2), $0.integerOrNil(3)) }) {
                methods[method, default: .init(method: method, payments: 0, amounts: [:])].payments += payments
                methods[method]?.amounts[currency] = minor
            }
            stats.paymentMethods = methods.values.sorted { ($0.payments, $1.method) > ($1.payments, $0.method) }
            let slots = try statements.all("""
                SELECT first_seen_at / \(CustomerStats.slotMicroseconds) AS slot, count(*) AS n FROM bookings WHERE \(orders) GROUP BY 1
                """, range) { (slot: $0.integer(0), orders: $0.integer(1)) }
            if let busiest = CustomerStats.busiest(slots, in: period.zone) {
                stats.busiestWeekday = busiest.weekday
                stats.busiestHour = busiest.hour
            }
            return stats
        }
    }
}
