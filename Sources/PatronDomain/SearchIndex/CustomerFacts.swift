/// What the search filters and sorts read of one customer, as the database holds it: the
/// input of ``SearchIndex``. Texts are folded as the search row folds them.
public struct CustomerFacts: Sendable, Equatable {
    public var id: CustomerID
    /// Neither merged into another record nor erased: only live customers are found.
    public var isLive: Bool
    public var country: String?
    public var language: String?
    /// The latest consent statement is an opt-in.
    public var newsletter: Bool
    public var automaticGroup: Int
    public var customGroup: Int64?
    /// Microseconds since 1970, as stored.
    public var firstContact: Int64
    public var lastOrder: Int64?
    public var orders: Int64
    public var city: String
    public var zip: String
    public var tags: [String]
    /// The name sort's key: the last name (or the first where there is none), U+0001, the first.
    public var sortName: String
    /// Spend in minor units per currency.
    public var spend: [String: Int64]
    public var bookings: [BookingFacts]

    public init(id: CustomerID, isLive: Bool, country: String? = nil, language: String? = nil, newsletter: Bool = false, automaticGroup: Int = 0,
                customGroup: Int64? = nil, firstContact: Int64 = 0, lastOrder: Int64? = nil, orders: Int64 = 0, city: String = "",
                zip: String = "", tags: [String] = [], sortName: String = "", spend: [String: Int64] = [:], bookings: [BookingFacts] = []) {
        self.id = id
        self.isLive = isLive
        self.country = country
        self.language = language
        self.newsletter = newsletter
        self.automaticGroup = automaticGroup
        self.customGroup = customGroup
        self.firstContact = firstContact
        self.lastOrder = lastOrder
        self.orders = orders
        self.city = city
        self.zip = zip
        self.tags = tags
        self.sortName = sortName
        self.spend = spend
        self.bookings = bookings
    }
}

/// What the booking filters read of one booking: the departure date and the folded keys.
public struct BookingFacts: Sendable, Equatable {
    public var departure: String?
    public var salesperson: String?
    public var transport: String?
    public var hotel: String?

    public init(departure: String?, salesperson: String?, transport: String?, hotel: String?) {
        self.departure = departure
        self.salesperson = salesperson
        self.transport = transport
        self.hotel = hotel
    }
}
