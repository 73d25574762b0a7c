public enum BookingStatus: String, Sendable, CaseIterable {
    case pending, confirmed, cancelled
    case noShow = "no_show"
    case completed

    /// EVENTS.md, "Definitions": orders are confirmed or completed bookings.
    public var isOrder: Bool { self == .confirmed || self == .completed }
}

/// A booking's details besides `ref`, status and money, each stamped like a profile field.
public enum BookingField: String, Sendable, Hashable, CaseIterable {
    case hotel
    case roomType = "room_type"
    case arrival, departure, guests, transport, salesperson, channel

    /// The case, not its column name: these key dictionaries on every event, and a raw-value
    /// enum would otherwise hash its string.
    public func hash(into hasher: inout Hasher) { hasher.combine(withUnsafeBytes(of: self) { $0.first ?? 0 }) }
}

public struct BookingInput: Sendable, Equatable {
    public var ref: String
    public var status: BookingStatus?
    public var fields: [BookingField: String] = [:]
    public var amount: Money?

    public init(ref: String) { self.ref = ref }
}

public enum PaymentStatus: String, Sendable, CaseIterable {
    case succeeded, failed, refunded
}

public struct PaymentInput: Sendable, Equatable {
    /// The payment's identity; the event id when the publisher gave none.
    public var reference: String
    public var bookingRef: String?
    public var amount: Money
    public var method: String?
    public var status: PaymentStatus?
}

public struct MessageInput: Sendable, Equatable {
    public var threadID: String?
    public var contact: String?
    public var subject: String?
    public var body: String?
    public var bookingRef: String?
    public var author: String?

    public init() {}
}

public enum CartStatus: String, Sendable, CaseIterable {
    case active, ordered, abandoned
}

public struct CartItem: Sendable, Equatable, Encodable {
    public var hotel: String?
    public var roomType: String?
    public var arrival: String?
    public var departure: String?
    public var quantity: Int64?
    /// Decimal string in the cart's currency.
    public var price: String?

    enum CodingKeys: String, CodingKey {
        case hotel, roomType = "room_type", arrival, departure, quantity, price
    }
}

public struct CartInput: Sendable, Equatable {
    public var id: String
    public var status: CartStatus?
    public var items: [CartItem]?
    public var total: Money?

    public init(id: String, status: CartStatus?, items: [CartItem]?, total: Money?) {
        self.id = id
        self.status = status
        self.items = items
        self.total = total
    }
}

/// An event's `data` after validation: what its handler needs, nothing left to check.
public enum EventPayload: Sendable, Equatable {
    /// Every `booking.*` type; for cancelled, no_show and completed the status is the type's.
    case booking(customer: CustomerInput?, booking: BookingInput)
    case payment(customer: CustomerInput?, payment: PaymentInput)
    case contactSubmitted(customer: CustomerInput, message: MessageInput)
    case contactReplied(message: MessageInput)
    case cart(customer: CustomerInput?, cart: CartInput)
    case customerUpdated(CustomerInput)
    case erasureRequested(CustomerInput)

    public var customer: CustomerInput? {
        switch self {
        case .booking(let customer, _), .payment(let customer, _), .cart(let customer, _): customer
        case .contactSubmitted(let customer, _), .customerUpdated(let customer), .erasureRequested(let customer): customer
        case .contactReplied: nil
        }
    }
}
