import Foundation
import GRDB
import PatronDomain

/// The built-in reports' rows, read from one snapshot and handed on one at a time, in the column
/// order of ``ReportRequest/columns(currency:)``. Erased and merged-away customers never appear.
public struct SQLiteReports: Sendable {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    /// Calls `row` for each row of the report as of `now`; returns the row count. `row` runs on
    /// the database's reader thread.
    public func rows(_ report: ReportRequest, now: Timestamp, currency: String,
                     row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int {
        let range = report.range(now: now)
        let (from, to) = (range?.lowerBound.microseconds ?? 0, range?.upperBound.microseconds ?? 0)
        let person = "c.customer_no, c.first_name, c.last_name, c.email, c.phone"
        let live = "c.merged_into IS NULL AND c.erased_at IS NULL"
        let query: (sql: String, arguments: StatementArguments)
        switch report.kind {
        case .newCustomers:
            query = ("""
                SELECT \(person), c.city, c.country, c.language, c.newsletter, c.first_contact_at FROM customers c
                WHERE \(live) AND c.first_contact_at >= ? AND c.first_contact_at < ? ORDER BY c.first_contact_at, c.id
                """, [from, to])
        case .followUp:
            let days = report.period?.days(now: now, in: report.timeZone) ?? "0000-01-01"..."0000-01-01"
            // One line per customer: the last stay that ended in the period.
            query = ("""
                SELECT \(person), c.language, c.newsletter, b.hotel, b.departure FROM customers c
                JOIN (SELECT customer_id, hotel, max(departure) AS departure FROM bookings
                      WHERE departure BETWEEN ? AND ? AND coalesce(status, '') NOT IN ('cancelled', 'no_show') AND customer_id IS NOT NULL
                      GROUP BY customer_id) b ON b.customer_id = c.id
                WHERE \(live) ORDER BY b.departure, c.last_name, c.id
                """, [days.lowerBound, days.upperBound])
        case .abandonedCarts:
            query = ("""
                SELECT k.id, \(person), k.total_minor, k.currency, k.updated_at FROM carts k LEFT JOIN customers c ON c.id = k.customer_id
                WHERE k.status = 'abandoned' AND k.updated_at >= ? AND k.updated_at < ? AND (c.id IS NULL OR (\(live)))
                ORDER BY k.updated_at DESC, k.id
                """, [from, to])
        case .noShows:
            let days = report.period?.days(now: now, in: report.timeZone) ?? "0000-01-01"..."0000-01-01"
            query = ("""
                SELECT b.ref, \(person), b.hotel, b.arrival FROM bookings b JOIN customers c ON c.id = b.customer_id
                WHERE b.status = 'no_show' AND b.arrival BETWEEN ? AND ? AND \(live) ORDER BY b.arrival, b.ref
                """, [days.lowerBound, days.upperBound])
        case .topCustomers:
            query = ("""
                SELECT \(person), c.orders, p.total_minor, c.last_order_at FROM customer_spend p JOIN customers c ON c.id = p.customer_id
                WHERE p.currency = ? AND \(live) ORDER BY p.total_minor DESC, c.id LIMIT ?
                """, [currency, report.limit])
        }
        let columns = report.columns(currency: currency)
        let kinds = columns.map(\.kind)
        let cartTotal = columns.firstIndex { $0.name == "cart_total" }
        return try await database.pool.read { db in
            let cursor = try Row.fetchCursor(db, sql: query.sql, arguments: query.arguments)
            var count = 0
            while let stored = try cursor.next() {
                var values = kinds.indices.map { ExportValue(stored[$0] as DatabaseValue, as: kinds[$0]) }
                // A cart in another currency: its amount as that currency writes it, not as a number in ours.
                if let cartTotal, let cartCurrency = stored["currency"] as String?, cartCurrency != currency, case .money(let amount) = values[cartTotal] {
                    values[cartTotal] = .text(Money.format(amount, currency: cartCurrency))
                }
                try row(values)
                count += 1
            }
            return count
        }
    }
}
