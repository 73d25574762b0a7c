import PatronDomain
import Testing

/// What a batch will look up, gathered before it applies: every key ``RecordApplier`` reads by,
/// for each event type.
struct BatchKeysTests {
    static func event(_ id: String, _ type: String, _ data: String) throws -> DecodedEvent {
        let body = #"{"id":"\#(id)","type":"\#(type)","occurred_at":"2026-11-20T10:15:00Z","data":\#(data)}"#
        return try EventDataDecoderTests.decoder.decode(body: Array(body.utf8), context: MessageContext(routingKey: type)).get()
    }

    @Test func eachEventTypeNamesWhatItReads() throws {
        let keys = BatchKeys([
            try Self.event("1", "booking.created", #"{"customer":{"email":"Ana@Example.com","mobile":"600111222","customer_no":"C-1"},"booking":{"ref":"BK-1"}}"#),
            try Self.event("2", "payment.recorded", #"{"payment":{"reference":"PAY-1","booking_ref":"BK-2","amount":"5.00"}}"#),
            try Self.event("3", "cart.updated", #"{"cart":{"id":"CART-1"}}"#),
            try Self.event("4", "contact.submitted", #"{"customer":{"email":"luis@example.com"},"message":{"body":"Hola"}}"#),
            try Self.event("5", "contact.submitted", #"{"customer":{"email":"luis@example.com"},"message":{"thread_id":"T-1","body":"Hola"}}"#),
            try Self.event("6", "contact.replied", #"{"message":{"thread_id":"T-2","body":"Sí","author":"ane"}}"#),
            try Self.event("7", "customer.erasure_requested", #"{"customer":{"customer_no":"C-9"}}"#),
        ])
        #expect(Set(keys.identifiers.map { "\($0.kind.rawValue):\($0.key)" }) == ["email:ana@example.com", "phone:+34600111222", "email:luis@example.com"])
        #expect(keys.customerNumbers == ["C-1", "C-9"])
        #expect(keys.bookingRefs == ["BK-1", "BK-2"])
        #expect(keys.paymentReferences == ["PAY-1"])
        #expect(keys.cartIDs == ["CART-1"])
        // A form without thread_id opens the thread named by its event id.
        #expect(keys.threadIDs == ["4", "T-1", "T-2"])
        // Each event's own id, by which the journal finds a redelivery.
        #expect(keys.eventIDs == ["1", "2", "3", "4", "5", "6", "7"])
        #expect(!keys.isEmpty)
    }

    @Test func noEventsNoKeys() {
        #expect(BatchKeys([]).isEmpty)
    }
}
