import Foundation
import GRDB
import PatronDomain

/// The rows of an export, read from one snapshot and handed on one at a time, so a list of any
/// length is never held in memory. Customers come in name order (the name index is walked, so
/// SQLite sorts nothing); erased and merged-away customers have no search row and never appear.
public struct SQLiteCustomerExport: Sendable {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    /// Calls `row` with each customer's cells, in `request.fields` order; returns the row count.
    /// `row` runs on the database's reader thread (blocking file writes belong there, not on
    /// the cooperative pool).
    public func rows(_ request: ExportRequest, currency: String, row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int {
        try await database.pool.read { db in
            let filter = try SearchFilter(request.search.conditions, db: db)
            let columns = request.fields.map(Self.column)
            var arguments: StatementArguments = request.fields.contains(.totalSpent) ? [currency] : []
            arguments += filter.arguments
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT \(columns.joined(separator: ", ")) FROM customer_search s INDEXED BY customer_search_sort_name
                CROSS JOIN customers c ON c.id = s.customer_id LEFT JOIN customer_groups g ON g.id = c.custom_group_id
                WHERE \(filter.sql(id: "s.customer_id")) ORDER BY s.sort_name, s.customer_id
                """, arguments: arguments)
            var count = 0
            while let values = try cursor.next() {
                try row(request.fields.indices.map { Self.value(request.fields[$0], values, $0) })
                count += 1
            }
            return count
        }
    }

    /// The live customers a search filter selects (its sort and limit aside), in id order: the
    /// recipients of a send. Ids only, so a million recipients take 8 MB.
    public func customerIDs(matching search: CustomerSearch) async throws -> [CustomerID] {
        try await database.pool.read { db in
            let filter = try SearchFilter(search.conditions, db: db)
            return try CustomerID.fetchAll(db, sql: """
                SELECT s.customer_id FROM customer_search s CROSS JOIN customers c ON c.id = s.customer_id
                WHERE \(filter.sql(id: "s.customer_id")) ORDER BY s.customer_id
                """, arguments: filter.arguments)
        }
    }

    /// The SQL for a field; `total_spent` binds the currency (first, as it comes first in the SELECT).
    private static func column(_ field: ExportField) -> String {
        switch field {
        case .address: "trim(coalesce(c.address_line1, '') || ' ' || coalesce(c.address_line2, ''))"
        case .group: "coalesce(g.name, c.auto_group)"
        case .totalSpent: "(SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?)"
        case .notes: "(SELECT group_concat(text, ' | ') FROM (SELECT text FROM customer_notes n WHERE n.customer_id = c.id ORDER BY n.id))"
        case .customerNo, .title, .firstName, .lastName, .company, .email, .phone, .mobile, .fax, .zip, .city, .country, .language,
             .contact, .newsletter, .tags, .orders, .firstContactAt, .lastOrderAt:
            "c.\(field.rawValue)"
        }
    }

    private static func value(_ field: ExportField, _ row: Row, _ index: Int) -> ExportValue {
        let database = row[index] as DatabaseValue
        switch field {
        // No spend in the currency is an amount too: a sum over the column should count it.
        case .totalSpent:
            return .money(Int64.fromDatabaseValue(database) ?? 0)
        case .group where !database.isNull:
            if let automatic = Int64.fromDatabaseValue(database) {
                return .text((AutomaticGroup(rawValue: Int(automatic)) ?? .visitor).name)
            }
            return .text(String.fromDatabaseValue(database) ?? "")
        case .tags where !database.isNull:
            let tags = String.fromDatabaseValue(database) ?? ""
            return tags.isEmpty ? .empty : .text(tags.split(separator: "\u{1F}").joined(separator: ", "))
        default:
            return ExportValue(database, as: field.kind)
        }
    }
}
