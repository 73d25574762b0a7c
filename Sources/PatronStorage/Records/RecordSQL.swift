import PatronDomain

/// How records lie in their tables, and the statements every event runs, built once with the
/// columns in the order the readers and writers of ``SQLRecordTransaction`` use.
enum RecordSQL {
    static let tagSeparator = "\u{1F}"
    static let profileColumns = ProfileField.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_at"] }
    static let bookingFieldColumns = BookingField.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_at"] }
    static let customerColumns = ["customer_no", "number_assigned", "first_contact_at", "auto_group", "newsletter", "newsletter_at", "tags",
                                  "bookings_count", "orders", "completed_stays", "no_shows", "first_order_at", "last_order_at"]
        + profileColumns
    static let selectCustomer = "SELECT \(customerColumns.joined(separator: ", ")) FROM customers WHERE id = ?"
    static let updateCustomer = "UPDATE customers SET \(customerColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"
    /// On SQLite its search row comes from a trigger (``NewCustomerSearchSchema``).
    static let insertCustomer = """
        INSERT INTO customers (\(customerColumns.joined(separator: ", ")), id) VALUES (\(parameterList(customerColumns.count + 1)))
        """
    private static let bookingColumns = ["ref", "customer_id", "status", "status_at", "first_seen_at", "amount_minor", "currency", "amount_at"]
        + bookingFieldColumns
    static let selectBooking = "SELECT \(bookingColumns.joined(separator: ", ")) FROM bookings"
    /// The booking's columns, its folded copies for the booking filters (``NarrowLookupSchema``)
    /// and its live owner (``LiveBookingOwnerSchema``), which the upsert derives from parameter 2.
    static let bookingUpsertColumns = bookingColumns + NarrowLookupSchema.foldedBookingFields.map(\.column) + ["live_customer_id"]
    static let bookingUpsertValues = numberedParameters(bookingUpsertColumns.count - 1) + [LiveBookingOwnerSchema.liveOwner]

