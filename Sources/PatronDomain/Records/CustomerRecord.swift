public typealias CustomerID = Int64

/// The automatic groups of EVENTS.md, in upgrade order: a customer moves up, never down.
public enum AutomaticGroup: Int, Sendable, Comparable, CaseIterable, Codable {
    /// Known only from carts, forms or profile changes.
    case visitor = 0
    /// Booked without a site account.
    case guest = 1
    /// Has a site account.
    case customer = 2

    public var name: String {
        switch self {
        case .visitor: "Visitor"
        case .guest: "Guest"
        case .customer: "Customer"
        }
    }

    public static func < (lhs: AutomaticGroup, rhs: AutomaticGroup) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One customer's profile as stored: what the rules read and write.
public struct CustomerRecord: Sendable, Equatable {
    public let id: CustomerID
    public var customerNo: String
    /// True while the number is one Patron assigned (`P-…`): the first `customer_no` an event
    /// gives replaces it, and it stays an alias.
    public var numberAssigned: Bool
    public var fields: StampedFields<ProfileField>
    /// The latest consent statement's value ("true" = opted in) and time.
    public var newsletter: Stamped?
    public var group: AutomaticGroup
    public var firstContactAt: Timestamp
    public var tags: [String]
    /// Maintained booking by booking (``BookingContribution``).
    public var figures: CustomerFigures

    public init(id: CustomerID, customerNo: String, numberAssigned: Bool, fields: StampedFields<ProfileField> = .init(),
                newsletter: Stamped? = nil, group: AutomaticGroup = .visitor, firstContactAt: Timestamp, tags: [String] = [],
                figures: CustomerFigures = .init()) {
        self.id = id
        self.customerNo = customerNo
        self.numberAssigned = numberAssigned
        self.fields = fields
        self.newsletter = newsletter
        self.group = group
        self.firstContactAt = firstContactAt
        self.tags = tags
        self.figures = figures
    }

    public func hasTag(_ tag: String) -> Bool {
        let folded = tag.lowercased()
        return tags.contains { $0.lowercased() == folded }
    }
}

/// What a consent statement is about. Marketing goes out only under `newsletter`; a list
/// imported from QloApps also states consent to partners' offers, which is kept but never read
/// as consent to the hotel's own marketing.
public enum ConsentPurpose: String, Sendable, CaseIterable {
    case newsletter
    case partnerOffers = "partner_offers"
}

public struct ConsentStatement: Sendable, Equatable {
    public var purpose: ConsentPurpose
    public var optedIn: Bool
    public var occurredAt: Timestamp
    public var source: String?
    public var eventID: String

    public init(purpose: ConsentPurpose = .newsletter, optedIn: Bool, occurredAt: Timestamp, source: String?, eventID: String) {
        self.purpose = purpose
        self.optedIn = optedIn
        self.occurredAt = occurredAt
        self.source = source
        self.eventID = eventID
    }
}

public struct BookingRecord: Sendable, Equatable {
    public var ref: String
    public var customerID: CustomerID?
    /// The status's raw value, stamped: the newest event decides, so a late update never revives
    /// a cancellation.
    public var status: Stamped?
    public var fields: StampedFields<BookingField>
    public var amount: Money?
    public var amountAt: Timestamp?
    /// The earliest `occurred_at` of the events that told of this booking: its order time.
    public var firstSeenAt: Timestamp

    public init(ref: String, customerID: CustomerID?, status: Stamped? = nil, fields: StampedFields<BookingField> = .init(),
                amount: Money? = nil, amountAt: Timestamp? = nil, firstSeenAt: Timestamp) {
        self.ref = ref
        self.customerID = customerID
        self.status = status
        self.fields = fields
        self.amount = amount
        self.amountAt = amountAt
        self.firstSeenAt = firstSeenAt
    }

    public var bookingStatus: BookingStatus? { status.flatMap { BookingStatus(rawValue: $0.value) } }
}

public struct PaymentRecord: Sendable, Equatable {
    public var reference: String
    public var customerID: CustomerID?
    public var bookingRef: String?
    public var amount: Money
    public var method: String?
    public var status: PaymentStatus?
    /// The payment is one unit: the newest event's statement of it wins.
    public var occurredAt: Timestamp

