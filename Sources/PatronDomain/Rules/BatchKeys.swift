/// The keys a batch of events will look records up by, gathered before the batch applies so that
/// storage can load them with one statement per kind of key instead of one per event: what
/// ``RecordApplier`` and the dispatch rules read for each event type.
public struct BatchKeys: Sendable, Equatable {
    /// Every identifier an event names, matchable or not (each is written with its customer).
    public var identifiers: Set<Identifier> = []
    public var customerNumbers: Set<String> = []
    /// Bookings named by a booking event or by a payment (whose owner may come from its booking).
    public var bookingRefs: Set<String> = []
    public var paymentReferences: Set<String> = []
    public var cartIDs: Set<String> = []
    /// Threads written to; a contact form without `thread_id` opens the thread named by its event id.
    public var threadIDs: Set<String> = []
    /// The events' own ids, by which the journal tells a redelivery from a new event.
    public var eventIDs: Set<String> = []

    public init() {}

    public init(_ events: some Sequence<DecodedEvent>) {
        for event in events { add(event) }
    }

    /// The keys of events as the ingest hands them to storage.
    public init(accepted events: some Sequence<AcceptedEvent>) {
        self.init(events.lazy.map { DecodedEvent(envelope: $0.envelope, payload: $0.payload) })
    }

    public var isEmpty: Bool {
        identifiers.isEmpty && customerNumbers.isEmpty && bookingRefs.isEmpty && paymentReferences.isEmpty && cartIDs.isEmpty
            && threadIDs.isEmpty && eventIDs.isEmpty
    }

    public mutating func add(_ event: DecodedEvent) {
        eventIDs.insert(event.envelope.id)
        if let customer = event.payload.customer {
            identifiers.formUnion(customer.identifiers)
            if let number = customer.customerNo { customerNumbers.insert(number) }
        }
        switch event.payload {
        case .booking(_, let booking):
            bookingRefs.insert(booking.ref)
        case .payment(_, let payment):
            paymentReferences.insert(payment.reference)
            if let ref = payment.bookingRef { bookingRefs.insert(ref) }
        case .contactSubmitted(_, let message):
            threadIDs.insert(message.threadID ?? event.envelope.id)
        case .contactReplied(let message):
            if let id = message.threadID { threadIDs.insert(id) }
        case .cart(_, let cart):
            cartIDs.insert(cart.id)
        case .customerUpdated, .erasureRequested:
            break
        }
    }
}
