import Foundation
import GRDB
import PatronDomain

/// `customers.search` on SQLite: the conditions that SQLite's own indexes answer in a few
/// milliseconds (words through the word index, identifiers, customer numbers) list their
/// customers; the search index (``SQLiteSearchIndex``) tests those, or everyone, against the
/// other conditions, counts the matches and keeps the page. A page continues strictly after the
/// previous one's last (key, id), however many rows ingest adds meanwhile.
public struct SQLiteCustomerSearch: CustomerSearchSource {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func search(_ request: CustomerSearch) async throws -> SearchPage {
        try await database.pool.read { [index = database.searchIndex] db in
            let conditions = try Self.indexConditions(request.conditions, db: db)
            let found = try index.withCurrentIndex(db) { index in
                try index.search(conditions, sort: request.sort, currency: request.currency, after: request.after, limit: request.limit)
            }
            return try Self.page(found, request: request, db: db)
        }
    }

    /// The page's summaries, and the cursor after the last one shown.
    private static func page(_ found: IndexPage, request: CustomerSearch, db: Database) throws -> SearchPage {
        let shown = found.rows.prefix(request.limit)
        let ids = shown.map(\.id)
        let summaries = try CustomerSummaries.of(ids, in: SQLiteStatements(db: db))
        var next: String?
        if found.rows.count > request.limit, let last = shown.last {
            next = CustomerSearch.Cursor(sort: request.sort.rawValue, key: last.key, id: last.id).token
        }
        return SearchPage(customers: ids.compactMap { summaries[$0] }, nextCursor: next, total: found.total)
    }

    /// The request's conditions as the index tests them (``SearchIndexConditions``); words
    /// through the trigram word index, asked once for all of them.
    static func indexConditions(_ conditions: [CustomerSearch.Condition], db: Database) throws -> [IndexCondition] {
        try SearchIndexConditions.resolve(conditions, SQLiteStatements(db: db)) { wordConditions in
            var queries: [String] = []
            var lists: [[CustomerID]] = []
            for (field, words) in wordConditions {
                if let query = SearchWordsSchema.query(columns: field.indexedColumns, words: words) { queries.append(query) }
                // A one-letter word has no trigram: the search rows are read for it.
                for word in words where word.count < 2 {
                    let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                        .replacingOccurrences(of: "_", with: "\\_")
                    let column = field.rawValue
                    lists.append(try Prepared(db, """
                        SELECT customer_id FROM customer_search WHERE \(column) LIKE ? ESCAPE '\\' OR \(column) LIKE ? ESCAPE '\\'
                        """).all(.text(escaped + "%"), .text("% " + escaped + "%")) { $0.integer(0) })
                }
            }
            if !queries.isEmpty {
                let query = queries.map { "(\($0))" }.joined(separator: " AND ")
                lists.append(try Prepared(db, "SELECT rowid FROM \(SearchWordsSchema.table) WHERE \(SearchWordsSchema.table) MATCH ?")
                    .all(.text(query)) { $0.integer(0) })
            }
            guard let first = lists.first else { return nil }
            // Rarely more than one list (a one-letter word besides others): the first, where every other holds it.
            guard lists.count > 1 else { return first }
            let others = lists.dropFirst().map(Set.init)
            return first.filter { id in others.allSatisfy { $0.contains(id) } }
        }
    }
}

extension CustomerSearch.WordField {
    /// The columns of the word index that hold this field: a name is a first or a last name.
    var indexedColumns: [String] {
        switch self {
        case .name: ["first_name", "last_name"]
        case .firstName: ["first_name"]
        case .lastName: ["last_name"]
        case .company: ["company"]
        case .contact: ["contact"]
        case .address: ["address"]
        }
    }
}
