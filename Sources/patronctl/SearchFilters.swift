import ArgumentParser
import PatronDomain

/// The search filters of EVENTS.md as options, one per filter; patrond checks them, so a bad
/// value comes back naming its `args.<filter>`.
struct SearchFilters: ParsableArguments {
    @Option(name: .customLong("customer-no")) var customerNo: String?
    @Option(name: .customLong("first-name"), help: "Every word occurs in the first name (accents and case ignored).") var firstName: String?
    @Option(name: .customLong("last-name")) var lastName: String?
    @Option(help: "Every word occurs in the full name.") var name: String?
    @Option var company: String?
    @Option var email: String?
    @Option(help: "Any of the customer's numbers, in any local or international form.") var phone: String?
    @Option var mobile: String?
    @Option var fax: String?
    @Option(name: .customLong("ev-phone")) var evPhone: String?
    @Option var contact: String?
    @Option var zip: String?
    @Option var city: String?
    @Option var address: String?
    @Option var country: String?
    @Option var language: String?
    @Option(help: "yes or no.") var newsletter: String?
    @Option var group: String?
    @Option var tag: String?
    @Option(name: .customLong("first-contact-from"), help: "YYYY-MM-DD") var firstContactFrom: String?
    @Option(name: .customLong("first-contact-to"), help: "YYYY-MM-DD") var firstContactTo: String?
    @Option(name: .customLong("departure-from"), help: "YYYY-MM-DD; with the other booking filters, on one booking.") var departureFrom: String?
    @Option(name: .customLong("departure-to"), help: "YYYY-MM-DD") var departureTo: String?
    @Option var salesperson: String?
    @Option var transport: String?
    @Option var hotel: String?
    @Option(name: .customLong("orders-min")) var ordersMin: Int?
    @Option(name: .customLong("orders-max")) var ordersMax: Int?
    @Option(name: .customLong("spent-min"), help: "A decimal amount, with --currency.") var spentMin: String?
    @Option(name: .customLong("spent-max")) var spentMax: String?
    @Option var currency: String?
    @Option(name: .customLong("last-order-from"), help: "YYYY-MM-DD") var lastOrderFrom: String?
    @Option(name: .customLong("last-order-to"), help: "YYYY-MM-DD") var lastOrderTo: String?

    func validate() throws {
        if let newsletter, !["yes", "no"].contains(newsletter) { throw ValidationError("--newsletter must be yes or no") }
    }

    /// The filters given, as command arguments.
    var args: [String: JSONValue] {
        var args: [String: JSONValue] = [:]
        let texts: [(String, String?)] = [
            ("customer_no", customerNo), ("first_name", firstName), ("last_name", lastName), ("name", name), ("company", company),
            ("email", email), ("phone", phone), ("mobile", mobile), ("fax", fax), ("ev_phone", evPhone), ("contact", contact),
            ("zip", zip), ("city", city), ("address", address), ("country", country), ("language", language), ("group", group),
            ("tag", tag), ("first_contact_from", firstContactFrom), ("first_contact_to", firstContactTo),
            ("departure_from", departureFrom), ("departure_to", departureTo), ("salesperson", salesperson),
            ("transport", transport), ("hotel", hotel), ("spent_min", spentMin), ("spent_max", spentMax), ("currency", currency),
            ("last_order_from", lastOrderFrom), ("last_order_to", lastOrderTo),
        ]
        for case let (key, value?) in texts { args[key] = .string(value) }
        if let ordersMin { args["orders_min"] = .integer(Int64(ordersMin)) }
        if let ordersMax { args["orders_max"] = .integer(Int64(ordersMax)) }
        if let newsletter { args["newsletter"] = .bool(newsletter == "yes") }
        return args
    }
}
