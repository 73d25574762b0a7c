import PatronDomain

/// A search request's conditions as ``SearchIndex`` tests them. What the index does not hold is
/// asked of the database and arrives as the customers it lists: identifiers and customer
/// numbers through their own tables, custom groups by folded name, and the word conditions
/// (every one of a request at once) through the engine's word search, `words` (nil when the
/// conditions hold no word to look for).
enum SearchIndexConditions {
    static func resolve<Statements: SQLStatements>(_ conditions: [CustomerSearch.Condition], _ statements: Statements,
                                                   words: ([(field: CustomerSearch.WordField, words: [String])]) throws -> [CustomerID]?)
        throws -> [IndexCondition] {
        var result: [IndexCondition] = []
        var wordConditions: [(field: CustomerSearch.WordField, words: [String])] = []
        func owners(_ kind: String, _ key: String) throws -> [CustomerID] {
            try statements.all("SELECT customer_id FROM customer_identifiers WHERE kind = ? AND key = ?", [.text(kind), .text(key)]) { $0.integer(0) }
        }
        for condition in conditions {
            switch condition {
            case .customerNo(let number): result.append(.among(try SQLRecordTransaction(statements).customer(numbered: number).map { [$0] } ?? []))
            case .words(let field, let list): wordConditions.append((field, list))
            case .city(let city): result.append(.city(city))
            case .zip(let zip): result.append(.zip(zip))
            case .tag(let tag): result.append(.tag(tag))
            case .group(let name):
                // The group the customer's summary shows: a custom one set by staff, else the automatic
                // one; its name whole, ignoring case and accents (EVENTS.md).
                if let automatic = AutomaticGroup.allCases.first(where: { SearchText.fold($0.name) == SearchText.fold(name) }) {
                    result.append(.automaticGroup(automatic.rawValue))
                } else {
                    let folded = SearchText.fold(name)
                    let groups = try statements.all("SELECT id, name FROM customer_groups", []) { ($0.integer(0), $0.text(1)) }
                    result.append(.customGroups(groups.filter { SearchText.fold($0.1) == folded }.map(\.0)))
                }
            case .email(let key): result.append(.among(try owners("email", key)))
            case .phone(let e164): result.append(.among(try owners("phone", e164)))
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
        // No list when no word could be asked for (a field of spaces): no condition, as before.
        if !wordConditions.isEmpty, let listed = try words(wordConditions) { result.append(.among(listed)) }
        return result
    }
}
