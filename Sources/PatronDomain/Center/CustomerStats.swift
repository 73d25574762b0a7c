import Foundation

/// The KPIs of `stats.get` (EVENTS.md, "Commands") over an optional period, and how each is
/// counted where the contract is silent (documented in `docs/asyncapi.yaml`).
public struct CustomerStats: Sendable, Equatable {
    public struct Period: Sendable, Equatable {
        public var from: Timestamp?
        public var to: Timestamp?
        /// The zone whose whole days the period covers, and in which its bounds are shown.
        public var zone: TimeZone

        public init(from: Timestamp?, to: Timestamp?, zone: TimeZone = .utc) {
            self.from = from
            self.to = to
            self.zone = zone
        }

        public var lower: Int64 { from?.microseconds ?? Int64.min }
        public var upper: Int64 { to?.microseconds ?? Int64.max }

        /// Two date arguments (`YYYY-MM-DD`, both optional) as an inclusive period of whole days
        /// on `zone`'s clock: from the first instant of `from` to the last before the day after
        /// `to`, so a day of a daylight-saving change has its 23 or 25 hours.
        public static func parse(_ args: CommandArguments, from fromName: String = "from", to toName: String = "to",
                                 in zone: TimeZone = .utc) throws -> Period {
            func start(ofDay day: Int64) -> Int64 { WallClock.firstInstant(of: day * 86_400, in: zone) * 1_000_000 }
            let first = try args.date(fromName).flatMap(CalendarDate.dayNumber).map { Timestamp(microseconds: start(ofDay: $0)) }
            let last = try args.date(toName).flatMap(CalendarDate.dayNumber).map { Timestamp(microseconds: start(ofDay: $0 + 1) - 1) }
            let period = Period(from: first, to: last, zone: zone)
            guard period.lower <= period.upper else { throw CommandError(.invalidArgument, field: "args.\(toName)", "before \(fromName)") }
            return period
        }
    }

    /// Orders counted by the quarter hour they were placed in (quarter hours since 1970 UTC):
    /// every zone's offset is a whole number of quarter hours, so each slot lies in one local
    /// hour of any zone.
    public static let slotMicroseconds: Int64 = 900_000_000

    /// The busiest local weekday (0 = Sunday) and hour of orders counted per slot; ties go to the
    /// earlier weekday or hour; nil without orders.
    public static func busiest(_ slots: [(slot: Int64, orders: Int64)], in zone: TimeZone) -> (weekday: Int, hour: Int)? {
        guard !slots.isEmpty else { return nil }
        var weekdays = [Int64](repeating: 0, count: 7), hours = [Int64](repeating: 0, count: 24)
        for (slot, orders) in slots {
            let wall = WallClock.wallTime(of: WallClock.floorDiv(slot * slotMicroseconds, 1_000_000), in: zone)
            let day = WallClock.floorDiv(wall, 86_400)
            // 1970-01-01 was a Thursday.
            weekdays[Int(((day + 4) % 7 + 7) % 7)] += orders
            hours[Int((wall - day * 86_400) / 3_600)] += orders
        }
        func first(_ counts: [Int64]) -> Int { counts.firstIndex(of: counts.max()!)! }
        return (first(weekdays), first(hours))
    }

    public struct TopCustomer: Sendable, Equatable {
        public var customerNo: String
        /// First and last name, as staff know the customer; empty when neither is known.
        public var name: String
        public var spentMinor: Int64

        public init(customerNo: String, name: String, spentMinor: Int64) {
            self.customerNo = customerNo
            self.name = name
            self.spentMinor = spentMinor
        }
    }

    public struct PaymentMethod: Sendable, Equatable {
        public var method: String
        public var payments: Int64
        public var amounts: [String: Int64]

        public init(method: String, payments: Int64, amounts: [String: Int64]) {
            self.method = method
            self.payments = payments
            self.amounts = amounts
        }
    }

