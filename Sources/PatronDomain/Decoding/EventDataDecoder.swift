/// Validates an event's `data` (EVENTS.md, "Event types") into an ``EventPayload``.
///
/// Every refusal names the field path and the reason. Rules beyond the contract's words, as
/// documented in `docs/asyncapi.yaml`:
/// - Strings are trimmed; `null`, `""` and whitespace-only are no statement.
/// - Unknown fields are ignored; a known field of the wrong type is refused.
/// - Text fields are at most 500 characters, message bodies 100,000.
/// - An invalid email or phone is kept as data and never used to match.
/// - A country that is neither an alpha-2 code nor a known name is refused.
/// - Amounts may not be negative nor carry more digits than the currency's minor unit.
public struct EventDataDecoder: Sendable {
    public static let maximumTextLength = 500
    public static let maximumBodyLength = 100_000

    public let rules: RecordRules
    public let phones: any PhoneNormalizer

    public init(rules: RecordRules, phones: any PhoneNormalizer) {
        self.rules = rules
        self.phones = phones
    }

    public func decode(type: EventType, data: JSONObject, eventID: String) throws(Rejection) -> EventPayload {
        let root = FieldReader(object: data, path: "data")
        switch type {
        case .bookingCreated, .bookingUpdated:
            let customer = try requiredCustomer(root)
            var booking = try self.booking(root.requiredObject("booking"))
            if booking.status == nil, type == .bookingCreated { booking.status = .confirmed }
            return .booking(customer: customer, booking: booking)
        case .bookingCancelled, .bookingNoShow, .bookingCompleted:
            var booking = try self.booking(root.requiredObject("booking"))
            booking.status = switch type {
            case .bookingCancelled: .cancelled
            case .bookingNoShow: .noShow
            default: .completed
            }
            return .booking(customer: try optionalCustomer(root), booking: booking)
        case .paymentRecorded:
            return .payment(customer: try optionalCustomer(root), payment: try payment(root.requiredObject("payment"), eventID: eventID))
        case .contactSubmitted:
            let customer = try requiredCustomer(root)
            return .contactSubmitted(customer: customer, message: try message(root.requiredObject("message"), reply: false))
        case .contactReplied:
            return .contactReplied(message: try message(root.requiredObject("message"), reply: true))
        case .cartUpdated:
            return .cart(customer: try optionalCustomer(root), cart: try cart(root.requiredObject("cart")))
        case .customerUpdated:
            return .customerUpdated(try requiredCustomer(root))
        case .customerErasureRequested:
            return .erasureRequested(try requiredCustomer(root))
        }
    }

    private func requiredCustomer(_ root: FieldReader) throws(Rejection) -> CustomerInput {
        let reader = try root.requiredObject("customer")
        let customer = try self.customer(reader)
        guard customer.identifiesSomeone else {
            throw Rejection(.missingField, field: reader.path, "must carry at least one of email, phone, mobile, customer_no")
        }
        return customer
    }

    /// An optional customer that is present must still identify someone.
    private func optionalCustomer(_ root: FieldReader) throws(Rejection) -> CustomerInput? {
        guard root.has("customer") else { return nil }
        return try requiredCustomer(root)
    }

    func customer(_ reader: FieldReader) throws(Rejection) -> CustomerInput {
        var customer = CustomerInput()
        customer.customerNo = try reader.text("customer_no")
        let plain: [(String, ProfileField)] = [("first_name", .firstName), ("last_name", .lastName), ("company", .company),
                                               ("contact", .contact)]
        for (key, field) in plain {
            if let value = try reader.text(key) { customer.fields[field] = value }
        }
        if let title = try reader.text("title") {
            customer.fields[.title] = TitleNormalization.normalize(title, configured: rules.titles)
        }
        if let email = try reader.text("email") {
            customer.fields[.email] = email
            let key = EmailNormalization.key(email)
            customer.identifiers.append(Identifier(kind: .email, key: key ?? email.lowercased(), display: email,
                                                   matchable: key.map { !rules.isBlocked(email: $0) } ?? false))
        }
        for (key, field) in [("phone", ProfileField.phone), ("mobile", .mobile), ("fax", .fax), ("ev_phone", .evPhone)] {
            guard let number = try reader.text(key) else { continue }
            customer.fields[field] = number
            // Fax and event phone are searchable numbers but not identity (EVENTS.md names email,
            // phone, mobile and customer_no as what identifies a customer).
            let e164 = phones.e164(number, defaultRegion: rules.defaultCountry)
            let identifies = field == .phone || field == .mobile
            if identifies {
                customer.identifiers.append(Identifier(kind: .phone, key: e164 ?? number, display: number,
                                                       matchable: e164 != nil && !rules.isBlocked(phone: number, e164: e164)))
            }
        }
        if let address = try reader.optionalObject("address") {
            for (key, field) in [("line1", ProfileField.addressLine1), ("line2", .addressLine2), ("zip", .zip), ("city", .city), ("state", .state)] {
                if let value = try address.text(key) { customer.fields[field] = value }
            }
            if let country = try address.text("country") {
                guard let code = CountryNormalization.normalize(country) else {
                    throw Rejection(.invalidValue, field: "\(address.path).country", "not an ISO 3166-1 alpha-2 code or a known country name")
                }
                customer.fields[.country] = code
            }
        }
        if let language = try reader.text("language") {
            guard let normalized = LanguageNormalization.normalize(language) else {
                throw Rejection(.invalidValue, field: "\(reader.path).language", "not a language tag (e.g. es, en-GB)")
            }
            customer.fields[.language] = normalized
        }
        if let birthday = try reader.text("birthday") {
            guard CalendarDate.isValid(birthday) else {
                throw Rejection(.invalidValue, field: "\(reader.path).birthday", "not a calendar date YYYY-MM-DD")
            }
            customer.fields[.birthday] = birthday
        }
        customer.newsletter = try reader.bool("newsletter")
        if let account = try reader.bool("account") { customer.fields[.account] = account ? "true" : "false" }
        customer.tags = try reader.textList("tags").map(rules.canonicalTag)
        return customer
    }

