/// Applies decoded events to customer records through a ``RecordTransaction``: every effect of
/// the event table in EVENTS.md, with identity resolution, merges, consent, groups, tags,
/// aggregates and erasure. Storage runs it inside the journal's transaction, so an event's
/// effects commit together with its id, or not at all.
///
/// Every effect is idempotent (the journal drops a second delivery) and order-independent: each
/// value carries the `occurred_at` that set it, and derived figures are recomputed per customer.
public struct RecordApplier: Sendable {
    public let rules: RecordRules
    public let hasher: any IdentityHasher

    public init(rules: RecordRules, hasher: any IdentityHasher) {
        self.rules = rules
        self.hasher = hasher
    }

    public enum Outcome: Sendable, Equatable {
        /// Applied; the customer it concerned, if any (the journal links the event to it, so an
        /// erasure can redact its payload).
        case applied(CustomerID?)
        /// Dropped: it occurred before an erasure of its identity.
        case suppressed
    }

    public func apply(_ event: DecodedEvent, in store: some RecordTransaction, checkErasures: Bool) throws -> Outcome {
        let envelope = event.envelope
        if case .erasureRequested(let input) = event.payload {
            try erase(input, envelope: envelope, store: store)
            return .applied(nil)
        }
        if checkErasures, let input = event.payload.customer,
           let erasedAt = try store.erasureTime(hashes: identityHashes(input)), envelope.occurredAt <= erasedAt || input.imported {
            try store.countSuppressed()
            return .suppressed
        }
        switch event.payload {
        case .booking(let input, let booking):
            var subject = try input.map { try updatedRecord($0, envelope: envelope, store: store, booked: true) }
            let change = try applyBooking(booking, customer: subject?.id, at: envelope.occurredAt, store: store)
            if let owner = change.after.customerID {
                if var record = subject, record.id == owner {
                    try account(change, to: &record, eventID: envelope.id, store: store)
                    subject = record
                } else {
                    var ownerRecord = try store.loadCustomer(owner)
                    try account(change, to: &ownerRecord, eventID: envelope.id, store: store)
                    try store.saveCustomer(ownerRecord)
                }
            }
            if let subject { try store.saveCustomer(subject) }
            return .applied(subject?.id ?? change.after.customerID)
        case .payment(let input, let payment):
            let customer = try input.map { try resolveAndApply($0, envelope: envelope, store: store) }
            return .applied(try applyPayment(payment, customer: customer, at: envelope.occurredAt, store: store))
        case .contactSubmitted(let input, let message):
            let customer = try resolveAndApply(input, envelope: envelope, store: store)
            try applySubmission(message, customer: customer, envelope: envelope, store: store)
            return .applied(customer)
        case .contactReplied(let message):
            return .applied(try applyReply(message, envelope: envelope, store: store))
        case .cart(let input, let cart):
            let customer = try input.map { try resolveAndApply($0, envelope: envelope, store: store) }
            return .applied(try applyCart(cart, customer: customer, at: envelope.occurredAt, store: store))
        case .customerUpdated(let input):
            return .applied(try resolveAndApply(input, envelope: envelope, store: store))
        case .erasureRequested:
            preconditionFailure("handled above")
        }
    }

    // MARK: Identity

    private func resolveAndApply(_ input: CustomerInput, envelope: Envelope, store: some RecordTransaction) throws -> CustomerID {
        let record = try updatedRecord(input, envelope: envelope, store: store, booked: false)
        try store.saveCustomer(record)
        return record.id
    }

    /// The customer the input means, with the input's statements applied; not yet saved, unless
    /// it is new (see ``apply(_:to:isNew:envelope:store:booked:)``).
    private func updatedRecord(_ input: CustomerInput, envelope: Envelope, store: some RecordTransaction,
                               booked: Bool) throws -> CustomerRecord {
        var (record, isNew) = try resolve(input, envelope: envelope, store: store)
        try apply(input, to: &record, isNew: isNew, envelope: envelope, store: store, booked: booked)
        return record
    }