    public var period: Period
    public var currency: String
    public var customers: Int64 = 0
    public var newCustomers: Int64 = 0
    public var returningCustomers: Int64 = 0
    public var customersWithOrder: Int64 = 0
    public var newsletterOptIns: Int64 = 0
    public var orders: Int64 = 0
    /// Currency → (revenue in minor units, orders).
    public var revenue: [String: (minor: Int64, orders: Int64)] = [:]
    public var activeCarts: Int64 = 0
    public var abandonedCarts: Int64 = 0
    public var orderedCarts: Int64 = 0
    public var visitorCarts: Int64 = 0
    public var openThreads: Int64 = 0
    public var averageFirstResponseSeconds: Int64?
    public var noShows: Int64 = 0
    public var bookingsDue: Int64 = 0
    public var topCustomers: [TopCustomer] = []
    public var paymentMethods: [PaymentMethod] = []
    /// 0 = Sunday … 6 = Saturday, and 0–23, of orders placed, on the period's zone's clock; nil
    /// without orders.
    public var busiestWeekday: Int?
    public var busiestHour: Int?

    public init(period: Period, currency: String) {
        self.period = period
        self.currency = currency
    }

    public static func == (lhs: CustomerStats, rhs: CustomerStats) -> Bool { lhs.json == rhs.json }

    public var json: JSONValue {
        func money(_ amounts: [String: Int64]) -> JSONValue {
            .object(JSONObject(Dictionary(uniqueKeysWithValues: amounts.map { ($0.key, JSONValue.string(Money.format($0.value, currency: $0.key))) })))
        }
        /// A share as a number with four decimals (`0.2500`); null when there is nothing to share.
        func rate(_ part: Int64, _ whole: Int64) -> JSONValue {
            guard whole > 0 else { return .null }
            let tenThousandths = (part * 10_000 + whole / 2) / whole
            let fraction = String(tenThousandths % 10_000)
            return .number("\(tenThousandths / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)")
        }
        let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        return .object([
            "from": period.from.map { .string($0.rfc3339(in: period.zone)) } ?? .null,
            "to": period.to.map { .string($0.rfc3339(in: period.zone)) } ?? .null,
            "timezone": .string(period.zone.identifier),
            "customers": .object(["total": .integer(customers), "new": .integer(newCustomers), "returning": .integer(returningCustomers),
                                  "with_order": .integer(customersWithOrder), "newsletter_opt_ins": .integer(newsletterOptIns)]),
            "orders": .integer(orders),
            "revenue": money(revenue.mapValues(\.minor)),
            "average_order": money(revenue.compactMapValues { $0.orders > 0 ? $0.minor / $0.orders : nil }),
            "carts": .object(["active": .integer(activeCarts), "abandoned": .integer(abandonedCarts), "ordered": .integer(orderedCarts),
                              "visitor": .integer(visitorCarts),
                              "conversion_rate": rate(orderedCarts, orderedCarts + abandonedCarts + activeCarts)]),
            "threads": .object(["open": .integer(openThreads),
                                "average_first_response_seconds": averageFirstResponseSeconds.map(JSONValue.integer) ?? .null]),
            "no_show_rate": rate(noShows, bookingsDue),
            "top_customers": .array(topCustomers.map {
                .object(["customer_no": .string($0.customerNo), "name": .string($0.name),
                         "total_spent": .string(Money.format($0.spentMinor, currency: currency)),
                         "currency": .string(currency)])
            }),
            "payment_methods": .array(paymentMethods.map {
                .object(["method": .string($0.method), "payments": .integer($0.payments), "amount": money($0.amounts)])
            }),
            "busiest_weekday": busiestWeekday.map { .string(weekdays[$0]) } ?? .null,
            "busiest_hour": busiestHour.map { .integer(Int64($0)) } ?? .null,
        ])
    }
}

/// Where `stats.get` reads its figures.
public protocol CustomerStatsSource: Sendable {
    func stats(_ period: CustomerStats.Period, currency: String) async throws -> CustomerStats
}

extension TimeZone {
    public static let utc = TimeZone(identifier: "UTC")!
}
