/// The fields that select many customers, one compact column each, indexed by customer id:
/// what `customers.search` filters and sorts by, for any combination of filters. A search
/// tests each candidate in memory (about a nanosecond a field) instead of asking SQLite's
/// indexes, one per filter, which answered well only the combinations they were made for
/// (docs/search.md). The database stays the record: the index is loaded from it at start and
/// given each changed customer's facts after every commit.
///
/// Not thread-safe: its owner serializes changes and searches.
public struct SearchIndex: Sendable {
    static let liveFlag: UInt8 = 1
    static let newsletterFlag: UInt8 = 2
    static let noOrder = Int64.min

    // Columns, one entry per customer id (0 is unused).
    var flags: [UInt8] = [0]
    var country: [UInt32] = [0]
    var language: [UInt32] = [0]
    var city: [UInt32] = [0]
    var zip: [UInt32] = [0]
    var automaticGroup: [UInt8] = [0]
    var customGroup: [UInt32] = [0]
    var firstContact: [Int64] = [0]
    var lastOrder: [Int64] = [noOrder]
    var orders: [Int32] = [0]
    var sortName: [String] = [""]
    /// The name key's first 8 bytes, big-endian and zero-padded: most comparisons of a name
    /// sort end there (comparing the strings' bytes costs about ten times more).
    var namePrefix: [UInt64] = [0]
    /// The tags of the customers who have any, and the customers of each tag.
    var tagsOf: [Int: [UInt32]] = [:]
    var tagged: [UInt32: Set<Int>] = [:]
    /// Per currency, each customer's spend (0: none), as long as the customers seen when it was
    /// last written (later ones have none). A column, not a dictionary of those who spent:
    /// looking up a million customers' spend in a dictionary took ~100 ms (cache misses), in
    /// the column a few; 8 MB per currency at 1,000,000 customers.
    var spend: [UInt32: [Int64]] = [:]
    var bookings = BookingColumns()

    var countries = Vocabulary<String>()
    var languages = Vocabulary<String>()
    var cities = Vocabulary<String>()
    var zips = Vocabulary<String>()
    var tags = Vocabulary<String>()
    var currencies = Vocabulary<String>()
    var customGroups = Vocabulary<Int64>()
    var bookingKeys = Vocabulary<String>()
    var automaticGroupCounts = [Int](repeating: 0, count: 256)
    var newsletterCount = 0
    public private(set) var liveCustomers = 0

    public init() {}

    /// The highest customer id plus one.
    var idLimit: Int { flags.count }

    /// Replaces what the index holds of one customer with `facts`, bookings and spend included.
    public mutating func apply(_ facts: CustomerFacts) {
        set(facts)
        let id = Int(facts.id)
        // The currencies first: iterating `spend.keys` while writing would hold a second
        // reference to the dictionary, and each write would copy the column (perf: a quarter of
        // an import's CPU went to copying 8 MB per changed customer).
        for currency in Array(spend.keys) where id < spend[currency]!.count { spend[currency]![id] = 0 }
        for (currency, minor) in facts.spend { setSpend(minor, of: id, currency: currency) }
        var rows: [BookingColumns.Row] = []
        for booking in facts.bookings { rows.append(row(booking)) }
        bookings.set(id, to: rows)
    }

    // MARK: Loading at start

    /// A customer read at start (its spend and bookings come apart: ``load(spend:of:currency:)``).
    public mutating func load(_ facts: CustomerFacts) { set(facts) }

    public mutating func load(spend minor: Int64, of customer: CustomerID, currency: String) {
        setSpend(minor, of: Int(customer), currency: currency)
    }

    private mutating func setSpend(_ minor: Int64, of id: Int, currency: String) {
        let number = currencies.number(of: currency)
        let count = spend[number]?.count ?? 0
        if id >= count { spend[number, default: []].append(contentsOf: repeatElement(0, count: max(idLimit, id + 1) - count)) }
        spend[number]![id] = minor
    }

    /// Every booking, read at start apart from the customers (on another connection, meanwhile).
    public mutating func load(_ loaded: LoadedBookings) {
        var loaded = loaded
        loaded.columns.finishPlacing()
        bookings = loaded.columns
        bookingKeys = loaded.keys
    }

    // MARK: Changing one customer