    /// The customer the input means, after any merge it bridges; not yet updated by the input.
    /// A new customer is not stored yet (``RecordTransaction/createCustomer(number:firstContactAt:)``).
    func resolve(_ input: CustomerInput, envelope: Envelope, store: some RecordTransaction) throws -> (record: CustomerRecord, isNew: Bool) {
        let numbered = try input.customerNo.flatMap { try store.customer(numbered: $0) }
        var ids = try store.customers(matching: input.matchableIdentifiers)
        if let numbered { ids.insert(numbered) }
        let records = try ids.sorted().map { try store.loadCustomer($0) }
        var blockedPairs = Set<[CustomerID]>()
        for first in records {
            for second in records where first.id < second.id {
                if try store.isMergeBlocked(first.id, second.id) { blockedPairs.insert([first.id, second.id]) }
            }
        }
        let plan = IdentityResolution.plan(
            candidates: records.map(IdentityResolution.Candidate.init), eventNumber: input.customerNo, numbered: numbered,
            maximumMergeRecords: rules.maximumMergeRecords,
            isBlocked: { blockedPairs.contains([min($0, $1), max($0, $1)]) })
        for issue in plan.issues {
            try store.recordIssue(RecordIssue(kind: issue.kind, customerIDs: issue.customers, eventID: envelope.id,
                                              detail: "identifiers of event matched \(issue.customers.count) records"))
        }
        var record: CustomerRecord
        switch plan.target {
        case .create(let number):
            return (try store.createCustomer(number: number, firstContactAt: envelope.occurredAt), true)
        case .existing(let id):
            record = records.first { $0.id == id }!
        }
        for loser in plan.mergeInto {
            record = try merge(loser: records.first { $0.id == loser }!, into: record, automatic: true,
                               eventID: envelope.id, at: envelope.occurredAt, store: store)
        }
        if let number = input.customerNo, record.numberAssigned, record.customerNo != number {
            try store.addNumber(number, to: record.id)
            record.customerNo = number
            record.numberAssigned = false
        }
        return (record, false)
    }

    /// The input's statements onto the record: fields (newer wins), identifiers, consent, tags,
    /// group. Writes identifiers and consent; the caller saves the record.
    ///
    /// A new record is saved here, before those writes: its row is then written once, complete.
    /// Written empty and then updated, every index of the customers and search tables changed
    /// twice (patron-bench import: about half of a new customer's cost).
    private func apply(_ input: CustomerInput, to record: inout CustomerRecord, isNew: Bool, envelope: Envelope,
                       store: some RecordTransaction, booked: Bool) throws {
        let at = envelope.occurredAt
        record.fields.apply(input.fields, at: at)
        record.firstContactAt = min(record.firstContactAt, at)
        if let optedIn = input.newsletter {
            let stamped = Stamped(optedIn ? "true" : "false", at: at)
            if Stamped.replaces(stamped, record.newsletter) { record.newsletter = stamped }
        }
        for tag in input.tags { try addTag(tag, to: &record, eventID: envelope.id, store: store) }
        upgradeGroup(&record, booked: booked)
        if let minimum = input.minimumGroup { record.group = max(record.group, minimum) }
        if isNew { try store.saveCustomer(record) }

        if !input.identifiers.isEmpty { try store.addIdentifiers(input.identifiers, to: record.id, at: at) }
        if let optedIn = input.newsletter {
            try store.addConsent(ConsentStatement(optedIn: optedIn, occurredAt: at, source: envelope.source, eventID: envelope.id),
                                 to: record.id)
        }
        if let partnerOffers = input.partnerOffers {
            try store.addConsent(ConsentStatement(purpose: .partnerOffers, optedIn: partnerOffers, occurredAt: at,
                                                  source: envelope.source, eventID: envelope.id), to: record.id)
        }
        if let name = input.customGroup { try store.joinCustomGroup(named: name, customer: record.id) }
    }

    /// Visitor → Guest on a booking → Customer with an account; never down.
    private func upgradeGroup(_ record: inout CustomerRecord, booked: Bool) {
        var implied = AutomaticGroup.visitor
        if booked { implied = .guest }
        if record.fields[.account]?.value == "true" { implied = .customer }
        record.group = max(record.group, implied)
    }

    /// Adds a tag unless present; beyond the maximum the tag is reported for staff, and the
    /// event still applies.
    private func addTag(_ tag: String, to record: inout CustomerRecord, eventID: String?, store: some RecordTransaction) throws {
        guard !record.hasTag(tag) else { return }
        guard record.tags.count < rules.maximumTags else {
            try store.recordIssue(RecordIssue(kind: .tagLimit, customerIDs: [record.id], eventID: eventID,
                                              detail: "tag '\(tag)' not added: \(rules.maximumTags) tags already"))
            return
        }
        record.tags.append(tag)
    }

