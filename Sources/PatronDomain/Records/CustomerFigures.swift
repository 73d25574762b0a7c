/// What one booking adds to its customer's figures (EVENTS.md, "Definitions"). A booking event
/// takes the booking's old contribution away and adds the new one, so the figures stay current
/// without reading the customer's other bookings.
public struct BookingContribution: Sendable, Equatable {
    public var isOrder: Bool
    public var isCompletedStay: Bool
    public var isNoShow: Bool
    /// Of an order: its currency and amount in minor units (an order without an amount counts 0
    /// in the default currency).
    public var currency: String
    public var amountMinor: Int64
    /// The order time: the earliest event that told of the booking.
    public var orderAt: Timestamp

    public init(_ booking: BookingRecord, defaultCurrency: String) {
        let status = booking.bookingStatus
        isOrder = status?.isOrder ?? false
        isCompletedStay = status == .completed
        isNoShow = status == .noShow
        currency = booking.amount?.currency ?? defaultCurrency
        amountMinor = isOrder ? booking.amount?.minorUnits ?? 0 : 0
        orderAt = booking.firstSeenAt
    }
}

/// The figures kept on the customer's row.
public struct CustomerFigures: Sendable, Equatable {
    public var bookings: Int
    /// Bookings that are confirmed or completed.
    public var orders: Int
    public var completedStays: Int
    public var noShows: Int
    public var firstOrderAt: Timestamp?
    public var lastOrderAt: Timestamp?

    public init(bookings: Int = 0, orders: Int = 0, completedStays: Int = 0, noShows: Int = 0,
                firstOrderAt: Timestamp? = nil, lastOrderAt: Timestamp? = nil) {
        self.bookings = bookings
        self.orders = orders
        self.completedStays = completedStays
        self.noShows = noShows
        self.firstOrderAt = firstOrderAt
        self.lastOrderAt = lastOrderAt
    }

    public mutating func add(_ booking: BookingContribution) {
        bookings += 1
        if booking.isCompletedStay { completedStays += 1 }
        if booking.isNoShow { noShows += 1 }
        guard booking.isOrder else { return }
        orders += 1
        firstOrderAt = min(firstOrderAt ?? booking.orderAt, booking.orderAt)
        lastOrderAt = max(lastOrderAt ?? booking.orderAt, booking.orderAt)
    }

    /// Takes a contribution away. False when it may have set the first or last order time, which
    /// only the remaining bookings can tell: then the figures must be recomputed.
    public mutating func remove(_ booking: BookingContribution) -> Bool {
        bookings -= 1
        if booking.isCompletedStay { completedStays -= 1 }
        if booking.isNoShow { noShows -= 1 }
        guard booking.isOrder else { return true }
        orders -= 1
        return booking.orderAt != firstOrderAt && booking.orderAt != lastOrderAt
    }
}

/// A customer's figures and spend from scratch, from all its bookings: the definition the
/// maintained figures must match, and what merges and unmerges store.
public struct CustomerAggregates: Sendable, Equatable {
    public var figures = CustomerFigures()
    /// Currency → total of the orders, in minor units.
    public var spent: [String: Int64] = [:]
    /// Currency → orders in that currency (for the average order).
    public var ordersByCurrency: [String: Int] = [:]

    public init() {}

    public init(bookings records: [BookingRecord], defaultCurrency: String) {
        for booking in records {
            let contribution = BookingContribution(booking, defaultCurrency: defaultCurrency)
            figures.add(contribution)
            guard contribution.isOrder else { continue }
            spent[contribution.currency, default: 0] += contribution.amountMinor
            ordersByCurrency[contribution.currency, default: 0] += 1
        }
    }
}
