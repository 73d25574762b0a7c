import PatronDomain

/// The records one batch of events reads and writes, held in memory while the batch applies.
///
/// Before the batch applies, what its events will look up (``BatchKeys``) is loaded with one
/// statement per kind of key. ``RecordApplier`` then reads and changes that state, event by event
/// and in order, and every row the batch changed is written once when the batch is done
/// (``flush()``), the rows a customer owns after the customer. On SQLite that saves the
/// statements, triggers and index updates of each row written several times in a batch; on
/// PostgreSQL each lookup was a round trip of its own.
///
/// What the loaded state does not cover is read from the database, after the pending writes (so
/// the read sees them). The rare operations that rewrite rows the state holds (merges, erasure)
/// also drop the state; the event loop loads it again for the events that remain
/// (``needsLoading``).
final class BatchRecords<Statements: SQLStatements>: DispatchTransaction {
    private let base: SQLRecordTransaction<Statements>
    private var statements: Statements { base.statements }

    private struct IdentifierKey: Hashable {
        let kind: String
        let key: String
    }

    private struct IdentifierRow: Hashable {
        let identifier: IdentifierKey
        let customer: CustomerID
    }

    private struct IdentifierValues {
        var display: String
        var firstSeenAt: Timestamp
        let matchable: Bool
    }

    private struct SpendKey: Hashable, Comparable {
        let customer: CustomerID
        let currency: String

        static func < (lhs: SpendKey, rhs: SpendKey) -> Bool { (lhs.customer, lhs.currency) < (rhs.customer, rhs.currency) }
    }

    private struct SpendChange {
        var minorUnits: Int64 = 0
        var orders = 0
        var removedAnOrder = false
    }

    private struct Liveness {
        let mergedInto: CustomerID?
        let erased: Bool
    }

    // What is known, as the database holds it with this batch's pending writes applied. A key
    // that is absent is not known; a key mapped to nil is known to have no row.
    private var identifierOwners: [IdentifierKey: [CustomerID: Bool]] = [:]
    private var numberOwners: [String: CustomerID?] = [:]
    private var liveness: [CustomerID: Liveness] = [:]
    private var customers: [CustomerID: CustomerRecord] = [:]
    private var bookings: [String: BookingRecord?] = [:]
    private var payments: [String: PaymentRecord?] = [:]
    private var carts: [String: CartRecord?] = [:]
    private var threads: [String: ThreadRecord?] = [:]
    private var earliestReplies: [String: Timestamp?] = [:]

    // What is to be written.
    private var changedCustomers: Set<CustomerID> = []
    private var changedIdentifiers: [IdentifierRow: IdentifierValues] = [:]
    private var identifierOrder: [IdentifierRow] = []
    private var changedBookings: Set<String> = []
    private var changedPayments: Set<String> = []
    private var changedCarts: Set<String> = []
    private var changedThreads: Set<String> = []
    private var spend: [SpendKey: SpendChange] = [:]
    /// Writes that nothing in the batch reads back, in the order they were asked for; after the
    /// rows above, which they may refer to.
    private var appended: [() throws -> Void] = []
    /// Rows only ever added (consent statements, messages, the journal's), by statement, last.
    private var appendedRows: [RowInsert: [[SQLValue]]] = [:]
    private var appendedRowOrder: [RowInsert] = []

    /// True when the state was dropped (or never loaded): the events that remain should be loaded.
    private(set) var needsLoading = true

    init(_ base: SQLRecordTransaction<Statements>) {
        self.base = base
    }

    /// The customers this transaction created.
    var created: Set<CustomerID> { base.created }

    private var hasPendingWrites: Bool {
        !changedCustomers.isEmpty || !changedIdentifiers.isEmpty || !changedBookings.isEmpty || !changedPayments.isEmpty
            || !changedCarts.isEmpty || !changedThreads.isEmpty || !spend.isEmpty || !appended.isEmpty || !appendedRows.isEmpty
    }

    // MARK: Loading

    /// Loads what `keys` name and is not known yet, one statement per kind of key (per few
    /// hundred keys).
    func load(_ keys: BatchKeys) throws {
        try load(keys, readingAgainIfMoved: true)
    }

