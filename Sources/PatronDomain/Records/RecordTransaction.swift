/// What the record rules need from storage, inside the one transaction that also journals the
/// events (``EventStore/record(_:)``). Every method is a plain read or write: the decisions are
/// the domain's (``RecordApplier``), so another database needs only this protocol.
///
/// "Live" customers are those neither merged away nor erased.
public protocol RecordTransaction {
    // Identity
    /// Live customers owning a matchable identifier with one of these keys.
    func customers(matching identifiers: [Identifier]) throws -> Set<CustomerID>
    /// The live customer answering to a number (current number or alias, following merges).
    func customer(numbered number: String) throws -> CustomerID?
    func loadCustomer(_ id: CustomerID) throws -> CustomerRecord
    /// A new customer's id and number (without one, Patron assigns `P-…`). Nothing is stored
    /// until its first ``saveCustomer(_:)``, which must come before any other write about it.
    func createCustomer(number: String?, firstContactAt: Timestamp) throws -> CustomerRecord
    /// Stores the record: a new one whole, a known one as far as it changed.
    func saveCustomer(_ record: CustomerRecord) throws
    /// Adds identifiers the customer does not have yet (the same key twice is kept once, with
    /// the display form of the earliest event).
    func addIdentifiers(_ identifiers: [Identifier], to customer: CustomerID, at time: Timestamp) throws
    /// Makes `number` answer to `customer` (an assigned `P-` number kept as an alias, or a number
    /// taken from an event).
    func addNumber(_ number: String, to customer: CustomerID) throws
    func addConsent(_ statement: ConsentStatement, to customer: CustomerID) throws
    /// Puts the customer in the custom group of that name (the import checked that it exists;
    /// groups are never deleted).
    func joinCustomGroup(named name: String, customer: CustomerID) throws
    /// An internal note by staff.
    func addNote(text: String, author: String, at time: Timestamp, to customer: CustomerID) throws
    func recordIssue(_ issue: RecordIssue) throws
    func enqueue(_ announcement: Announcement) throws

    // Bookings, payments, carts, threads
    func booking(ref: String) throws -> BookingRecord?
    func saveBooking(_ booking: BookingRecord) throws
    /// The customer's bookings, for its figures from scratch (after merges).
    func bookings(of customer: CustomerID) throws -> [BookingRecord]
    /// Adds to the customer's spend in a currency (negative to take away); a currency left with
    /// no orders is dropped.
    func addSpend(_ minorUnits: Int64, orders: Int, currency: String, to customer: CustomerID) throws
    /// Replaces the customer's spend in every currency.
    func replaceSpend(_ aggregates: CustomerAggregates, of customer: CustomerID) throws
    func payment(reference: String) throws -> PaymentRecord?
    func savePayment(_ payment: PaymentRecord) throws
    /// Gives payments of a booking whose customer was unknown to that booking's customer.
    func attachPayments(bookingRef: String, to customer: CustomerID) throws
    func cart(id: String) throws -> CartRecord?
    func saveCart(_ cart: CartRecord) throws
    func thread(id: String) throws -> ThreadRecord?
    func saveThread(_ thread: ThreadRecord) throws
    func addMessage(_ message: ThreadMessage) throws
    /// The earliest staff reply already kept for a thread (replies may arrive before it).
    func earliestReply(threadID: String) throws -> Timestamp?

    // Merges
    func isMergeBlocked(_ first: CustomerID, _ second: CustomerID) throws -> Bool
    func blockMerge(_ first: CustomerID, _ second: CustomerID) throws
    /// Moves everything the loser owns (bookings, payments, threads, carts, notes, consent
    /// statements, identifiers, numbers) to the survivor, marks the loser merged, and says what moved.
    func moveOwnership(from loser: CustomerID, to survivor: CustomerID) throws -> Contribution
    /// The reverse: gives back to `loser` what it brought, wherever merges since have put it.
    func restoreOwnership(_ contribution: Contribution, to loser: CustomerID, from survivor: CustomerID) throws
    func saveMerge(_ entry: MergeEntry) throws -> Int64
    /// The latest merge that took this customer away, not yet undone.
    func latestMerge(loser: CustomerID) throws -> (id: Int64, entry: MergeEntry)?
    func markUnmerged(mergeID: Int64) throws
    /// The customer a number named before it was merged away (not following merges).
    func customerIgnoringMerges(numbered number: String) throws -> CustomerID?

    // Erasure
    /// When an identity with one of these keyed hashes was erased (latest), if ever.
    func erasureTime(hashes: [String]) throws -> Timestamp?
    /// Every identifier and number of a customer (and the customers merged into it), for the
    /// keyed hashes kept after erasure.
    func identityKeys(of customer: CustomerID) throws -> [String]
    /// Removes every personal field and text of the customer and of the records merged into it;
    /// keeps the anonymous row, bookings' figures and payments' amounts; logs the erasure and keeps
    /// the hashes. With no customer (nobody matched yet) it only logs and keeps the hashes.
    func erasePersonalData(of customer: CustomerID?, hashes: [String], at time: Timestamp, source: String?, eventID: String?) throws
    /// Counts an event dropped because it predates an erasure.
    func countSuppressed() throws
}

/// Keyed hashes of erased identifiers (HMAC with a key from the configuration), so that the
/// identity can be recognised without being kept.
public protocol IdentityHasher: Sendable {
    func hash(_ identity: String) -> String
}
