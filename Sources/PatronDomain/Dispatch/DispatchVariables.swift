/// The variables a dispatch template can use, in sections: `{{customer.first_name}}`,
/// `{{#booking}}{{arrival}}{{/booking}}`. A section is absent when the message is not about one
/// (a newsletter has no booking), so `{{#booking}}` blocks render only when there is one.
public struct DispatchVariables: Sendable, Equatable {
    public var sections: [String: [String: String]]
    /// Top-level values: `unsubscribe_url`.
    public var values: [String: String]

    public init(sections: [String: [String: String]] = [:], values: [String: String] = [:]) {
        self.sections = sections
        self.values = values
    }

    /// Every name a template may use, by section; templates naming anything else are refused
    /// when loaded, since Mustache would silently render a misspelt name as nothing.
    public static let known: [String: [String]] = [
        "customer": ["customer_no", "title", "first_name", "last_name", "name", "company", "email", "language"],
        "booking": ["ref", "status", "hotel", "room_type", "arrival", "departure", "guests", "amount", "currency"],
        "cart": ["id", "total", "currency"],
        "thread": ["id", "subject", "reply", "author"],
        "hotel": ["name", "phone", "email", "url"],
    ]
    public static let knownValues = ["unsubscribe_url"]

    /// Whether a name as written in a template can refer to a variable: a section, a value, a
    /// `section.field`, or (inside a section block) a field of some section.
    public static func isKnown(_ name: String) -> Bool {
        if name == "." || knownValues.contains(name) || known[name] != nil { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2, let fields = known[parts[0]] { return fields.contains(parts[1]) }
        return parts.count == 1 && known.values.contains { $0.contains(name) }
    }

    public mutating func set(_ section: String, _ values: [String: String?]) {
        sections[section] = values.compactMapValues { value in value.flatMap { $0.isEmpty ? nil : $0 } }
    }

    /// The customer's section from its record.
    public mutating func setCustomer(_ customer: CustomerRecord, language: String) {
        let first = customer.fields[.firstName]?.value
        let last = customer.fields[.lastName]?.value
        let name = [first, last].compactMap { $0 }.joined(separator: " ")
        set("customer", ["customer_no": customer.customerNo, "title": customer.fields[.title]?.value, "first_name": first,
                         "last_name": last, "name": name, "company": customer.fields[.company]?.value,
                         "email": customer.fields[.email]?.value, "language": language])
    }

    public mutating func setBooking(_ booking: BookingRecord) {
        set("booking", ["ref": booking.ref, "status": booking.status?.value, "hotel": booking.fields[.hotel]?.value,
                        "room_type": booking.fields[.roomType]?.value, "arrival": booking.fields[.arrival]?.value,
                        "departure": booking.fields[.departure]?.value, "guests": booking.fields[.guests]?.value,
                        "amount": booking.amount?.decimalString, "currency": booking.amount?.currency])
    }

    public mutating func setCart(_ cart: CartRecord) {
        set("cart", ["id": cart.id, "total": cart.total?.decimalString, "currency": cart.total?.currency])
    }

    public mutating func setThread(_ thread: ThreadRecord, reply: ThreadMessage?) {
        set("thread", ["id": thread.threadID, "subject": thread.subject, "reply": reply?.body, "author": reply?.author])
    }
}