    private func load(_ keys: BatchKeys, readingAgainIfMoved: Bool) throws {
        needsLoading = false
        var wantedCustomers = Set<CustomerID>()
        // The customers that rows of other tables name: if another writer merged or erased one
        // of them after those rows were read (PostgreSQL), the rows have moved or gone.
        var namedByIdentifiers = Set<CustomerID>()
        var namedByOwnedRows = Set<CustomerID>()
        func owned(by owner: CustomerID?) {
            guard let owner else { return }
            wantedCustomers.insert(owner)
            namedByOwnedRows.insert(owner)
        }

        let identifiers = Set(keys.identifiers.map { IdentifierKey(kind: $0.kind.rawValue, key: $0.key) }).filter { identifierOwners[$0] == nil }
        for (kind, group) in Dictionary(grouping: identifiers, by: \.kind) {
            for key in group { identifierOwners[key] = [:] }
            try select("SELECT key, customer_id, matchable FROM customer_identifiers WHERE kind = ? AND", column: "key", before: [.text(kind)],
                       group.map { .text($0.key) }) { row in
                let key = IdentifierKey(kind: kind, key: row.text(0))
                identifierOwners[key, default: [:]][row.integer(1)] = row.bool(2)
                if row.bool(2) {
                    wantedCustomers.insert(row.integer(1))
                    namedByIdentifiers.insert(row.integer(1))
                }
            }
        }

        let numbers = keys.customerNumbers.filter { numberOwners[$0] == nil }
        for number in numbers { numberOwners[number] = .some(nil) }
        try select("SELECT number, customer_id FROM customer_numbers WHERE", column: "number", numbers.map(SQLValue.text)) { row in
            numberOwners[row.text(0)] = row.integer(1)
            wantedCustomers.insert(row.integer(1))
        }

        try loadOwnedRows(keys.bookingRefs, into: \.bookings, select: RecordSQL.selectBooking, column: "ref",
                          read: { RecordSQL.booking(from: $0) }, key: \.ref, owner: \.customerID, owned: owned)
        try loadOwnedRows(keys.paymentReferences, into: \.payments, select: RecordSQL.selectPayment, column: "reference",
                          read: { RecordSQL.payment(from: $0) }, key: \.reference, owner: \.customerID, owned: owned)
        try loadOwnedRows(keys.cartIDs, into: \.carts, select: RecordSQL.selectCart, column: "id",
                          read: { RecordSQL.cart(from: $0) }, key: \.id, owner: \.customerID, owned: owned)
        try loadOwnedRows(keys.threadIDs, into: \.threads, select: RecordSQL.selectThread, column: "thread_id",
                          read: { RecordSQL.thread(from: $0) }, key: \.threadID, owner: \.customerID, owned: owned)
        let replyThreads = keys.threadIDs.filter { earliestReplies[$0] == nil }
        for id in replyThreads { earliestReplies[id] = .some(nil) }
        try select("SELECT thread_id, min(occurred_at) FROM thread_messages WHERE direction = 'staff' AND", column: "thread_id",
                   replyThreads.map(SQLValue.text), after: " GROUP BY thread_id") { row in
            earliestReplies[row.text(0)] = Timestamp(microseconds: row.integer(1))
        }

        // The customers found, and those they were merged into, link by link; on PostgreSQL
        // locked, so that no other replica changes them before this transaction ends.
        wantedCustomers = wantedCustomers.filter { liveness[$0] == nil }
        while !wantedCustomers.isEmpty {
            var next = Set<CustomerID>()
            let columns = RecordSQL.customerColumns.count
            try select("SELECT \(RecordSQL.customerColumns.joined(separator: ", ")), id, merged_into, erased_at FROM customers WHERE", column: "id",
                       wantedCustomers.map(SQLValue.integer), after: statements.dialect.lockingRows(orderedBy: "id")) { row in
                let id = row.integer(Int32(columns))
                let state = Liveness(mergedInto: row.integerOrNil(Int32(columns + 1)), erased: !row.isNull(Int32(columns + 2)))
                liveness[id] = state
                if customers[id] == nil {
                    let record = RecordSQL.customer(id, from: row)
                    customers[id] = record
                    base.noteLoaded(record)
                }
                if let target = state.mergedInto, liveness[target] == nil { next.insert(target) }
            }
            wantedCustomers = next
        }
        // Identifiers move on a merge and go on an erasure, and bookings, payments, carts and
        // threads move on a merge: met here, what was read before the customers' locks (which
        // every writer of those rows takes) may be out of date, so it is read again under them.
        // What the rows still say then is what they hold.
        if readingAgainIfMoved, statements.dialect == .postgres,
           namedByIdentifiers.contains(where: { liveness[$0].map { $0.mergedInto != nil || $0.erased } ?? false })
            || namedByOwnedRows.contains(where: { liveness[$0]?.mergedInto != nil }) {
            forgetKnownRows()
            try load(keys, readingAgainIfMoved: false)
        }
    }

