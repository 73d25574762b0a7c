import Foundation
import PatronAMQP
import PatronDomain

/// Builds the message that goes to `patron.dead` for a refused delivery: the original body and
/// properties, the original headers, and Patron's reasons.
///
/// Headers added (documented in `docs/asyncapi.yaml`): `x-patron-error` (`field: reason`),
/// `x-patron-error-field`, `x-patron-error-reason` (stable code), `x-patron-original-exchange`,
/// `x-patron-original-routing-key` (used by `patronctl dead replay`), `x-patron-rejected-at`.
public enum DeadLetter {
    public static let errorHeader = "x-patron-error"
    public static let originalRoutingKeyHeader = "x-patron-original-routing-key"
    public static let originalExchangeHeader = "x-patron-original-exchange"

    public static func message(for delivery: AMQPDelivery, rejection: Rejection, deadExchange: String,
                               at time: Timestamp) -> AMQPOutgoingMessage {
        var properties = delivery.properties
        properties.headers[errorHeader] = .string(rejection.description)
        properties.headers["x-patron-error-field"] = .string(rejection.field)
        properties.headers["x-patron-error-reason"] = .string(rejection.reason.rawValue)
        properties.headers[originalExchangeHeader] = .string(delivery.exchange)
        properties.headers[originalRoutingKeyHeader] = .string(delivery.routingKey)
        properties.headers["x-patron-rejected-at"] = .string(time.description)
        properties.deliveryMode = 2
        return AMQPOutgoingMessage(exchange: deadExchange, routingKey: delivery.routingKey,
                                   properties: properties, body: delivery.body)
    }

    /// The message that replays a dead letter: the same body and properties to the exchange and
    /// routing key it first came through, without Patron's headers.
    public static func replay(_ dead: AMQPDelivery, eventsExchange: String) -> AMQPOutgoingMessage {
        var properties = dead.properties
        let routingKey: String
        if case .string(let original)? = properties.headers[originalRoutingKeyHeader] {
            routingKey = original
        } else {
            routingKey = dead.routingKey
        }
        properties.headers.entries.removeAll { $0.key.hasPrefix("x-patron-") || $0.key.hasPrefix("x-death") || $0.key.hasPrefix("x-first-death") || $0.key.hasPrefix("x-last-death") }
        return AMQPOutgoingMessage(exchange: eventsExchange, routingKey: routingKey, properties: properties, body: dead.body)
    }
}
