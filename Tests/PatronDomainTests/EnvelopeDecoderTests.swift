import PatronDomain
import Testing

/// The envelope rules of EVENTS.md as a table: each row is a message and what must come of it.
struct EnvelopeDecoderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let body: String
        var context = MessageContext(routingKey: "booking.created")
        let expected: Expected
        var testDescription: String { name }
    }

    enum Expected: Sendable {
        case accepted(id: String, type: EventType, source: String?)
        case rejected(Rejection.Reason, field: String)
    }

    static let valid = #"{"id":"e-1","type":"booking.created","occurred_at":"2026-11-20T10:15:00+01:00","source":"booking-engine","data":{}}"#

    static let cases: [Case] = [
        Case(name: "complete envelope", body: valid, expected: .accepted(id: "e-1", type: .bookingCreated, source: "booking-engine")),
        Case(name: "id falls back to message_id",
             body: #"{"type":"cart.updated","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(messageID: "m-9", routingKey: "x"), expected: .accepted(id: "m-9", type: .cartUpdated, source: nil)),
        Case(name: "null id falls back to message_id",
             body: #"{"id":null,"type":"cart.updated","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(messageID: "m-9", routingKey: "x"), expected: .accepted(id: "m-9", type: .cartUpdated, source: nil)),
        Case(name: "body id wins over message_id", body: valid,
             context: MessageContext(messageID: "m-9", routingKey: "booking.created"), expected: .accepted(id: "e-1", type: .bookingCreated, source: "booking-engine")),
        Case(name: "no id anywhere", body: #"{"type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .rejected(.missingField, field: "id")),
        Case(name: "empty id", body: #"{"id":"","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(messageID: "m-9", routingKey: "x"), expected: .rejected(.invalidValue, field: "id")),
        Case(name: "id of 129 characters", body: #"{"id":"\#(String(repeating: "a", count: 129))","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .rejected(.invalidValue, field: "id")),
        Case(name: "id of 128 characters", body: #"{"id":"\#(String(repeating: "a", count: 128))","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .accepted(id: String(repeating: "a", count: 128), type: .bookingCreated, source: nil)),
        Case(name: "numeric id", body: #"{"id":42,"type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .rejected(.wrongType, field: "id")),
        Case(name: "empty message_id fallback", body: #"{"type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(messageID: "", routingKey: "x"), expected: .rejected(.invalidValue, field: "properties.message_id")),
        Case(name: "type falls back to AMQP type",
             body: #"{"id":"e","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(type: "payment.recorded", routingKey: "booking.created"), expected: .accepted(id: "e", type: .paymentRecorded, source: nil)),
        Case(name: "type falls back to the routing key",
             body: #"{"id":"e","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(routingKey: "customer.erasure_requested"), expected: .accepted(id: "e", type: .customerErasureRequested, source: nil)),
        Case(name: "envelope type wins over the routing key",
             body: #"{"id":"e","type":"contact.replied","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(routingKey: "booking.created"), expected: .accepted(id: "e", type: .contactReplied, source: nil)),
        Case(name: "unknown envelope type", body: #"{"id":"e","type":"booking.exploded","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .rejected(.unknownType, field: "type")),
        Case(name: "unknown routing key and no type", body: #"{"id":"e","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(routingKey: "misc"), expected: .rejected(.unknownType, field: "routing_key")),
        Case(name: "unknown AMQP type", body: #"{"id":"e","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             context: MessageContext(type: "nope", routingKey: "booking.created"), expected: .rejected(.unknownType, field: "properties.type")),
        Case(name: "type of the wrong JSON type", body: #"{"id":"e","type":["booking.created"],"occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .rejected(.wrongType, field: "type")),
        Case(name: "missing occurred_at", body: #"{"id":"e","type":"booking.created","data":{}}"#,
             expected: .rejected(.missingField, field: "occurred_at")),
        Case(name: "occurred_at without offset", body: #"{"id":"e","type":"booking.created","occurred_at":"2026-11-20T10:15:00","data":{}}"#,
             expected: .rejected(.invalidValue, field: "occurred_at")),
        Case(name: "occurred_at as a number", body: #"{"id":"e","type":"booking.created","occurred_at":1790000000,"data":{}}"#,
             expected: .rejected(.wrongType, field: "occurred_at")),
        Case(name: "occurred_at with fraction and lower-case separators", body: #"{"id":"e","type":"booking.created","occurred_at":"2026-11-20t10:15:00.123456z","data":{}}"#,
             expected: .accepted(id: "e", type: .bookingCreated, source: nil)),
        Case(name: "source of the wrong type", body: #"{"id":"e","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","source":7,"data":{}}"#,
             expected: .rejected(.wrongType, field: "source")),
        Case(name: "missing data", body: #"{"id":"e","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z"}"#,
             expected: .rejected(.missingField, field: "data")),
        Case(name: "data not an object", body: #"{"id":"e","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":[1]}"#,
             expected: .rejected(.wrongType, field: "data")),
        Case(name: "unknown top-level fields are ignored", body: #"{"id":"e","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{},"trace":"x"}"#,
             expected: .accepted(id: "e", type: .bookingCreated, source: nil)),
        Case(name: "not JSON", body: "not json", expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "truncated JSON", body: #"{"id":"e","type":"#, expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "JSON array body", body: "[1,2]", expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "empty body", body: "", expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "duplicate key", body: #"{"id":"a","id":"b","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "duplicate key inside data", body: #"{"id":"a","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{"x":1,"x":2}}"#,
             expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "nesting deeper than 64", body: #"{"id":"a","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{"x":\#(String(repeating: "[", count: 70))\#(String(repeating: "]", count: 70))}}"#,
             expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "trailing data", body: #"{"id":"a","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}} {}"#,
             expected: .rejected(.invalidJSON, field: "body")),
        Case(name: "non-JSON content type", body: valid,
             context: MessageContext(routingKey: "booking.created", contentType: "text/plain"), expected: .rejected(.unsupportedEncoding, field: "properties.content_type")),
        Case(name: "JSON content type with charset", body: valid,
             context: MessageContext(routingKey: "booking.created", contentType: "application/json; charset=utf-8"), expected: .accepted(id: "e-1", type: .bookingCreated, source: "booking-engine")),
        Case(name: "gzip content encoding", body: valid,
             context: MessageContext(routingKey: "booking.created", contentEncoding: "gzip"), expected: .rejected(.unsupportedEncoding, field: "properties.content_encoding")),
        Case(name: "Unicode and SQL-looking values pass verbatim", body: #"{"id":"García-李-Øyvind'); DROP TABLE customers;--","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#,
             expected: .accepted(id: "García-李-Øyvind'); DROP TABLE customers;--", type: .bookingCreated, source: nil)),
    ]

    @Test(arguments: cases)
    func envelopeRule(_ testCase: Case) {
        let result = EnvelopeDecoder().decode(body: Array(testCase.body.utf8), context: testCase.context)
        switch (testCase.expected, result) {
        case (.accepted(let id, let type, let source), .success(let envelope)):
            #expect(envelope.id == id)
            #expect(envelope.type == type)
            #expect(envelope.source == source)
        case (.rejected(let reason, let field), .failure(let rejection)):
            #expect(rejection.reason == reason)
            #expect(rejection.field == field)
            #expect(!rejection.message.isEmpty)
        default:
            Issue.record("expected \(testCase.expected), got \(result)")
        }
    }

    @Test func invalidUTF8IsRejectedAsInvalidJSON() {
        let body: [UInt8] = Array(#"{"id":"e","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{"n":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        let result = EnvelopeDecoder().decode(body: body, context: MessageContext(routingKey: "booking.created"))
        guard case .failure(let rejection) = result else { Issue.record("accepted invalid UTF-8"); return }
        #expect(rejection.field == "body")
    }

    @Test func occurredAtIsKeptAsAnInstant() throws {
        let result = EnvelopeDecoder().decode(body: Array(Self.valid.utf8), context: MessageContext(routingKey: "booking.created"))
        let envelope = try result.get()
        #expect(envelope.occurredAt == Timestamp(rfc3339: "2026-11-20T09:15:00Z"))
    }
}