    /// Loads the rows of a table a customer owns (bookings, payments, carts, threads) whose keys
    /// are not known yet into `known`, each key without a row as known to have none, and hands
    /// each row's owner to `owned`.
    private func loadOwnedRows<Record>(_ keys: Set<String>, into known: ReferenceWritableKeyPath<BatchRecords, [String: Record?]>,
                                       select sql: String, column: String, read: (Statements.Row) -> Record,
                                       key: KeyPath<Record, String>, owner: KeyPath<Record, CustomerID?>,
                                       owned: (CustomerID?) -> Void) throws {
        let unknown = keys.filter { self[keyPath: known][$0] == nil }
        for key in unknown { self[keyPath: known][key] = .some(nil) }
        try select(sql + " WHERE", column: column, unknown.map(SQLValue.text)) { row in
            let record = read(row)
            self[keyPath: known][record[keyPath: key]] = record
            owned(record[keyPath: owner])
        }
    }

    /// Runs `sql` (which ends in `WHERE` or `AND`) for the rows whose `column` is one of
    /// `values`: one statement for any number of values.
    private func select(_ sql: String, column: String, before: [SQLValue] = [], _ values: [SQLValue], after: String = "",
                        read: (Statements.Row) throws -> Void) throws {
        guard !values.isEmpty else { return }
        let list = try statements.isOneOf(column, values)
        _ = try statements.all("\(sql) \(list.sql)\(after)", before + [list.parameter], read: read)
    }

    // MARK: Writing

    /// Writes every pending change: customers first (their rows are what the others refer to),
    /// then their identifiers, bookings, payments, carts, threads and spend, then appended rows.
    func flush() throws {
        guard hasPendingWrites else { return }
        let (new, known) = changedCustomers.sorted().map { customers[$0]! }.partitioned { base.isUnsaved($0.id) }
        try base.insertCustomers(new)
        for record in known { try base.saveCustomer(record) }
        try RecordSQL.identifierRows.run(identifierOrder.map { row in
            let written = changedIdentifiers[row]!
            return [.text(row.identifier.kind), .text(row.identifier.key), .integer(row.customer), .text(written.display), .of(written.firstSeenAt),
                    .of(written.matchable)]
        }, on: statements)
        try base.saveBookings(changedBookings.sorted().map { bookings[$0]!! })
        try base.savePayments(changedPayments.sorted().map { payments[$0]!! })
        try base.saveCarts(changedCarts.sorted().map { carts[$0]!! })
        try base.saveThreads(changedThreads.sorted().map { threads[$0]!! })
        for (key, change) in spend.sorted(by: { $0.key < $1.key }) {
            if change.minorUnits != 0 || change.orders != 0 {
                try base.addSpend(change.minorUnits, orders: change.orders, currency: key.currency, to: key.customer)
            }
            if change.removedAnOrder, change.orders >= 0 { try base.removeEmptySpend(of: key.customer, currency: key.currency) }
        }
        let appended = self.appended
        let appendedRows = appendedRowOrder.map { ($0, self.appendedRows[$0]!) }
        clearPendingWrites()
        for write in appended { try write() }
        for (insert, rows) in appendedRows { try insert.run(rows, on: statements) }
    }

    /// Drops what is known and pending, after a rollback (of an event's savepoint) or before
    /// rows are rewritten behind the state's back.
    func forget() {
        forgetKnownRows()
        clearPendingWrites()
        base.forgetLoadedRows()
        needsLoading = true
    }

    private func forgetKnownRows() {
        identifierOwners.removeAll()
        numberOwners.removeAll()
        liveness.removeAll()
        customers.removeAll()
        bookings.removeAll()
        payments.removeAll()
        carts.removeAll()
        threads.removeAll()
        earliestReplies.removeAll()
    }

