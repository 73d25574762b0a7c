import PatronAMQP
import PatronDomain
import PatronService
import Testing

struct DeadLetterTests {
    @Test func replayRestoresTheOriginalRouteAndDropsPatronHeaders() {
        var properties = AMQPProperties.persistentJSON(headers: ["tenant": .string("hotel-7")])
        properties.messageID = "m-1"
        properties.headers[DeadLetter.errorHeader] = .string("occurred_at: bad")
        properties.headers[DeadLetter.originalRoutingKeyHeader] = .string("booking.created")
        properties.headers["x-death"] = .array([])
        let replay = DeadLetter.replay(
            AMQPDelivery.forTesting(routingKey: "ignored", properties: properties, body: Array("{}".utf8)),
            eventsExchange: "patron.events")
        #expect(replay.exchange == "patron.events")
        #expect(replay.routingKey == "booking.created")
        #expect(replay.properties.headers == ["tenant": .string("hotel-7")])
        #expect(replay.properties.messageID == "m-1")
        #expect(replay.body == Array("{}".utf8))
    }
}
