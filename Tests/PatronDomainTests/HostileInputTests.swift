import PatronDomain
import SeededRandom
import Testing

/// Property test of the whole decoder: any byte sequence is either accepted or refused with a
/// field and a reason; it never traps. Inputs are valid events mutated at random (bytes flipped,
/// inserted, removed, spliced), plus pure noise. Seeded, so a failure reproduces.
struct HostileInputTests {
    static let seeds = [
        #"{"id":"e1","type":"booking.created","occurred_at":"2026-11-20T10:15:00+01:00","source":"s","data":{"customer":{"customer_no":"C-1","title":"Mrs.","first_name":"Ana","email":"ana@example.com","mobile":"+34 600 111 222","address":{"line1":"Calle","zip":"20001","country":"ES"},"newsletter":true,"tags":["VIP"]},"booking":{"ref":"BK-1","status":"confirmed","arrival":"2026-12-01","departure":"2026-12-04","guests":2,"amount":"412.50","currency":"EUR"}}}"#,
        #"{"id":"e2","type":"cart.updated","occurred_at":"2026-11-20T10:15:00Z","data":{"cart":{"id":"C","status":"active","items":[{"hotel":"H","quantity":1,"price":"137.50"}],"total":137.5}}}"#,
        #"{"id":"e3","type":"contact.replied","occurred_at":"2026-11-20T10:15:00Z","data":{"message":{"thread_id":"T","body":"Hola 李 Øyvind","author":"m"}}}"#,
        #"{"id":"e4","type":"payment.recorded","occurred_at":"2026-11-20T10:15:00Z","data":{"payment":{"amount":1e2,"currency":"JPY"}}}"#,
    ]

    @Test func mutatedEventsAreAcceptedOrRefusedWithAReason() {
        let decoder = EventDecoder(rules: RecordRules(), phones: FakePhones())
        var generator = SplitMix64(seed: 20261123)
        var accepted = 0
        var refused = 0
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \ntruefalsnul"#.utf8) + [0, 0xC3, 0xA9, 0xFF, 0xE6, 0x9D]
        for round in 0..<20_000 {
            var bytes = Array(Self.seeds[round % Self.seeds.count].utf8)
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let position = Int(generator.next() % UInt64(max(bytes.count, 1)))
                switch generator.next() % 5 {
                case 0 where !bytes.isEmpty: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                case 2 where !bytes.isEmpty: bytes.remove(at: position)
                case 3:
                    let other = Array(Self.seeds[Int(generator.next() % UInt64(Self.seeds.count))].utf8)
                    let start = Int(generator.next() % UInt64(other.count))
                    bytes.insert(contentsOf: other[start..<min(other.count, start + 20)], at: position)
                default: bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                }
            }
            switch decoder.decode(body: bytes, context: MessageContext(routingKey: "booking.created")) {
            case .success: accepted += 1
            case .failure(let rejection):
                refused += 1
                #expect(!rejection.field.isEmpty && !rejection.message.isEmpty)
            }
        }
        // Both outcomes occur, so the mutations reach past the JSON syntax into the data rules.
        #expect(accepted > 100)
        #expect(refused > 100)
    }
}
