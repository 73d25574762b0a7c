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

    /// The request's conditions as the index tests them, those it does not hold listed here.
    static func indexConditions(_ conditions: [CustomerSearch.Condition], db: Database) throws -> [IndexCondition] {
        var result: [IndexCondition] = []
        // The word index is asked once, for every word condition together.
        var wordQueries: [String] = []
        for condition in conditions {
            switch condition {
            case .customerNo(let number):
                result.append(.among(try SQLiteRecordTransaction(db: db).customer(numbered: number).map { [$0] } ?? []))
            case .words(let field, let words):
                if let query = SearchWordsSchema.query(columns: field.indexedColumns, words: words) { wordQueries.append(query) }
                // A one-letter word has no trigram: the search rows are read for it.
                for word in words where word.count < 2 {
                    let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                        .replacingOccurrences(of: "_", with: "\\_")
                    let column = field.rawValue
                    result.append(.among(try Prepared(db, """
                        SELECT customer_id FROM customer_search WHERE \(column) LIKE ? ESCAPE '\\' OR \(column) LIKE ? ESCAPE '\\'
                        """).all(.text(escaped + "%"), .text("% " + escaped + "%")) { $0.integer(0) }))
                }
            case .city(let city): result.append(.city(city))
            case .zip(let zip): result.append(.zip(zip))
            case .tag(let tag): result.append(.tag(tag))
            case .group(let name):
                // The group the customer's summary shows: a custom one set by staff, else the automatic
                // one; its name whole, ignoring case and accents (EVENTS.md).
                if let automatic = AutomaticGroup.allCases.first(where: { SearchText.fold($0.name) == SearchText.fold(name) }) {
                    result.append(.automaticGroup(automatic.rawValue))
                } else {
                    result.append(.customGroups(try Prepared(db, "SELECT id FROM customer_groups WHERE patron_fold(name) = ?")
                        .all(.text(SearchText.fold(name))) { $0.integer(0) }))
                }
            case .email(let key): result.append(.among(try owners(kind: "email", key: key, db: db)))
            case .phone(let e164): result.append(.among(try owners(kind: "phone", key: e164, db: db)))
            case .country(let code): result.append(.country(code))
            case .language(let language): result.append(.language(language))
            case .newsletter(let wanted): result.append(.newsletter(wanted))
            case .firstContact(let range): result.append(.firstContact(range.lowerBound.microseconds...range.upperBound.microseconds))
            case .lastOrder(let range): result.append(.lastOrder(range.lowerBound.microseconds...range.upperBound.microseconds))
            case .orders(let range): result.append(.orders(range))
            case .spent(let range, let currency): result.append(.spent(range, currency: currency))
            case .booking(let departure, let salesperson, let transport, let hotel):
                result.append(.booking(departure: departure, salesperson: salesperson, transport: transport, hotel: hotel))
            }
        }
        if !wordQueries.isEmpty {
            let query = wordQueries.map { "(\($0))" }.joined(separator: " AND ")
            result.append(.among(try Prepared(db, "SELECT rowid FROM \(SearchWordsSchema.table) WHERE \(SearchWordsSchema.table) MATCH ?")
                .all(.text(query)) { $0.integer(0) }))
        }
        return result
    }

    private static func owners(kind: String, key: String, db: Database) throws -> [CustomerID] {
        try Prepared(db, "SELECT customer_id FROM customer_identifiers WHERE kind = ? AND key = ?").all(.text(kind), .text(key)) { $0.integer(0) }
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
