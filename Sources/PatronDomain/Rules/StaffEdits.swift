/// What staff change by hand through the Customer Center (EVENTS.md, `customers.tag`,
/// `customers.untag`, `customers.note`, `customers.merge`), under the same rules as events.
extension RecordApplier {
    public enum StaffEditError: Error, Equatable {
        /// The customer already has the maximum number of tags.
        case tagLimit(Int)
        case sameCustomer
    }

    /// Adds a tag (in its configured spelling) unless the customer has it; beyond the maximum
    /// it is refused, not dropped.
    public func tag(_ customer: CustomerID, _ tag: String, store: some RecordTransaction) throws {
        var record = try store.loadCustomer(customer)
        let canonical = rules.canonicalTag(tag)
        guard !record.hasTag(canonical) else { return }
        guard record.tags.count < rules.maximumTags else { throw StaffEditError.tagLimit(rules.maximumTags) }
        record.tags.append(canonical)
        try store.saveCustomer(record)
    }

    /// Removes a tag, compared ignoring case; removing an absent tag changes nothing.
    public func untag(_ customer: CustomerID, _ tag: String, store: some RecordTransaction) throws {
        var record = try store.loadCustomer(customer)
        let folded = tag.lowercased()
        record.tags.removeAll { $0.lowercased() == folded }
        try store.saveCustomer(record)
    }

    public func addNote(_ customer: CustomerID, text: String, author: String, at time: Timestamp, store: some RecordTransaction) throws {
        try store.addNote(text: text, author: author, at: time, to: customer)
    }

    /// A merge staff asked for: `from` joins `into`, which keeps its number. Unlike automatic
    /// merges it may join two real customer numbers or a pair once unmerged (staff decide);
    /// it is journaled and can be undone the same way.
    public func mergeByHand(into survivor: CustomerID, from loser: CustomerID, at time: Timestamp,
                            store: some RecordTransaction) throws -> CustomerRecord {
        guard survivor != loser else { throw StaffEditError.sameCustomer }
        return try merge(loser: try store.loadCustomer(loser), into: try store.loadCustomer(survivor), automatic: false,
                         eventID: nil, at: time, store: store)
    }
}