    /// `P-` and at least six digits of the row id.
    static func assignedNumber(_ id: CustomerID) -> String {
        let digits = String(id)
        return "P-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The customers columns of a record, in the order of `customerColumns`.
    static func customerValues(_ record: CustomerRecord) -> [SQLValue] {
        var values: [SQLValue] = [
            .text(record.customerNo), .of(record.numberAssigned), .of(record.firstContactAt), .integer(Int64(record.group.rawValue)),
            .of(record.newsletter.map { $0.value == "true" }), .of(record.newsletter?.at), .text(record.tags.joined(separator: tagSeparator)),
            .integer(Int64(record.figures.bookings)), .integer(Int64(record.figures.orders)), .integer(Int64(record.figures.completedStays)),
            .integer(Int64(record.figures.noShows)), .of(record.figures.firstOrderAt), .of(record.figures.lastOrderAt),
        ]
        values.reserveCapacity(customerColumns.count)
        for field in ProfileField.allCases {
            values.append(.of(record.fields[field]?.value))
            values.append(.of(record.fields[field]?.at))
        }
        return values
    }

    /// A row of ``selectCustomer``.
    static func customer(_ id: CustomerID, from row: some ColumnReader) -> CustomerRecord {
        var newsletter: Stamped?
        if let optedIn = row.integerOrNil(4), let at = row.integerOrNil(5) {
            newsletter = Stamped(optedIn != 0 ? "true" : "false", at: Timestamp(microseconds: at))
        }
        let tags = row.text(6)
        return CustomerRecord(
            id: id, customerNo: row.text(0), numberAssigned: row.bool(1), fields: stampedFields(row, from: 13), newsletter: newsletter,
            group: AutomaticGroup(rawValue: Int(row.integer(3))) ?? .visitor, firstContactAt: Timestamp(microseconds: row.integer(2)),
            tags: tags.isEmpty ? [] : tags.components(separatedBy: tagSeparator),
            figures: CustomerFigures(bookings: Int(row.integer(7)), orders: Int(row.integer(8)), completedStays: Int(row.integer(9)),
                                     noShows: Int(row.integer(10)), firstOrderAt: row.integerOrNil(11).map(Timestamp.init(microseconds:)),
                                     lastOrderAt: row.integerOrNil(12).map(Timestamp.init(microseconds:))))
    }

    /// The values of ``bookingUpsertColumns`` but the last (the live owner, derived in SQL).
    static func bookingValues(_ booking: BookingRecord) -> [SQLValue] {
        var values: [SQLValue] = [
            .text(booking.ref), .of(booking.customerID), .of(booking.status?.value), .of(booking.status?.at), .of(booking.firstSeenAt),
            .of(booking.amount?.minorUnits), .of(booking.amount?.currency), .of(booking.amountAt),
        ]
        for field in BookingField.allCases {
            values.append(.of(booking.fields[field]?.value))
            values.append(.of(booking.fields[field]?.at))
        }
        for folded in NarrowLookupSchema.foldedBookingFields {
            values.append(.of(BookingField(rawValue: folded.field).flatMap { booking.fields[$0]?.value }.map(SearchText.fold)))
        }
        return values
    }

    /// A row of ``selectBooking``.
    static func booking(from row: some ColumnReader) -> BookingRecord {
        var status: Stamped?
        if let value = row.textOrNil(2), let at = row.integerOrNil(3) { status = Stamped(value, at: Timestamp(microseconds: at)) }
        var amount: Money?
        if let minor = row.integerOrNil(5), let currency = row.textOrNil(6) { amount = Money(minorUnits: minor, currency: currency) }
        return BookingRecord(ref: row.text(0), customerID: row.integerOrNil(1), status: status, fields: stampedFields(row, from: 8),
                             amount: amount, amountAt: row.integerOrNil(7).map(Timestamp.init(microseconds:)),
                             firstSeenAt: Timestamp(microseconds: row.integer(4)))
    }

    /// Fields stored as value and `_at` column pairs, in `allCases` order from column `first`.
    private static func stampedFields<Field: CaseIterable & Hashable & Sendable>(_ row: some ColumnReader, from first: Int32) -> StampedFields<Field> {
        var values: [Field: Stamped] = [:]
        var column = first
        for field in Field.allCases {
            if let value = row.textOrNil(column), let at = row.integerOrNil(column + 1) {
                values[field] = Stamped(value, at: Timestamp(microseconds: at))
            }
            column += 2
        }
        return StampedFields(values)
    }
}

extension RecordSQL {
    static let paymentColumns = ["reference", "customer_id", "booking_ref", "amount_minor", "currency", "method", "status", "occurred_at"]
    static let selectPayment = "SELECT \(paymentColumns.joined(separator: ", ")) FROM payments"

    static func payment(from row: some ColumnReader) -> PaymentRecord {
        PaymentRecord(reference: row.text(0), customerID: row.integerOrNil(1), bookingRef: row.textOrNil(2),
                      amount: Money(minorUnits: row.integer(3), currency: row.text(4)), method: row.textOrNil(5),
                      status: row.textOrNil(6).flatMap(PaymentStatus.init(rawValue:)), occurredAt: Timestamp(microseconds: row.integer(7)))
    }

    static func paymentValues(_ payment: PaymentRecord) -> [SQLValue] {
        [.text(payment.reference), .of(payment.customerID), .of(payment.bookingRef), .integer(payment.amount.minorUnits),
         .text(payment.amount.currency), .of(payment.method), .of(payment.status?.rawValue), .of(payment.occurredAt)]
    }

    static let cartColumns = ["id", "customer_id", "status", "items", "total_minor", "currency", "updated_at", "first_seen_at"]
    static let selectCart = "SELECT \(cartColumns.joined(separator: ", ")) FROM carts"

