import Foundation
import PatronAMQP
import PatronDomain
import SeededRandom

/// The benchmark's event stream: 60 % bookings, 20 % cart updates, 10 % contact forms, 10 %
/// profile updates. New customers come with email and mobile; a quarter of the events name a
/// customer seen earlier in the stream by only one of the two.
/// Deterministic (seeded), so runs compare.
enum EventMix {
    static func messages(count: Int, exchange: String) -> [AMQPOutgoingMessage] {
        var generator = SplitMix64(seed: 42)
        var known = 0
        return (0..<count).map { index in
            let roll = Int(generator.next() % 100)
            let returning = known > 0 && generator.next() % 4 == 0
            let person = returning ? Int(generator.next() % UInt64(known)) : known
            if !returning { known += 1 }
            let identity: String
            if returning {
                // First seen with email and mobile: now by only one of them.
                identity = person % 2 == 0 ? #""mobile":"\#(mobile(person, local: false))""# : #""email":"\#(email(person))""#
            } else {
                identity = #""email":"\#(email(person))","mobile":"\#(mobile(person, local: true))""#
            }
            let customer = #"{\#(identity),"first_name":"Ana","last_name":"García \#(person)","title":"Mrs.","language":"es","address":{"line1":"Calle Mayor \#(person % 200)","zip":"20001","city":"Donostia","country":"ES"},"newsletter":\#(person % 3 == 0)}"#
            let minute = String(format: "%02d:%02d", index / 60 % 60, index % 60)
            let envelope = { (type: String, data: String) in
                #"{"id":"bench-\#(index)","type":"\#(type)","occurred_at":"2026-11-20T10:\#(minute)+01:00","source":"bench","data":\#(data)}"#
            }
            let type: String
            let body: String
            switch roll {
            case 0..<60:
                type = "booking.created"
                body = envelope(type, #"{"customer":\#(customer),"booking":{"ref":"BK-\#(index)","status":"confirmed","hotel":"Hotel Donostia","room_type":"Double","arrival":"2026-12-01","departure":"2026-12-04","guests":2,"transport":"flight","salesperson":"maria","amount":"412.50","currency":"EUR"}}"#)
            case 60..<80:
                type = "cart.updated"
                body = envelope(type, #"{"customer":\#(customer),"cart":{"id":"CART-\#(index)","status":"active","items":[{"hotel":"Hotel Donostia","room_type":"Double","arrival":"2026-12-01","departure":"2026-12-04","quantity":1,"price":"137.50"}],"total":"137.50","currency":"EUR"}}"#)
            case 80..<90:
                type = "contact.submitted"
                body = envelope(type, #"{"customer":\#(customer),"message":{"contact":"customer-service","subject":"Late arrival","body":"We will arrive after midnight, is the reception open?"}}"#)
            default:
                type = "customer.updated"
                body = envelope(type, #"{"customer":\#(customer)}"#)
            }
            return AMQPOutgoingMessage(exchange: exchange, routingKey: type, body: Array(body.utf8))
        }
    }

    static func email(_ person: Int) -> String { "guest\(person)@example.com" }

    static func mobile(_ person: Int, local: Bool) -> String {
        let digits = String(format: "%08d", person % 100_000_000)
        return local ? "6\(digits.prefix(2)) \(digits.dropFirst(2).prefix(3)) \(digits.suffix(3))" : "+346\(digits)"
    }
}
