/// How a command names one customer: by number, email or phone (EVENTS.md, `customers.get`,
/// `customers.erase`). Emails and phones are normalized as events' identifiers are, so the
/// customer is found by the same key that matched it.
public enum CustomerLookup: Sendable, Equatable {
    case number(String)
    case identifier(Identifier)

    /// Exactly one of `customer_no`, `email`, `phone` from the arguments.
    public static func parse(_ arguments: CommandArguments, phones: any PhoneNormalizer, defaultCountry: String) throws -> CustomerLookup {
        let given = try ["customer_no", "email", "phone"].compactMap { name in try arguments.string(name).map { (name, $0) } }
        guard given.count == 1, let (name, text) = given.first else {
            throw CommandError(.invalidArgument, field: given.isEmpty ? "args.customer_no" : "args.\(given[1].0)",
                               "give exactly one of customer_no, email, phone")
        }
        switch name {
        case "email":
            return .identifier(Identifier(kind: .email, key: try arguments.emailKey(name)!, display: text, matchable: true))
        case "phone":
            let e164 = try arguments.phoneE164(name, phones: phones, defaultCountry: defaultCountry)!
            return .identifier(Identifier(kind: .phone, key: e164, display: text, matchable: true))
        default:
            return .number(text)
        }
    }
}