    public init(reference: String, customerID: CustomerID?, bookingRef: String?, amount: Money, method: String?, status: PaymentStatus?, occurredAt: Timestamp) {
        self.reference = reference
        self.customerID = customerID
        self.bookingRef = bookingRef
        self.amount = amount
        self.method = method
        self.status = status
        self.occurredAt = occurredAt
    }
}

public struct CartRecord: Sendable, Equatable {
    public var id: String
    public var customerID: CustomerID?
    public var status: CartStatus?
    /// The items as JSON text.
    public var items: String?
    public var total: Money?
    /// The cart's state is one unit: the newest event's snapshot wins.
    public var updatedAt: Timestamp
    public var firstSeenAt: Timestamp

    public init(id: String, customerID: CustomerID?, status: CartStatus?, items: String?, total: Money?, updatedAt: Timestamp, firstSeenAt: Timestamp) {
        self.id = id
        self.customerID = customerID
        self.status = status
        self.items = items
        self.total = total
        self.updatedAt = updatedAt
        self.firstSeenAt = firstSeenAt
    }
}

public struct ThreadRecord: Sendable, Equatable {
    public var threadID: String
    public var customerID: CustomerID?
    public var contact: String?
    public var subject: String?
    public var bookingRef: String?
    public var isOpen: Bool
    public var openedAt: Timestamp
    public var firstResponseAt: Timestamp?

    public init(threadID: String, customerID: CustomerID?, contact: String?, subject: String?, bookingRef: String?, isOpen: Bool, openedAt: Timestamp, firstResponseAt: Timestamp?) {
        self.threadID = threadID
        self.customerID = customerID
        self.contact = contact
        self.subject = subject
        self.bookingRef = bookingRef
        self.isOpen = isOpen
        self.openedAt = openedAt
        self.firstResponseAt = firstResponseAt
    }
}

public struct ThreadMessage: Sendable, Equatable {
    public enum Direction: String, Sendable { case customer, staff }
    public var eventID: String
    public var threadID: String
    public var direction: Direction
    public var author: String?
    public var subject: String?
    public var body: String?
    public var bookingRef: String?
    public var occurredAt: Timestamp

    public init(eventID: String, threadID: String, direction: Direction, author: String?, subject: String?, body: String?, bookingRef: String?, occurredAt: Timestamp) {
        self.eventID = eventID
        self.threadID = threadID
        self.direction = direction
        self.author = author
        self.subject = subject
        self.body = body
        self.bookingRef = bookingRef
        self.occurredAt = occurredAt
    }
}

/// Something staff should look at: a merge not made, a tag over the limit.
public struct RecordIssue: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Two different customer numbers matched the same identifiers.
        case customerNumberConflict = "customer_no_conflict"
        /// More records matched than `maximum_merge_records`.
        case mergeLimit = "merge_limit"
        /// The pair was unmerged before, so it is not merged again automatically.
        case mergeBlocked = "merge_blocked"
        /// A tag beyond the maximum per customer.
        case tagLimit = "tag_limit"
    }

    public var kind: Kind
    public var customerIDs: [CustomerID]
    public var eventID: String?
    /// No personal data: customer numbers, tag names, counts.
    public var detail: String

    public init(kind: Kind, customerIDs: [CustomerID], eventID: String?, detail: String) {
        self.kind = kind
        self.customerIDs = customerIDs
        self.eventID = eventID
        self.detail = detail
    }
}

/// What Patron tells others on `patron.notifications` (routing key = `type`).
public struct Announcement: Sendable, Equatable {
    /// Stable id (the AMQP message_id), so consumers can drop a redelivered notification.
    public var id: String
    public var type: String
    public var body: JSONObject

    public init(id: String, type: String, body: JSONObject) {
        self.id = id
        self.type = type
        self.body = body
    }
}