    private mutating func set(_ facts: CustomerFacts) {
        let id = Int(facts.id)
        grow(to: id)
        if flags[id] & Self.liveFlag != 0 { count(id, by: -1) }
        flags[id] = (facts.isLive ? Self.liveFlag : 0) | (facts.newsletter ? Self.newsletterFlag : 0)
        country[id] = countries.number(of: facts.country)
        language[id] = languages.number(of: facts.language.map(Self.caseless))
        city[id] = cities.number(of: facts.city.isEmpty ? nil : facts.city)
        zip[id] = zips.number(of: facts.zip.isEmpty ? nil : facts.zip)
        automaticGroup[id] = UInt8(clamping: facts.automaticGroup)
        customGroup[id] = customGroups.number(of: facts.customGroup)
        firstContact[id] = facts.firstContact
        lastOrder[id] = facts.lastOrder ?? Self.noOrder
        orders[id] = Int32(clamping: facts.orders)
        sortName[id] = facts.sortName
        namePrefix[id] = Self.prefix(of: facts.sortName)
        for tag in tagsOf[id] ?? [] { tagged[tag]?.remove(id) }
        let numbers = Array(Set(facts.tags.map { tags.number(of: $0) }))
        tagsOf[id] = numbers.isEmpty ? nil : numbers
        for tag in numbers { tagged[tag, default: []].insert(id) }
        if facts.isLive { count(id, by: 1) }
    }

    private mutating func count(_ id: Int, by change: Int) {
        countries.count(country[id], by: change)
        languages.count(language[id], by: change)
        cities.count(city[id], by: change)
        zips.count(zip[id], by: change)
        customGroups.count(customGroup[id], by: change)
        automaticGroupCounts[Int(automaticGroup[id])] += change
        if flags[id] & Self.newsletterFlag != 0 { newsletterCount += change }
        liveCustomers += change
    }

    private mutating func grow(to id: Int) {
        guard id >= flags.count else { return }
        let added = id + 1 - flags.count
        flags.append(contentsOf: repeatElement(0, count: added))
        country.append(contentsOf: repeatElement(0, count: added))
        language.append(contentsOf: repeatElement(0, count: added))
        city.append(contentsOf: repeatElement(0, count: added))
        zip.append(contentsOf: repeatElement(0, count: added))
        automaticGroup.append(contentsOf: repeatElement(0, count: added))
        customGroup.append(contentsOf: repeatElement(0, count: added))
        firstContact.append(contentsOf: repeatElement(0, count: added))
        lastOrder.append(contentsOf: repeatElement(Self.noOrder, count: added))
        orders.append(contentsOf: repeatElement(0, count: added))
        sortName.append(contentsOf: repeatElement("", count: added))
        namePrefix.append(contentsOf: repeatElement(0, count: added))
    }

    private mutating func row(_ booking: BookingFacts) -> BookingColumns.Row { BookingColumns.row(booking, keys: &bookingKeys) }

    static func prefix(of name: String) -> UInt64 {
        var prefix: UInt64 = 0
        var shift: UInt64 = 56
        for byte in name.utf8.prefix(8) {
            prefix |= UInt64(byte) << shift
            shift &-= 8
        }
        return prefix
    }

    /// Languages match ignoring ASCII case, as tags such as en-GB are written either way.
    static func caseless(_ text: String) -> String { text.lowercased() }
}

/// Every booking as read at start, in two passes: how many each customer has (``count(_:of:)``),
/// then the bookings in any order (``add(_:of:)``), so that no second copy of them is held. It
/// numbers the keys itself, so it can be filled on a connection of its own while the customers
/// load (``SearchIndex/load(_:)-(LoadedBookings)``).
public struct LoadedBookings: Sendable {
    var columns = BookingColumns()
    var keys = Vocabulary<String>()
    private var counts: [Int32] = []
    private var placing = false

    public init() {}

    public mutating func count(_ bookings: Int, of customer: CustomerID) {
        let id = Int(customer)
        if id >= counts.count { counts.append(contentsOf: repeatElement(0, count: max(id + 1, counts.count * 2) - counts.count)) }
        counts[id] = Int32(clamping: bookings)
    }

    public mutating func add(_ booking: BookingFacts, of customer: CustomerID) {
        if !placing {
            columns = BookingColumns(counts: counts)
            counts = []
            placing = true
        }
        columns.place(BookingColumns.row(booking, keys: &keys), of: Int(customer))
    }
}
