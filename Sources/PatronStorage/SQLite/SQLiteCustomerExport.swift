import Foundation
import GRDB
import PatronDomain

/// The rows of an export, read from one snapshot and handed on one at a time, so a list of any
/// length is never held in memory. Customers come in name order (the name index is walked, so
/// SQLite sorts nothing); erased and merged-away customers have no search row and never appear.
public struct SQLiteCustomerExport: CustomerRowSource {
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
            let columns = request.fields.map { ExportColumns.sql($0, .sqlite) }
            var arguments: StatementArguments = ExportColumns.bindsCurrency(request.fields) ? [currency] : []
            arguments += filter.arguments
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT \(columns.joined(separator: ", ")) FROM customer_search s INDEXED BY customer_search_sort_name
                CROSS JOIN customers c ON c.id = s.customer_id LEFT JOIN customer_groups g ON g.id = c.custom_group_id
                WHERE \(filter.sql(id: "s.customer_id")) ORDER BY s.sort_name, s.customer_id
                """, arguments: arguments)
            var count = 0
            while let values = try cursor.next() {
                try row(request.fields.indices.map { ExportColumns.cell(request.fields[$0], SQLValue(values[$0] as DatabaseValue)) })
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
}

private extension SQLValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let double): self = .integer(Int64(double))
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob([UInt8](data))
        }
    }
}
