/// The inbound event types of the contract (EVENTS.md, "Event types").
public enum EventType: String, Sendable, CaseIterable, Hashable {
    case bookingCreated = "booking.created"
    case bookingUpdated = "booking.updated"
    case bookingCancelled = "booking.cancelled"
    case bookingNoShow = "booking.no_show"
    case bookingCompleted = "booking.completed"
    case paymentRecorded = "payment.recorded"
    case contactSubmitted = "contact.submitted"
    case contactReplied = "contact.replied"
    case cartUpdated = "cart.updated"
    case customerUpdated = "customer.updated"
    case customerErasureRequested = "customer.erasure_requested"
}