    private func booking(_ reader: FieldReader) throws(Rejection) -> BookingInput {
        var booking = BookingInput(ref: try reader.requiredText("ref"))
        if let status = try reader.text("status") {
            guard let parsed = BookingStatus(rawValue: status) else {
                throw Rejection(.invalidValue, field: "\(reader.path).status", "must be one of \(BookingStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            booking.status = parsed
        }
        for field in BookingField.allCases where field != .guests {
            if let value = try reader.text(field.rawValue) {
                if field == .arrival || field == .departure, !CalendarDate.isValid(value) {
                    throw Rejection(.invalidValue, field: "\(reader.path).\(field.rawValue)", "not a calendar date YYYY-MM-DD")
                }
                booking.fields[field] = value
            }
        }
        if let guests = try reader.integer("guests", in: 0...10_000) { booking.fields[.guests] = String(guests) }
        if let arrival = booking.fields[.arrival], let departure = booking.fields[.departure], departure < arrival {
            throw Rejection(.invalidValue, field: "\(reader.path).departure", "before arrival")
        }
        booking.amount = try reader.money("amount", currencyKey: "currency", defaultCurrency: rules.defaultCurrency)
        return booking
    }

    private func payment(_ reader: FieldReader, eventID: String) throws(Rejection) -> PaymentInput {
        guard let amount = try reader.money("amount", currencyKey: "currency", defaultCurrency: rules.defaultCurrency) else {
            throw Rejection(.missingField, field: "\(reader.path).amount", "required")
        }
        var status: PaymentStatus?
        if let text = try reader.text("status") {
            guard let parsed = PaymentStatus(rawValue: text) else {
                throw Rejection(.invalidValue, field: "\(reader.path).status", "must be one of \(PaymentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        return PaymentInput(reference: try reader.text("reference") ?? eventID, bookingRef: try reader.text("booking_ref"),
                            amount: amount, method: try reader.text("method"), status: status)
    }

    private func message(_ reader: FieldReader, reply: Bool) throws(Rejection) -> MessageInput {
        var message = MessageInput()
        message.threadID = reply ? try reader.requiredText("thread_id") : try reader.text("thread_id")
        message.contact = try reader.text("contact")
        message.subject = try reader.text("subject")
        message.body = try reader.text("body", maximumLength: Self.maximumBodyLength)
        message.bookingRef = try reader.text("booking_ref")
        message.author = try reader.text("author")
        return message
    }

    private func cart(_ reader: FieldReader) throws(Rejection) -> CartInput {
        let id = try reader.requiredText("id")
        var status: CartStatus?
        if let text = try reader.text("status") {
            guard let parsed = CartStatus(rawValue: text) else {
                throw Rejection(.invalidValue, field: "\(reader.path).status", "must be one of \(CartStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let total = try reader.money("total", currencyKey: "currency", defaultCurrency: rules.defaultCurrency)
        let currency = total?.currency ?? rules.defaultCurrency
        var items: [CartItem]?
        if let list = try reader.objectList("items") {
            items = []
            for item in list {
                if let arrival = try item.text("arrival"), !CalendarDate.isValid(arrival) {
                    throw Rejection(.invalidValue, field: "\(item.path).arrival", "not a calendar date YYYY-MM-DD")
                }
                if let departure = try item.text("departure"), !CalendarDate.isValid(departure) {
                    throw Rejection(.invalidValue, field: "\(item.path).departure", "not a calendar date YYYY-MM-DD")
                }
                let price = try item.money("price", currency: currency)
                items!.append(CartItem(hotel: try item.text("hotel"), roomType: try item.text("room_type"),
                                       arrival: try item.text("arrival"), departure: try item.text("departure"),
                                       quantity: try item.integer("quantity", in: 0...10_000), price: price?.decimalString))
            }
        }
        return CartInput(id: id, status: status, items: items, total: total)
    }
}

/// Reads one JSON object of an event, naming every field by its dotted path in errors.
struct FieldReader {
    let object: JSONObject
    let path: String

    private func field(_ key: String) -> String { "\(path).\(key)" }

    func has(_ key: String) -> Bool {
        switch object[key] {
        case nil, .null?: false
        default: true
        }
    }

    /// A trimmed string; nil for absent, null, empty or blank.
    func text(_ key: String, maximumLength: Int = EventDataDecoder.maximumTextLength) throws(Rejection) -> String? {
        switch object[key] {
        case nil, .null?:
            return nil
        case .string(let raw)?:
            let trimmed = raw.trimmingWhitespace()
            if trimmed.isEmpty { return nil }
            guard trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\n" || $0 == "\t" || $0 == "\r" }) else {
                throw Rejection(.invalidValue, field: field(key), "contains control characters")
            }
            guard trimmed.count <= maximumLength else {
                throw Rejection(.invalidValue, field: field(key), "longer than \(maximumLength) characters")
            }
            return trimmed
        case let other?:
            throw Rejection(.wrongType, field: field(key), "expected a string, got \(other.kindDescription)")
        }
    }

    func requiredText(_ key: String) throws(Rejection) -> String {
        guard let value = try text(key) else { throw Rejection(.missingField, field: field(key), "required") }
        return value
    }

    func bool(_ key: String) throws(Rejection) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw Rejection(.wrongType, field: field(key), "expected true or false, got \(other.kindDescription)")
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(Rejection) -> Int64? {
        switch object[key] {
        case nil, .null?: return nil
        case .integer(let value)?:
            guard range.contains(value) else {
                throw Rejection(.invalidValue, field: field(key), "must be \(range.lowerBound)–\(range.upperBound)")
            }
            return value
        case let other?: throw Rejection(.wrongType, field: field(key), "expected an integer, got \(other.kindDescription)")
        }
    }

    func optionalObject(_ key: String) throws(Rejection) -> FieldReader? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let nested)?: return FieldReader(object: nested, path: field(key))
        case let other?: throw Rejection(.wrongType, field: field(key), "expected an object, got \(other.kindDescription)")
        }
    }

    func requiredObject(_ key: String) throws(Rejection) -> FieldReader {
        guard let nested = try optionalObject(key) else { throw Rejection(.missingField, field: field(key), "required (an object)") }
        return nested
    }

    func textList(_ key: String) throws(Rejection) -> [String] {
        switch object[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var texts: [String] = []
            for (index, item) in items.enumerated() {
                let element = "\(key)[\(index)]"
                guard let text = try FieldReader(object: [element: item], path: path).text(element) else { continue }
                texts.append(text)
            }
            return texts
        case let other?: throw Rejection(.wrongType, field: field(key), "expected an array of strings, got \(other.kindDescription)")
        }
    }

    func objectList(_ key: String) throws(Rejection) -> [FieldReader]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let items)?:
            var readers: [FieldReader] = []
            for (index, item) in items.enumerated() {
                guard case .object(let nested) = item else {
                    throw Rejection(.wrongType, field: "\(path).\(key)[\(index)]", "expected an object, got \(item.kindDescription)")
                }
                readers.append(FieldReader(object: nested, path: "\(path).\(key)[\(index)]"))
            }
            return readers
        case let other?: throw Rejection(.wrongType, field: field(key), "expected an array, got \(other.kindDescription)")
        }
    }

