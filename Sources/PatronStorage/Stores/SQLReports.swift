import Foundation
import PatronDomain

/// The built-in reports' rows, read from one snapshot and handed on one at a time, in the column
/// order of ``ReportRequest/columns(currency:)``. Erased and merged-away customers never appear.
struct SQLReports<Engine: SQLEngine>: ReportSource {
    let engine: Engine

    func rows(_ report: ReportRequest, now: Timestamp, currency: String,
                     row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int {
        let range = report.range(now: now)
        let (from, to) = (range?.lowerBound.microseconds ?? 0, range?.upperBound.microseconds ?? 0)
        let person = "c.customer_no, c.first_name, c.last_name, c.email, c.phone"
        let live = "c.merged_into IS NULL AND c.erased_at IS NULL"
        let query: (sql: String, values: [SQLValue])
        switch report.kind {
        case .newCustomers:
            query = ("""
                SELECT \(person), c.city, c.country, c.language, c.newsletter, c.first_contact_at FROM customers c
                WHERE \(live) AND c.first_contact_at >= ? AND c.first_contact_at < ? ORDER BY c.first_contact_at, c.id
                """, [.integer(from), .integer(to)])
        case .followUp:
            let days = report.period?.days(now: now, in: report.timeZone) ?? "0000-01-01"..."0000-01-01"
            // One line per customer: the last stay that ended in the period.
            query = ("""
                SELECT \(person), c.language, c.newsletter, b.hotel, b.departure FROM customers c
                JOIN (SELECT customer_id, hotel, departure, row_number() OVER (PARTITION BY customer_id ORDER BY departure DESC, ref DESC) AS nth
                      FROM bookings
                      WHERE departure BETWEEN ? AND ? AND coalesce(status, '') NOT IN ('cancelled', 'no_show') AND customer_id IS NOT NULL
                     ) b ON b.customer_id = c.id AND b.nth = 1
                WHERE \(live) ORDER BY b.departure, c.last_name, c.id
                """, [.text(days.lowerBound), .text(days.upperBound)])
        case .abandonedCarts:
            query = ("""
                SELECT k.id, \(person), k.total_minor, k.currency, k.updated_at FROM carts k LEFT JOIN customers c ON c.id = k.customer_id
                WHERE k.status = 'abandoned' AND k.updated_at >= ? AND k.updated_at < ? AND (c.id IS NULL OR (\(live)))
                ORDER BY k.updated_at DESC, k.id
                """, [.integer(from), .integer(to)])
        case .noShows:
            let days = report.period?.days(now: now, in: report.timeZone) ?? "0000-01-01"..."0000-01-01"
            query = ("""
                SELECT b.ref, \(person), b.hotel, b.arrival FROM bookings b JOIN customers c ON c.id = b.customer_id
                WHERE b.status = 'no_show' AND b.arrival BETWEEN ? AND ? AND \(live) ORDER BY b.arrival, b.ref
                """, [.text(days.lowerBound), .text(days.upperBound)])
        case .topCustomers:
            query = ("""
                SELECT \(person), c.orders, p.total_minor, c.last_order_at FROM customer_spend p JOIN customers c ON c.id = p.customer_id
                WHERE p.currency = ? AND \(live) ORDER BY p.total_minor DESC, c.id LIMIT ?
                """, [.text(currency), .integer(Int64(report.limit))])
        }
        let columns = report.columns(currency: currency)
        let kinds = columns.map(\.kind)
        let cartTotal = columns.firstIndex { $0.name == "cart_total" }
        return try await engine.read { statements in
            var count = 0
            try statements.each(query.sql, query.values) { stored in
                var values = kinds.indices.map { ExportValue(stored.value(Int32($0)), as: kinds[$0]) }
                // A cart in another currency: its amount as that currency writes it, not as a number in ours.
                if let cartTotal, let cartCurrency = (0..<stored.columnCount).first(where: { stored.columnName($0) == "currency" }).flatMap(stored.textOrNil),
                   cartCurrency != currency, case .money(let amount) = values[cartTotal] {
                    values[cartTotal] = .text(Money.format(amount, currency: cartCurrency))
                }
                try row(values)
                count += 1
            }
            return count
        }
    }
}
