import PatronDomain
import Testing

/// A phone normalizer for pure tests: E.164 as given, Spanish nine-digit numbers, else invalid.
struct FakePhones: PhoneNormalizer {
    func e164(_ text: String, defaultRegion: String) -> String? {
        if text.hasPrefix("+") { return "+" + text.filter(\.isNumber) }
        let digits = text.filter(\.isNumber)
        return digits.count == 9 && defaultRegion == "ES" ? "+34" + digits : nil
    }
}

/// The `data` rules of every event type as a table: each row is a message and what must come of it.
struct EventDataDecoderTests {
    static let decoder = EventDecoder(rules: RecordRules(), phones: FakePhones())

    static func body(_ type: String, _ data: String) -> String {
        #"{"id":"e","type":"\#(type)","occurred_at":"2026-11-20T10:15:00Z","data":\#(data)}"#
    }

    static let refused: [(name: String, type: String, data: String, field: String, reason: Rejection.Reason)] = [
        ("booking without customer", "booking.created", #"{"booking":{"ref":"B"}}"#, "data.customer", .missingField),
        ("booking without booking", "booking.created", #"{"customer":{"email":"a@b.es"}}"#, "data.booking", .missingField),
        ("booking without ref", "booking.updated", #"{"customer":{"email":"a@b.es"},"booking":{}}"#, "data.booking.ref", .missingField),
        ("customer without identity", "customer.updated", #"{"customer":{"first_name":"Ana"}}"#, "data.customer", .missingField),
        ("blank identity", "customer.updated", #"{"customer":{"email":"  ","customer_no":""}}"#, "data.customer", .missingField),
        ("email a number", "customer.updated", #"{"customer":{"email":5}}"#, "data.customer.email", .wrongType),
        ("newsletter a string", "customer.updated", #"{"customer":{"email":"a@b.es","newsletter":"yes"}}"#, "data.customer.newsletter", .wrongType),
        ("address a string", "customer.updated", #"{"customer":{"email":"a@b.es","address":"Calle"}}"#, "data.customer.address", .wrongType),
        ("unknown country", "customer.updated", #"{"customer":{"email":"a@b.es","address":{"country":"Atlantis"}}}"#, "data.customer.address.country", .invalidValue),
        ("bad birthday", "customer.updated", #"{"customer":{"email":"a@b.es","birthday":"1984-02-30"}}"#, "data.customer.birthday", .invalidValue),
        ("bad language", "customer.updated", #"{"customer":{"email":"a@b.es","language":"español"}}"#, "data.customer.language", .invalidValue),
        ("tags not strings", "customer.updated", #"{"customer":{"email":"a@b.es","tags":[1]}}"#, "data.customer.tags[0]", .wrongType),
        ("control characters", "customer.updated", #"{"customer":{"email":"a@b.es","first_name":"A\u0000na"}}"#, "data.customer.first_name", .invalidValue),
        ("over-long name", "customer.updated", #"{"customer":{"email":"a@b.es","last_name":"\#(String(repeating: "x", count: 501))"}}"#, "data.customer.last_name", .invalidValue),
        ("unknown booking status", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","status":"lost"}}"#, "data.booking.status", .invalidValue),
        ("float amount digits", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","amount":412.505}}"#, "data.booking.amount", .invalidValue),
        ("JPY with cents", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","amount":"1200.50","currency":"JPY"}}"#, "data.booking.amount", .invalidValue),
        ("negative amount", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","amount":"-5"}}"#, "data.booking.amount", .invalidValue),
        ("amount with comma", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","amount":"412,50"}}"#, "data.booking.amount", .invalidValue),
        ("amount an object", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","amount":{}}}"#, "data.booking.amount", .wrongType),
        ("unknown currency", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","currency":"EURO"}}"#, "data.booking.currency", .invalidValue),
        ("departure before arrival", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","arrival":"2026-12-04","departure":"2026-12-01"}}"#, "data.booking.departure", .invalidValue),
        ("guests a string", "booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","guests":"2"}}"#, "data.booking.guests", .wrongType),
        ("status event without ref", "booking.cancelled", #"{"booking":{}}"#, "data.booking.ref", .missingField),
        ("optional customer without identity", "booking.no_show", #"{"booking":{"ref":"B"},"customer":{"first_name":"A"}}"#, "data.customer", .missingField),
        ("payment without amount", "payment.recorded", #"{"payment":{"reference":"P"}}"#, "data.payment.amount", .missingField),
        ("payment bad status", "payment.recorded", #"{"payment":{"amount":"1","status":"ok"}}"#, "data.payment.status", .invalidValue),
        ("reply without thread", "contact.replied", #"{"message":{"body":"x"}}"#, "data.message.thread_id", .missingField),
        ("form without message", "contact.submitted", #"{"customer":{"email":"a@b.es"}}"#, "data.message", .missingField),
        ("cart without id", "cart.updated", #"{"cart":{"status":"active"}}"#, "data.cart.id", .missingField),
        ("cart item not an object", "cart.updated", #"{"cart":{"id":"C","items":[1]}}"#, "data.cart.items[0]", .wrongType),
        ("cart item bad price", "cart.updated", #"{"cart":{"id":"C","items":[{"price":"1.999"}]}}"#, "data.cart.items[0].price", .invalidValue),
        ("cart bad status", "cart.updated", #"{"cart":{"id":"C","status":"gone"}}"#, "data.cart.status", .invalidValue),
        ("erasure without identity", "customer.erasure_requested", #"{"customer":{}}"#, "data.customer", .missingField),
    ]

    @Test(arguments: refused.indices)
    func refusesNamingFieldAndReason(index: Int) {
        let row = Self.refused[index]
        switch Self.decoder.decode(body: Array(Self.body(row.type, row.data).utf8), context: MessageContext(routingKey: row.type)) {
        case .success: Issue.record("\(row.name): accepted")
        case .failure(let rejection):
            #expect(rejection.field == row.field, "\(row.name)")
            #expect(rejection.reason == row.reason, "\(row.name)")
        }
    }

    static func customer(_ data: String, type: String = "customer.updated") throws -> CustomerInput {
        let result = decoder.decode(body: Array(body(type, data).utf8), context: MessageContext(routingKey: type))
        return try #require(try result.get().payload.customer)
    }

    @Test func normalizesCustomerFields() throws {
        let input = try Self.customer(#"{"customer":{"customer_no":" C-1 ","title":"sra","first_name":" Ana ","last_name":"","email":" Ana@Example.COM ","phone":"943 71 19 52","fax":"943 000 000","address":{"country":"España","city":null},"language":"en_gb","newsletter":false,"tags":["vip","Custom"]}}"#)
        #expect(input.customerNo == "C-1")
        #expect(input.fields[.title] == "Mrs.")
        #expect(input.fields[.firstName] == "Ana")
        #expect(input.fields[.lastName] == nil)
        #expect(input.fields[.country] == "ES")
        #expect(input.fields[.city] == nil)
        #expect(input.fields[.language] == "en-GB")
        #expect(input.fields[.fax] == "943 000 000")
        #expect(input.newsletter == false)
        #expect(input.tags == ["VIP", "Custom"])
        // Fax is a field, not an identity.
        #expect(input.identifiers == [
            Identifier(kind: .email, key: "ana@example.com", display: "Ana@Example.COM", matchable: true),
            Identifier(kind: .phone, key: "+34943711952", display: "943 71 19 52", matchable: true),
        ])
    }

    @Test(arguments: [
        ("noreply@hotel.example", false), ("No-Reply@hotel.example", false), ("test@test.com", false),
        ("not-an-address", false), ("ana@example", false), ("ana@example.com", true),
    ])
    func emailMatchability(email: String, matchable: Bool) throws {
        let input = try Self.customer(#"{"customer":{"email":"\#(email)"}}"#)
        #expect(input.identifiers.first?.matchable == matchable)
    }

    @Test(arguments: [("000000", false), ("-", false), ("999 999 999", false), ("12", false), ("600 111 222", true), ("+34600111222", true)])
    func phoneMatchability(phone: String, matchable: Bool) throws {
        let input = try Self.customer(#"{"customer":{"mobile":"\#(phone)"}}"#)
        #expect(input.identifiers.first?.matchable == matchable)
        #expect(input.fields[.mobile] == phone)
    }

    @Test func statusEventsTakeTheirTypesStatus() throws {
        for (type, status) in [("booking.cancelled", BookingStatus.cancelled), ("booking.no_show", .noShow), ("booking.completed", .completed)] {
            let event = try Self.decoder.decode(body: Array(Self.body(type, #"{"booking":{"ref":"B","status":"confirmed"}}"#).utf8),
                                                context: MessageContext(routingKey: type)).get()
            guard case .booking(nil, let booking) = event.payload else { Issue.record("\(type)"); continue }
            #expect(booking.status == status)
        }
    }

    @Test func createdBookingWithoutStatusIsConfirmed() throws {
        let event = try Self.decoder.decode(body: Array(Self.body("booking.created", #"{"customer":{"email":"a@b.es"},"booking":{"ref":"B","amount":412.5,"guests":2}}"#).utf8),
                                            context: MessageContext(routingKey: "x")).get()
        guard case .booking(_, let booking) = event.payload else { Issue.record("not a booking"); return }
        #expect(booking.status == .confirmed)
        #expect(booking.amount == Money(minorUnits: 41250, currency: "EUR"))
        #expect(booking.fields[.guests] == "2")
    }

    @Test func paymentWithoutReferenceUsesTheEventID() throws {
        let event = try Self.decoder.decode(body: Array(Self.body("payment.recorded", #"{"payment":{"amount":"5"}}"#).utf8),
                                            context: MessageContext(routingKey: "x")).get()
        guard case .payment(nil, let payment) = event.payload else { Issue.record("not a payment"); return }
        #expect(payment.reference == "e")
    }
}