    /// The booking's change in the owner's figures and spend: its old contribution out, its new
    /// one in. Only when the old one may have been the first or last order are the figures
    /// recomputed from all of the customer's bookings.
    private func account(_ change: BookingChange, to record: inout CustomerRecord, eventID: String?,
                         store: some RecordTransaction) throws {
        let new = BookingContribution(change.after, defaultCurrency: rules.defaultCurrency)
        let old = change.before.flatMap { $0.customerID == record.id ? BookingContribution($0, defaultCurrency: rules.defaultCurrency) : nil }
        guard old != new else { return }
        if let old, !record.figures.remove(old) { return try refreshDerived(&record, eventID: eventID, store: store) }
        record.figures.add(new)
        if let old, old.isOrder { try store.addSpend(-old.amountMinor, orders: -1, currency: old.currency, to: record.id) }
        if new.isOrder { try store.addSpend(new.amountMinor, orders: 1, currency: new.currency, to: record.id) }
        try applyFigures(&record, eventID: eventID, store: store)
    }

    /// Figures and spend from all of the customer's bookings (after merges and unmerges, which
    /// move bookings between customers), and what follows from them.
    private func refreshDerived(_ record: inout CustomerRecord, eventID: String?, store: some RecordTransaction) throws {
        let aggregates = CustomerAggregates(bookings: try store.bookings(of: record.id), defaultCurrency: rules.defaultCurrency)
        record.figures = aggregates.figures
        try store.replaceSpend(aggregates, of: record.id)
        try applyFigures(&record, eventID: eventID, store: store)
    }

    /// What follows from the figures: group Guest, the `No-show` and `Regular` tags.
    private func applyFigures(_ record: inout CustomerRecord, eventID: String?, store: some RecordTransaction) throws {
        upgradeGroup(&record, booked: record.figures.bookings > 0)
        if record.figures.noShows > 0 { try addTag(RecordRules.noShowTag, to: &record, eventID: eventID, store: store) }
        if record.figures.completedStays >= rules.regularAfterStays {
            try addTag(RecordRules.regularTag, to: &record, eventID: eventID, store: store)
        }
    }

    // MARK: Merges

    /// Merges `loser` into `survivor`: ownership moves, each field keeps the newer value, the
    /// merge is journaled with what the loser brought and announced as `customer.merged`.
    public func merge(loser: CustomerRecord, into survivor: CustomerRecord, automatic: Bool, eventID: String?,
                      at time: Timestamp, store: some RecordTransaction) throws -> CustomerRecord {
        let brought = try store.moveOwnership(from: loser.id, to: survivor.id)
        var merged = survivor
        merged.fields.merge(loser.fields)
        if let newsletter = loser.newsletter, Stamped.replaces(newsletter, merged.newsletter) { merged.newsletter = newsletter }
        merged.group = max(merged.group, loser.group)
        merged.firstContactAt = min(merged.firstContactAt, loser.firstContactAt)
        for tag in loser.tags { try addTag(tag, to: &merged, eventID: eventID, store: store) }
        if merged.numberAssigned, !loser.numberAssigned {
            merged.customerNo = loser.customerNo
            merged.numberAssigned = false
        }
        let entry = MergeEntry(survivor: survivor.id, loser: loser.id, automatic: automatic, eventID: eventID,
                               mergedAt: time.microseconds, survivorBefore: CustomerSnapshot(survivor),
                               loserBefore: CustomerSnapshot(loser), loserBrought: brought)
        let mergeID = try store.saveMerge(entry)
        try refreshDerived(&merged, eventID: eventID, store: store)
        try store.saveCustomer(merged)
        try store.enqueue(Announcement(id: "customer.merged/\(mergeID)", type: "customer.merged", body: [
            "merge_id": .integer(mergeID), "customer_no": .string(merged.customerNo),
            "merged_customer_no": .string(loser.customerNo), "automatic": .bool(automatic),
            "occurred_at": .string(time.description),
        ]))
        return merged
    }

    public enum UnmergeError: Error, Equatable {
        case unknownCustomer
        case notMerged
    }