    private func clearPendingWrites() {
        changedCustomers.removeAll()
        changedIdentifiers.removeAll()
        identifierOrder.removeAll()
        changedBookings.removeAll()
        changedPayments.removeAll()
        changedCarts.removeAll()
        changedThreads.removeAll()
        spend.removeAll()
        appended.removeAll()
        appendedRows.removeAll()
        appendedRowOrder.removeAll()
    }

    /// A write (or read) of rows the state may hold or owe: after the pending writes, and with
    /// the state dropped when `rewrites`.
    private func direct<T>(rewrites: Bool = false, _ body: () throws -> T) throws -> T {
        try flush()
        if rewrites { forget() }
        return try body()
    }

    /// An appended write of the caller's own (the journal's link to the event's customer).
    func append(_ write: @escaping () throws -> Void) {
        appended.append(write)
    }

    /// A row only ever added (the journal's), written with the others of its statement.
    func append(_ row: [SQLValue], into insert: RowInsert) {
        if appendedRows[insert] == nil { appendedRowOrder.append(insert) }
        appendedRows[insert, default: []].append(row)
    }

    // MARK: Identity

    func customers(matching identifiers: [Identifier]) throws -> Set<CustomerID> {
        var ids = Set<CustomerID>()
        var unknown: [Identifier] = []
        for identifier in identifiers {
            guard let owners = identifierOwners[IdentifierKey(kind: identifier.kind.rawValue, key: identifier.key)] else {
                unknown.append(identifier)
                continue
            }
            for (id, matchable) in owners where matchable { ids.insert(id) }
        }
        if !unknown.isEmpty { ids.formUnion(try direct { try base.customers(matching: unknown) }) }
        return ids
    }

    func customer(numbered number: String) throws -> CustomerID? {
        guard case .some(let owner) = numberOwners[number] else { return try direct { try base.customer(numbered: number) } }
        guard var id = owner else { return nil }
        while true {
            guard let state = liveness[id] else { return try direct { try base.customer(numbered: number) } }
            if state.erased { return nil }
            guard let next = state.mergedInto else { return id }
            id = next
        }
    }

    func customerIgnoringMerges(numbered number: String) throws -> CustomerID? {
        if case .some(let owner) = numberOwners[number] { return owner }
        return try direct { try base.customerIgnoringMerges(numbered: number) }
    }

    func loadCustomer(_ id: CustomerID) throws -> CustomerRecord {
        if let record = customers[id] { return record }
        let record = try base.loadCustomer(id)
        customers[id] = record
        return record
    }

    func createCustomer(number: String?, firstContactAt: Timestamp) throws -> CustomerRecord {
        let record = try base.createCustomer(number: number, firstContactAt: firstContactAt)
        customers[record.id] = record
        liveness[record.id] = Liveness(mergedInto: nil, erased: false)
        claimNumber(record.customerNo, for: record.id)
        return record
    }

    /// A number known to be free now belongs to `customer` (the insert does nothing when taken).
    private func claimNumber(_ number: String, for customer: CustomerID) {
        if case .some(nil) = numberOwners[number] { numberOwners[number] = customer }
    }

    func saveCustomer(_ record: CustomerRecord) throws {
        customers[record.id] = record
        changedCustomers.insert(record.id)
    }

    func addIdentifiers(_ identifiers: [Identifier], to customer: CustomerID, at time: Timestamp) throws {
        for identifier in identifiers {
            let key = IdentifierKey(kind: identifier.kind.rawValue, key: identifier.key)
            let row = IdentifierRow(identifier: key, customer: customer)
            if var written = changedIdentifiers[row] {
                // As the statement's conflict rule: the earliest display form wins.
                if time < written.firstSeenAt || (time == written.firstSeenAt && identifier.display < written.display) {
                    written.display = identifier.display
                    written.firstSeenAt = time
                    changedIdentifiers[row] = written
                }
            } else {
                changedIdentifiers[row] = IdentifierValues(display: identifier.display, firstSeenAt: time, matchable: identifier.matchable)
                identifierOrder.append(row)
            }
            if var owners = identifierOwners[key], owners[customer] == nil {
                owners[customer] = identifier.matchable
                identifierOwners[key] = owners
            }
        }
    }

    func addNumber(_ number: String, to customer: CustomerID) throws {
        claimNumber(number, for: customer)
        appended.append { [base] in try base.addNumber(number, to: customer) }
    }

    func addConsent(_ statement: ConsentStatement, to customer: CustomerID) throws {
        append(RecordSQL.consentValues(statement, customer: customer), into: RecordSQL.consentRows)
    }

