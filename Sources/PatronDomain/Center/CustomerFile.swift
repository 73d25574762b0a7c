/// Everything Patron keeps of one customer: the full record `customers.get` returns (EVENTS.md,
/// "Commands").
public struct CustomerFile: Sendable, Equatable {
    public struct Note: Sendable, Equatable {
        public var text: String
        public var author: String?
        public var createdAt: Timestamp

        public init(text: String, author: String?, createdAt: Timestamp) {
            self.text = text
            self.author = author
            self.createdAt = createdAt
        }
    }

    public struct Thread: Sendable, Equatable {
        public var thread: ThreadRecord
        public var messages: [ThreadMessage]

        public init(thread: ThreadRecord, messages: [ThreadMessage]) {
            self.thread = thread
            self.messages = messages
        }
    }

    public var record: CustomerRecord
    /// Every email and phone the customer is known by, oldest first.
    public var identifiers: [Identifier]
    /// Currency → total of the orders in minor units, and the orders in it.
    public var spent: [String: Int64]
    public var ordersByCurrency: [String: Int]
    public var consent: [ConsentStatement]
    public var bookings: [BookingRecord]
    public var payments: [PaymentRecord]
    public var carts: [CartRecord]
    public var threads: [Thread]
    public var notes: [Note]
    public var erasedAt: Timestamp?
    /// A custom group staff put the customer in, which the summary shows instead of the
    /// automatic one.
    public var customGroup: GroupSummary?

    public init(record: CustomerRecord, identifiers: [Identifier] = [], spent: [String: Int64] = [:], ordersByCurrency: [String: Int] = [:],
                consent: [ConsentStatement] = [], bookings: [BookingRecord] = [], payments: [PaymentRecord] = [], carts: [CartRecord] = [],
                threads: [Thread] = [], notes: [Note] = [], erasedAt: Timestamp? = nil) {
        self.record = record
        self.identifiers = identifiers
        self.spent = spent
        self.ordersByCurrency = ordersByCurrency
        self.consent = consent
        self.bookings = bookings
        self.payments = payments
        self.carts = carts
        self.threads = threads
        self.notes = notes
        self.erasedAt = erasedAt
    }