    /// Splits a merged-away customer number back out: each record gets back what it brought,
    /// what arrived after the merge stays with the survivor, and the pair is never merged
    /// automatically again. Announced as `customer.unmerged`.
    public func unmerge(customerNo: String, at time: Timestamp, store: some RecordTransaction) throws -> (survivor: CustomerRecord, restored: CustomerRecord) {
        guard let loserID = try store.customerIgnoringMerges(numbered: customerNo) else { throw UnmergeError.unknownCustomer }
        guard let (mergeID, entry) = try store.latestMerge(loser: loserID) else { throw UnmergeError.notMerged }
        guard let survivorID = try store.customer(numbered: entry.survivorBefore.customerNo) ?? store.customer(numbered: entry.loserBefore.customerNo),
              survivorID != loserID else { throw UnmergeError.notMerged }
        try store.restoreOwnership(entry.loserBrought, to: loserID, from: survivorID)
        try store.markUnmerged(mergeID: mergeID)

        let before = entry.loserBefore
        var restored = CustomerRecord(id: loserID, customerNo: before.customerNo, numberAssigned: before.numberAssigned,
                                      fields: before.stampedFields, newsletter: before.newsletterStamp, group: before.group,
                                      firstContactAt: Timestamp(microseconds: before.firstContactAt), tags: before.tags)
        var survivor = try store.loadCustomer(survivorID)
        let survivorBefore = entry.survivorBefore.stampedFields
        let loserFields = before.stampedFields
        for field in ProfileField.allCases where survivor.fields[field] != nil && survivor.fields[field] == loserFields[field]
            && survivorBefore[field] != loserFields[field] {
            survivor.fields.set(field, survivorBefore[field])
        }
        if survivor.newsletter != nil, survivor.newsletter == before.newsletterStamp {
            survivor.newsletter = entry.survivorBefore.newsletterStamp
        }
        let broughtTags = Set(before.tags.map { $0.lowercased() }).subtracting(entry.survivorBefore.tags.map { $0.lowercased() })
        survivor.tags.removeAll { broughtTags.contains($0.lowercased()) }
        if entry.survivorBefore.numberAssigned, survivor.customerNo == before.customerNo {
            survivor.customerNo = entry.survivorBefore.customerNo
            survivor.numberAssigned = true
        }
        if survivor.firstContactAt.microseconds == before.firstContactAt {
            survivor.firstContactAt = Timestamp(microseconds: entry.survivorBefore.firstContactAt)
        }
        survivor.group = entry.survivorBefore.group
        try refreshDerived(&survivor, eventID: nil, store: store)
        try refreshDerived(&restored, eventID: nil, store: store)
        try store.saveCustomer(survivor)
        try store.saveCustomer(restored)
        try store.blockMerge(loserID, survivorID)
        try store.enqueue(Announcement(id: "customer.unmerged/\(mergeID)", type: "customer.unmerged", body: [
            "merge_id": .integer(mergeID), "customer_no": .string(survivor.customerNo),
            "restored_customer_no": .string(restored.customerNo), "occurred_at": .string(time.description),
        ]))
        return (survivor, restored)
    }

    // MARK: Bookings, payments, carts, threads

    /// A booking before and after one event.
    private struct BookingChange {
        var before: BookingRecord?
        var after: BookingRecord
    }

    /// Upserts the booking by `ref`.
    private func applyBooking(_ input: BookingInput, customer: CustomerID?, at: Timestamp,
                              store: some RecordTransaction) throws -> BookingChange {
        let before = try store.booking(ref: input.ref)
        var booking = before ?? BookingRecord(ref: input.ref, customerID: nil, firstSeenAt: at)
        if booking.customerID == nil { booking.customerID = customer }
        booking.firstSeenAt = min(booking.firstSeenAt, at)
        if let status = input.status {
            let stamped = Stamped(status.rawValue, at: at)
            if Stamped.replaces(stamped, booking.status) { booking.status = stamped }
        }
        booking.fields.apply(input.fields, at: at)
        if let amount = input.amount, booking.amountAt.map({ at >= $0 }) ?? true {
            booking.amount = amount
            booking.amountAt = at
        }
        try store.saveBooking(booking)
        if before?.customerID == nil, let owner = booking.customerID { try store.attachPayments(bookingRef: booking.ref, to: owner) }
        return BookingChange(before: before, after: booking)
    }

    private func applyPayment(_ input: PaymentInput, customer: CustomerID?, at: Timestamp,
                              store: some RecordTransaction) throws -> CustomerID? {
        let existing = try store.payment(reference: input.reference)
        var owner = existing?.customerID ?? customer
        if owner == nil, let ref = input.bookingRef { owner = try store.booking(ref: ref)?.customerID }
        var payment = existing ?? PaymentRecord(reference: input.reference, customerID: owner, bookingRef: input.bookingRef,
                                                amount: input.amount, method: input.method, status: input.status, occurredAt: at)
        payment.customerID = owner
        if let existing, at >= existing.occurredAt {
            payment.amount = input.amount
            payment.bookingRef = input.bookingRef ?? existing.bookingRef
            payment.method = input.method ?? existing.method
            payment.status = input.status ?? existing.status
            payment.occurredAt = at
        }
        try store.savePayment(payment)
        return owner
    }