    /// The group is joined by a statement of its own, which the record's columns do not hold.
    func joinCustomGroup(named name: String, customer: CustomerID) throws {
        appended.append { [base] in try base.joinCustomGroup(named: name, customer: customer) }
    }

    func addNote(text: String, author: String, at time: Timestamp, to customer: CustomerID) throws {
        appended.append { [base] in try base.addNote(text: text, author: author, at: time, to: customer) }
    }

    func recordIssue(_ issue: RecordIssue) throws {
        appended.append { [base] in try base.recordIssue(issue) }
    }

    func enqueue(_ announcement: Announcement) throws {
        appended.append { [base] in try base.enqueue(announcement) }
    }

    // MARK: Bookings, payments, carts, threads

    func booking(ref: String) throws -> BookingRecord? {
        if case .some(let booking) = bookings[ref] { return booking }
        let booking = try base.booking(ref: ref)
        bookings[ref] = booking
        return booking
    }

    func saveBooking(_ booking: BookingRecord) throws {
        bookings[booking.ref] = booking
        changedBookings.insert(booking.ref)
    }

    func bookings(of customer: CustomerID) throws -> [BookingRecord] {
        try direct { try base.bookings(of: customer) }
    }

    func addSpend(_ minorUnits: Int64, orders: Int, currency: String, to customer: CustomerID) throws {
        let key = SpendKey(customer: customer, currency: currency)
        var change = spend[key] ?? SpendChange()
        change.minorUnits += minorUnits
        change.orders += orders
        if orders < 0 { change.removedAnOrder = true }
        spend[key] = change
    }

    func replaceSpend(_ aggregates: CustomerAggregates, of customer: CustomerID) throws {
        try direct { try base.replaceSpend(aggregates, of: customer) }
    }

    func payment(reference: String) throws -> PaymentRecord? {
        if case .some(let payment) = payments[reference] { return payment }
        let payment = try base.payment(reference: reference)
        payments[reference] = payment
        return payment
    }

    func savePayment(_ payment: PaymentRecord) throws {
        payments[payment.reference] = payment
        changedPayments.insert(payment.reference)
    }

    /// On the payments held here now, and by a statement after the batch's own payments are
    /// written for those that are not.
    func attachPayments(bookingRef: String, to customer: CustomerID) throws {
        for case (let reference, var payment?) in payments where payment.bookingRef == bookingRef && payment.customerID == nil {
            payment.customerID = customer
            payments[reference] = payment
            changedPayments.insert(reference)
        }
        appended.append { [base] in try base.attachPayments(bookingRef: bookingRef, to: customer) }
    }

    func cart(id: String) throws -> CartRecord? {
        if case .some(let cart) = carts[id] { return cart }
        let cart = try base.cart(id: id)
        carts[id] = cart
        return cart
    }

    func saveCart(_ cart: CartRecord) throws {
        carts[cart.id] = cart
        changedCarts.insert(cart.id)
    }

    func thread(id: String) throws -> ThreadRecord? {
        if case .some(let thread) = threads[id] { return thread }
        let thread = try base.thread(id: id)
        threads[id] = thread
        return thread
    }

    func saveThread(_ thread: ThreadRecord) throws {
        threads[thread.threadID] = thread
        changedThreads.insert(thread.threadID)
    }

    func addMessage(_ message: ThreadMessage) throws {
        if message.direction == .staff, case .some(let earliest) = earliestReplies[message.threadID] {
            earliestReplies[message.threadID] = min(earliest ?? message.occurredAt, message.occurredAt)
        }
        append(RecordSQL.messageValues(message), into: RecordSQL.messageRows)
    }

    func earliestReply(threadID: String) throws -> Timestamp? {
        if case .some(let earliest) = earliestReplies[threadID] { return earliest }
        return try direct { try base.earliestReply(threadID: threadID) }
    }

    // MARK: Merges

    func isMergeBlocked(_ first: CustomerID, _ second: CustomerID) throws -> Bool {
        try base.isMergeBlocked(first, second)
    }

    func blockMerge(_ first: CustomerID, _ second: CustomerID) throws {
        try direct { try base.blockMerge(first, second) }
    }