    /// The reply's JSON. Absent values are `null`, so every record has the same keys; money is a
    /// decimal string with the currency's minor-unit digits; times are RFC 3339 in UTC.
    public var json: JSONValue {
        let fields = record.fields
        func field(_ name: ProfileField) -> JSONValue { fields[name].map { .string($0.value) } ?? .null }
        func time(_ value: Timestamp?) -> JSONValue { value.map { .string($0.description) } ?? .null }
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func money(_ value: Money?) -> JSONValue { value.map { .string($0.decimalString) } ?? .null }
        func total(_ amounts: [String: Int64]) -> JSONValue {
            .object(JSONObject(Dictionary(uniqueKeysWithValues: amounts.map { ($0.key, JSONValue.string(Money.format($0.value, currency: $0.key))) })))
        }
        let averages = Dictionary(uniqueKeysWithValues: spent.compactMap { currency, minor -> (String, Int64)? in
            guard let orders = ordersByCurrency[currency], orders > 0 else { return nil }
            return (currency, minor / Int64(orders))
        })
        let emails = identifiers.filter { $0.kind == .email }.map { JSONValue.string($0.display) }
        let phones = identifiers.filter { $0.kind == .phone }.map { JSONValue.string($0.display) }
        var object: [String: JSONValue] = [
            "customer_no": .string(record.customerNo),
            "group": .string(customGroup?.name ?? record.group.name),
            "automatic_group": .string(record.group.name),
            "group_discount_percent": customGroup.map { .string(GroupSummary.percent($0.discountBasisPoints)) } ?? .null,
            "tags": .array(record.tags.map(JSONValue.string)),
            "newsletter": record.newsletter.map { .bool($0.value == "true") } ?? .null,
            "first_contact_at": time(record.firstContactAt),
            "erased_at": time(erasedAt),
            "emails": .array(emails),
            "phones": .array(phones),
            "address": .object([
                "line1": field(.addressLine1), "line2": field(.addressLine2), "zip": field(.zip), "city": field(.city),
                "state": field(.state), "country": field(.country),
            ]),
            "account": fields[.account].map { .bool($0.value == "true") } ?? .null,
            "orders": .integer(Int64(record.figures.orders)),
            "no_shows": .integer(Int64(record.figures.noShows)),
            "completed_stays": .integer(Int64(record.figures.completedStays)),
            "total_spent": total(spent),
            "average_order": total(averages),
            "first_order_at": time(record.figures.firstOrderAt),
            "last_order_at": time(record.figures.lastOrderAt),
            "consent": .array(consent.map { statement in
                .object(["purpose": .string(statement.purpose.rawValue), "opted_in": .bool(statement.optedIn), "occurred_at": time(statement.occurredAt),
                         "source": text(statement.source), "event_id": .string(statement.eventID)])
            }),
            "bookings": .array(bookings.map { booking in
                var entry: [String: JSONValue] = [
                    "ref": .string(booking.ref), "status": text(booking.status?.value), "amount": money(booking.amount),
                    "currency": text(booking.amount?.currency), "first_seen_at": time(booking.firstSeenAt),
                ]
                for field in BookingField.allCases {
                    let value = booking.fields[field]?.value
                    entry[field.rawValue] = field == .guests ? value.flatMap { Int64($0) }.map(JSONValue.integer) ?? .null : text(value)
                }
                return .object(JSONObject(entry))
            }),
            "payments": .array(payments.map { payment in
                .object(["reference": .string(payment.reference), "booking_ref": text(payment.bookingRef),
                         "amount": .string(payment.amount.decimalString), "currency": .string(payment.amount.currency),
                         "method": text(payment.method), "status": text(payment.status?.rawValue), "occurred_at": time(payment.occurredAt)])
            }),
            "carts": .array(carts.map { cart in
                .object(["id": .string(cart.id), "status": text(cart.status?.rawValue), "total": money(cart.total),
                         "currency": text(cart.total?.currency), "updated_at": time(cart.updatedAt)])
            }),
            "threads": .array(threads.map { entry in
                .object(["thread_id": .string(entry.thread.threadID), "contact": text(entry.thread.contact), "subject": text(entry.thread.subject),
                         "booking_ref": text(entry.thread.bookingRef), "open": .bool(entry.thread.isOpen), "opened_at": time(entry.thread.openedAt),
                         "first_response_at": time(entry.thread.firstResponseAt),
                         "messages": .array(entry.messages.map { message in
                             .object(["direction": .string(message.direction.rawValue), "author": text(message.author),
                                      "subject": text(message.subject), "body": text(message.body), "occurred_at": time(message.occurredAt)])
                         })])
            }),
            "notes": .array(notes.map { note in
                .object(["text": .string(note.text), "author": text(note.author), "created_at": time(note.createdAt)])
            }),
        ]
        for name in ProfileField.allCases where !name.rawValue.hasPrefix("address_") && !["zip", "city", "state", "country", "account"].contains(name.rawValue) {
            object[name.rawValue] = field(name)
        }
        // The summary's `country` and `city` (EVENTS.md) sit beside the full address.
        object["city"] = field(.city)
        object["country"] = field(.country)
        return .object(JSONObject(object))
    }
}

/// Reads customers for the Customer Center: the storage behind the read commands.
public protocol CustomerDirectory: Sendable {
    /// The live customers a lookup names: one, none, or several (a conflict kept for staff,
    /// such as two customer numbers that share an email).
    func customers(_ lookup: CustomerLookup) async throws -> [CustomerID]
    func file(_ customer: CustomerID) async throws -> CustomerFile
}

extension CustomerDirectory {
    /// The live customer a customer-number argument names, or `not_found` on that argument.
    public func customer(numberedBy args: CommandArguments, _ name: String) async throws -> CustomerID {
        let number = try args.requiredString(name, maximumLength: 100)
        guard let customer = try await customers(.number(number)).first else {
            throw CommandError(.notFound, field: "args.\(name)", "no customer has this number")
        }
        return customer
    }
}
