import Foundation
import GRDB
import PatronDomain

/// The rows of an export, read from one snapshot and handed on one at a time, so a list of any
/// length is never held in memory. Customers come in name order; erased and merged-away
/// customers have no search row and never appear. The search index says who matches.
public struct SQLiteCustomerExport: CustomerRowSource {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    /// Calls `row` with each customer's cells, in `request.fields` order; returns the row count.
    /// `row` runs on the database's reader thread (blocking file writes belong there, not on
    /// the cooperative pool).
    ///
    /// Everyone, or a large share, is read walking the name index (SQLite sorts nothing); a
    /// filter that selects fewer than a quarter of the customers is read by id in the order the
    /// index sorts them into, so that a small selection does not walk a million rows.
    public func rows(_ request: ExportRequest, currency: String, row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int {
        try await database.pool.read { [index = database.searchIndex] db in
            let conditions = try SQLiteCustomerSearch.indexConditions(request.search.conditions, db: db)
            let selection: (ids: [CustomerID], byID: Bool)? = try conditions.isEmpty ? nil : index.withCurrentIndex(db) { index in
                let ids = index.customers(matching: conditions)
                return ids.count * 4 < index.liveCustomers ? (index.inNameOrder(ids), true) : (ids, false)
            }
            let columns = request.fields.map { ExportColumns.sql($0, .sqlite) }
            let bindsCurrency = ExportColumns.bindsCurrency(request.fields)
            let from = """
                FROM customer_search s INDEXED BY customer_search_sort_name
                CROSS JOIN customers c ON c.id = s.customer_id LEFT JOIN customer_groups g ON g.id = c.custom_group_id
                """
            var count = 0
            /// The row's cells, which start at `column`.
            func emit(_ values: Row, from column: Int) throws {
                try row(request.fields.indices.map { ExportColumns.cell(request.fields[$0], SQLValue(values[$0 + column] as DatabaseValue)) })
                count += 1
            }
            if let selection, selection.byID {
                let statement = try db.cachedStatement(sql: "SELECT \(columns.joined(separator: ", ")) \(from) WHERE s.customer_id = ?")
                for id in selection.ids {
                    if let values = try Row.fetchOne(statement, arguments: bindsCurrency ? [currency, id] : [id]) { try emit(values, from: 0) }
                }
                return count
            }
            let selected = selection.map { Set($0.ids) }
            let cursor = try Row.fetchCursor(db, sql: "SELECT s.customer_id, \(columns.joined(separator: ", ")) \(from) ORDER BY s.sort_name, s.customer_id",
                                             arguments: bindsCurrency ? [currency] : [])
            while let values = try cursor.next() {
                guard selected?.contains(values[0]) ?? true else { continue }
                try emit(values, from: 1)
            }
            return count
        }
    }

    /// The live customers a search filter selects (its sort and limit aside), in id order: the
    /// recipients of a send. Ids only, so a million recipients take 8 MB.
    public func customerIDs(matching search: CustomerSearch) async throws -> [CustomerID] {
        try await database.pool.read { [index = database.searchIndex] db in
            let conditions = try SQLiteCustomerSearch.indexConditions(search.conditions, db: db)
            return try index.withCurrentIndex(db) { $0.customers(matching: conditions) }
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