    /// An amount with its currency field (defaulting to `defaultCurrency`).
    func money(_ key: String, currencyKey: String, defaultCurrency: String) throws(Rejection) -> Money? {
        var currency = defaultCurrency
        if let code = try text(currencyKey) {
            guard code.count == 3, Currency.isKnown(code) else {
                throw Rejection(.invalidValue, field: field(currencyKey), "not an ISO 4217 currency code")
            }
            currency = code
        }
        return try money(key, currency: currency)
    }

    func money(_ key: String, currency: String) throws(Rejection) -> Money? {
        let literal: String
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            let trimmed = text.trimmingWhitespace()
            if trimmed.isEmpty { return nil }
            literal = trimmed
        case .integer(let value)?: literal = String(value)
        case .number(let text)?: literal = text
        case let other?: throw Rejection(.wrongType, field: field(key), "expected a decimal string or number, got \(other.kindDescription)")
        }
        do {
            return try Money.parse(literal, currency: currency)
        } catch {
            let reason = switch error {
            case .notADecimal: "not a decimal amount (e.g. \"412.50\")"
            case .tooManyDigits(let allowed): "more than \(allowed) decimal places for \(currency)"
            case .negative: "must not be negative"
            case .tooLarge: "too large"
            }
            throw Rejection(.invalidValue, field: field(key), reason)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        // Nearly every value is already trimmed; Unicode property lookups cost more than the rest
        // of a field's decoding.
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F { return self }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