    static func cart(from row: some ColumnReader) -> CartRecord {
        var total: Money?
        if let minor = row.integerOrNil(4), let currency = row.textOrNil(5) { total = Money(minorUnits: minor, currency: currency) }
        return CartRecord(id: row.text(0), customerID: row.integerOrNil(1), status: row.textOrNil(2).flatMap(CartStatus.init(rawValue:)),
                          items: row.textOrNil(3), total: total, updatedAt: Timestamp(microseconds: row.integer(6)),
                          firstSeenAt: Timestamp(microseconds: row.integer(7)))
    }

    static func cartValues(_ cart: CartRecord) -> [SQLValue] {
        [.text(cart.id), .of(cart.customerID), .of(cart.status?.rawValue), .of(cart.items), .of(cart.total?.minorUnits),
         .of(cart.total?.currency), .of(cart.updatedAt), .of(cart.firstSeenAt)]
    }

    static let threadColumns = ["thread_id", "customer_id", "contact", "subject", "booking_ref", "is_open", "opened_at", "first_response_at"]
    static let selectThread = "SELECT \(threadColumns.joined(separator: ", ")) FROM threads"

    static func thread(from row: some ColumnReader) -> ThreadRecord {
        ThreadRecord(threadID: row.text(0), customerID: row.integerOrNil(1), contact: row.textOrNil(2), subject: row.textOrNil(3),
                     bookingRef: row.textOrNil(4), isOpen: row.bool(5), openedAt: Timestamp(microseconds: row.integer(6)),
                     firstResponseAt: row.integerOrNil(7).map(Timestamp.init(microseconds:)))
    }

    static func threadValues(_ thread: ThreadRecord) -> [SQLValue] {
        [.text(thread.threadID), .of(thread.customerID), .of(thread.contact), .of(thread.subject), .of(thread.bookingRef),
         .of(thread.isOpen), .of(thread.openedAt), .of(thread.firstResponseAt)]
    }

    // Rows the batch recorder writes several at a time (``RowInsert``).

    /// On SQLite a new customer's search row comes from a trigger (``NewCustomerSearchSchema``).
    static let customerRows = RowInsert(head: "INSERT INTO customers (\(customerColumns.joined(separator: ", ")), id)",
                                        template: numberedParameters(customerColumns.count + 1))
    static let numberRows = RowInsert(head: "INSERT INTO customer_numbers (number, customer_id)", template: numberedParameters(2),
                                      tail: "ON CONFLICT DO NOTHING")
    /// The earliest event's display form wins, whatever the order events arrive in.
    static let identifierRows = RowInsert(
        head: "INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable)", template: numberedParameters(6),
        tail: """
            ON CONFLICT (kind, key, customer_id) DO UPDATE SET display = excluded.display, first_seen_at = excluded.first_seen_at
            WHERE excluded.first_seen_at < customer_identifiers.first_seen_at
               OR (excluded.first_seen_at = customer_identifiers.first_seen_at AND excluded.display < customer_identifiers.display)
            """)
    static let consentRows = RowInsert(head: "INSERT INTO consent_statements (customer_id, opted_in, occurred_at, source, event_id, purpose)",
                                       template: numberedParameters(6))
    static let messageRows = RowInsert(
        head: "INSERT INTO thread_messages (event_id, thread_id, direction, author, subject, body, booking_ref, occurred_at)",
        template: numberedParameters(8), tail: "ON CONFLICT DO NOTHING")

    static func consentValues(_ statement: ConsentStatement, customer: CustomerID) -> [SQLValue] {
        [.integer(customer), .of(statement.optedIn), .of(statement.occurredAt), .of(statement.source), .text(statement.eventID),
         .text(statement.purpose.rawValue)]
    }

    static func messageValues(_ message: ThreadMessage) -> [SQLValue] {
        [.text(message.eventID), .text(message.threadID), .text(message.direction.rawValue), .of(message.author), .of(message.subject),
         .of(message.body), .of(message.bookingRef), .of(message.occurredAt)]
    }
}
