import PatronAMQP
import Testing

struct AMQPURLTests {
    @Test(arguments: [
        ("amqp://localhost", AMQPURL(useTLS: false, host: "localhost", port: 5672, user: "guest", password: "guest", virtualHost: "/")),
        ("amqp://u:p@h:1234/", AMQPURL(useTLS: false, host: "h", port: 1234, user: "u", password: "p", virtualHost: "/")),
        ("amqps://u:p%40ss@broker.example", AMQPURL(useTLS: true, host: "broker.example", port: 5671, user: "u", password: "p@ss", virtualHost: "/")),
        ("amqp://u:p@h/patron", AMQPURL(useTLS: false, host: "h", port: 5672, user: "u", password: "p", virtualHost: "patron")),
        ("amqp://u:p@h/%2fhotel", AMQPURL(useTLS: false, host: "h", port: 5672, user: "u", password: "p", virtualHost: "/hotel")),
        ("amqp://u:p@[::1]:5673", AMQPURL(useTLS: false, host: "::1", port: 5673, user: "u", password: "p", virtualHost: "/")),
        ("amqp://", AMQPURL(useTLS: false, host: "localhost", port: 5672, user: "guest", password: "guest", virtualHost: "/")),
    ])
    func parses(_ text: String, _ expected: AMQPURL) throws {
        #expect(try AMQPURL(parsing: text) == expected)
    }

    @Test(arguments: ["http://h", "amqp://h:99999", "amqp://h:port", "amqp://u:p%4@h", "amqp://[::1", "localhost:5672"])
    func refuses(_ text: String) {
        #expect(throws: AMQPError.self) { try AMQPURL(parsing: text) }
    }

    @Test func descriptionHidesThePassword() throws {
        let url = try AMQPURL(parsing: "amqps://patron:s3cret@h:5671/v")
        #expect(url.description == "amqps://patron@h:5671/v")
        #expect(!url.description.contains("s3cret"))
    }
}