    /// Merges are common (a guest known by phone and by email, then by both), so the state
    /// follows the move instead of being dropped: what the loser owned is the survivor's.
    func moveOwnership(from loser: CustomerID, to survivor: CustomerID) throws -> Contribution {
        let contribution = try direct { try base.moveOwnership(from: loser, to: survivor) }
        customers[loser] = nil
        liveness[loser] = Liveness(mergedInto: survivor, erased: false)
        for (key, owners) in identifierOwners {
            guard let matchable = owners[loser] else { continue }
            var moved = owners
            moved[loser] = nil
            // As the statement that moves them: a row the survivor has already stays as it is.
            if moved[survivor] == nil { moved[survivor] = matchable }
            identifierOwners[key] = moved
        }
        for case (let ref, var booking?) in bookings where booking.customerID == loser {
            booking.customerID = survivor
            bookings[ref] = booking
        }
        for case (let reference, var payment?) in payments where payment.customerID == loser {
            payment.customerID = survivor
            payments[reference] = payment
        }
        for case (let id, var cart?) in carts where cart.customerID == loser {
            cart.customerID = survivor
            carts[id] = cart
        }
        for case (let id, var thread?) in threads where thread.customerID == loser {
            thread.customerID = survivor
            threads[id] = thread
        }
        return contribution
    }

    func restoreOwnership(_ contribution: Contribution, to loser: CustomerID, from survivor: CustomerID) throws {
        try direct(rewrites: true) { try base.restoreOwnership(contribution, to: loser, from: survivor) }
    }

    func saveMerge(_ entry: MergeEntry) throws -> Int64 {
        try direct { try base.saveMerge(entry) }
    }

    func latestMerge(loser: CustomerID) throws -> (id: Int64, entry: MergeEntry)? {
        try direct { try base.latestMerge(loser: loser) }
    }

    func markUnmerged(mergeID: Int64) throws {
        try direct { try base.markUnmerged(mergeID: mergeID) }
    }

    // MARK: Erasure

    /// Erasures are written directly (``erasePersonalData(of:hashes:at:source:eventID:)``), never held.
    func erasureTime(hashes: [String]) throws -> Timestamp? {
        try base.erasureTime(hashes: hashes)
    }

    func identityKeys(of customer: CustomerID) throws -> [String] {
        try direct { try base.identityKeys(of: customer) }
    }

    func erasePersonalData(of customer: CustomerID?, hashes: [String], at time: Timestamp, source: String?, eventID: String?) throws {
        try direct(rewrites: true) { try base.erasePersonalData(of: customer, hashes: hashes, at: time, source: source, eventID: eventID) }
    }

    func countSuppressed() throws {
        try base.countSuppressed()
    }

    // MARK: Dispatch

    func isErased(_ customer: CustomerID) throws -> Bool {
        if let state = liveness[customer] { return state.erased }
        return try direct { try base.isErased(customer) }
    }

    func reply(eventID: String) throws -> ThreadMessage? {
        try direct { try base.reply(eventID: eventID) }
    }

    func enqueueDispatch(_ job: DispatchJob, customer: CustomerID, trigger: String, notBefore: Timestamp) throws -> Bool {
        try direct { try base.enqueueDispatch(job, customer: customer, trigger: trigger, notBefore: notBefore) }
    }

    func wasSent(_ template: String, on channel: DispatchChannel, to customer: CustomerID, since: Timestamp, otherThan trigger: String) throws -> Bool {
        try direct { try base.wasSent(template, on: channel, to: customer, since: since, otherThan: trigger) }
    }

    func completedSend(idempotencyKey: String) throws -> CompletedSend? {
        try direct { try base.completedSend(idempotencyKey: idempotencyKey) }
    }

    func recordCompletedSend(_ send: CompletedSend) throws {
        try direct { try base.recordCompletedSend(send) }
    }

    func setDispatchTimer(_ firing: RuleFiring) throws {
        appended.append { [base] in try base.setDispatchTimer(firing) }
    }

    func removeDispatchTimer(key: String) throws {
        appended.append { [base] in try base.removeDispatchTimer(key: key) }
    }
}

extension Sequence {
    /// The elements that satisfy `isFirst`, and the others, each in order.
    fileprivate func partitioned(_ isFirst: (Element) -> Bool) -> ([Element], [Element]) {
        var first: [Element] = []
        var second: [Element] = []
        for element in self {
            if isFirst(element) { first.append(element) } else { second.append(element) }
        }
        return (first, second)
    }
}