    private func applyCart(_ input: CartInput, customer: CustomerID?, at: Timestamp, store: some RecordTransaction) throws -> CustomerID? {
        let existing = try store.cart(id: input.id)
        var cart = existing ?? CartRecord(id: input.id, customerID: nil, status: nil, items: nil, total: nil, updatedAt: at, firstSeenAt: at)
        if cart.customerID == nil { cart.customerID = customer }
        if existing == nil || at >= cart.updatedAt {
            cart.status = input.status ?? cart.status
            cart.items = input.items.map(Self.itemsJSON) ?? cart.items
            cart.total = input.total ?? cart.total
            cart.updatedAt = at
        }
        cart.firstSeenAt = min(cart.firstSeenAt, at)
        try store.saveCart(cart)
        return cart.customerID
    }

    private func applySubmission(_ message: MessageInput, customer: CustomerID, envelope: Envelope,
                                 store: some RecordTransaction) throws {
        let at = envelope.occurredAt
        // Without thread_id the submission opens a thread named by its event id, so a redelivery
        // or another replica opens the same one.
        let threadID = message.threadID ?? envelope.id
        var thread = try store.thread(id: threadID)
            ?? ThreadRecord(threadID: threadID, customerID: customer, contact: nil, subject: nil, bookingRef: nil,
                            isOpen: true, openedAt: at, firstResponseAt: try store.earliestReply(threadID: threadID))
        if thread.customerID == nil { thread.customerID = customer }
        thread.contact = thread.contact ?? message.contact
        thread.subject = thread.subject ?? message.subject
        thread.bookingRef = thread.bookingRef ?? message.bookingRef
        thread.openedAt = min(thread.openedAt, at)
        thread.isOpen = true
        try store.saveThread(thread)
        try store.addMessage(ThreadMessage(eventID: envelope.id, threadID: threadID, direction: .customer, author: nil,
                                           subject: message.subject, body: message.body, bookingRef: message.bookingRef,
                                           occurredAt: at))
    }

    private func applyReply(_ message: MessageInput, envelope: Envelope, store: some RecordTransaction) throws -> CustomerID? {
        let threadID = message.threadID!
        try store.addMessage(ThreadMessage(eventID: envelope.id, threadID: threadID, direction: .staff, author: message.author,
                                           subject: message.subject, body: message.body, bookingRef: message.bookingRef,
                                           occurredAt: envelope.occurredAt))
        guard var thread = try store.thread(id: threadID) else { return nil }
        thread.firstResponseAt = min(thread.firstResponseAt ?? envelope.occurredAt, envelope.occurredAt)
        try store.saveThread(thread)
        return thread.customerID
    }

    static func itemsJSON(_ items: [CartItem]) -> String {
        (try? JSONOutput.encode(items)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    // MARK: Erasure

    /// Keyed hashes of what identifies the input: its matchable identifiers and its number.
    /// Blocklisted values are left out, so erasing one guest never suppresses the walk-ins who
    /// share the front desk's address.
    func identityHashes(_ input: CustomerInput) -> [String] {
        var keys = input.matchableIdentifiers.map { IdentityKey.of(kind: $0.kind.rawValue, key: $0.key) }
        if let number = input.customerNo { keys.append(IdentityKey.of(kind: "customer_no", key: number)) }
        return keys.map(hasher.hash)
    }

    private func erase(_ input: CustomerInput, envelope: Envelope, store: some RecordTransaction) throws {
        var ids = try store.customers(matching: input.matchableIdentifiers)
        if let number = input.customerNo, let numbered = try store.customer(numbered: number) { ids.insert(numbered) }
        let requested = identityHashes(input)
        if ids.isEmpty {
            // Nobody to erase yet; keep the hashes so that the person's older events, should they
            // arrive late, are dropped.
            try store.erasePersonalData(of: nil, hashes: requested, at: envelope.occurredAt, source: envelope.source, eventID: envelope.id)
            return
        }
        for id in ids.sorted() {
            let record = try store.loadCustomer(id)
            let hashes = Array(Set(requested + (try store.identityKeys(of: id)).map(hasher.hash))).sorted()
            try store.erasePersonalData(of: id, hashes: hashes, at: envelope.occurredAt, source: envelope.source, eventID: envelope.id)
            try store.enqueue(Announcement(id: "customer.erased/\(envelope.id)/\(id)", type: "customer.erased", body: [
                "customer_no": .string(record.customerNo), "erased_at": .string(envelope.occurredAt.description),
            ]))
        }
    }
}
