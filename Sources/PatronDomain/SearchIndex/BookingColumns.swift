/// Every customer's bookings as the booking filters read them, in about 16 bytes each: one run
/// of rows per customer (customer ids index `start`), and the customers changed since the runs
/// were laid out held apart until there are enough of them to lay the runs out again. A filter
/// tests a customer's few bookings where they lie, instead of asking SQLite for every booking
/// in a date range (250,000 rows for a month of 3,000,000 bookings).
struct BookingColumns: Sendable {
    /// One booking: the departure as YYYYMMDD (`noDeparture` when unknown) and the folded keys' numbers.
    struct Row: Sendable, Equatable {
        var departure: Int32
        var salesperson: UInt32
        var transport: UInt32
        var hotel: UInt32
    }

    static let noDeparture = Int32.min

    /// Customer `id`'s rows are `rows[start[id] ..< start[id + 1]]`, for ids below `start.count - 1`.
    private var start: [Int32] = [0]
    private var rows: [Row] = []
    /// The rows of customers changed since the runs were laid out, in place of theirs there,
    /// and a mark per customer id that says whether it is one (a dictionary lookup per tested
    /// customer would cost more than its test).
    private var changed: [Int: [Row]] = [:]
    private var isChanged: [Bool] = []

    var count: Int { rows.count + changed.values.reduce(0) { $0 + $1.count } }

    /// Where the next row of each customer goes while the runs are filled at start.
    private var filling: [Int32] = []

    /// Runs of the given lengths (`counts[id]` rows for customer `id`), to be filled by
    /// ``place(_:of:)``: a start-up load in two passes, so that no second copy of three million
    /// rows is ever held.
    init(counts: [Int32]) {
        var start = [Int32](repeating: 0, count: counts.count + 1)
        for (customer, count) in counts.enumerated() { start[customer + 1] = start[customer] + count }
        self.start = start
        rows = [Row](repeating: Row(departure: 0, salesperson: 0, transport: 0, hotel: 0), count: Int(start[counts.count]))
        filling = Array(start.dropLast())
    }

    /// A row read at start; rows beyond the customer's counted run are left out (the counts and
    /// the rows come from one snapshot, so there are none).
    mutating func place(_ row: Row, of customer: Int) {
        guard customer < filling.count, filling[customer] < start[customer + 1] else { return }
        rows[Int(filling[customer])] = row
        filling[customer] += 1
    }

    mutating func finishPlacing() { filling = [] }

    init() {}

    /// Replaces a customer's rows.
    mutating func set(_ customer: Int, to newRows: [Row]) {
        changed[customer] = newRows
        if customer >= isChanged.count { isChanged.append(contentsOf: repeatElement(false, count: max(customer + 1, isChanged.count * 2) - isChanged.count)) }
        isChanged[customer] = true
        // Laying out again costs about a pass over all rows; once per that many changes it is a
        // small share of the changes' own cost.
        if changed.count > max(4_096, (start.count - 1) / 16) { compact() }
    }

    /// Calls `body` with each of the customer's rows until it returns true.
    @inline(__always)
    func contains(_ customer: Int, where body: (Row) -> Bool) -> Bool {
        if customer < isChanged.count, isChanged[customer], let rows = changed[customer] { return rows.contains(where: body) }
        guard customer + 1 < start.count else { return false }
        var offset = Int(start[customer])
        let end = Int(start[customer + 1])
        while offset < end {
            if body(rows[offset]) { return true }
            offset += 1
        }
        return false
    }

    /// Lays the runs out again with the changed customers' rows in place: a new array the size
    /// of the rows, filled from the old runs and the changes (never a third copy).
    private mutating func compact() {
        let customers = max(start.count - 1, (changed.keys.max() ?? 0) + 1)
        func run(_ customer: Int) -> Range<Int> {
            customer + 1 < start.count ? Int(start[customer])..<Int(start[customer + 1]) : 0..<0
        }
        func changedRows(_ customer: Int) -> [Row]? { customer < isChanged.count && isChanged[customer] ? changed[customer] : nil }
        var counts = [Int32](repeating: 0, count: customers)
        for customer in 0..<customers { counts[customer] = Int32(changedRows(customer)?.count ?? run(customer).count) }
        var laidOut = BookingColumns(counts: counts)
        for customer in 0..<customers {
            if let changedRows = changedRows(customer) {
                for row in changedRows { laidOut.place(row, of: customer) }
            } else {
                for offset in run(customer) { laidOut.place(rows[offset], of: customer) }
            }
        }
        laidOut.finishPlacing()
        self = laidOut
    }

    static func row(_ booking: BookingFacts, keys: inout Vocabulary<String>) -> Row {
        Row(departure: day(booking.departure), salesperson: keys.number(of: booking.salesperson), transport: keys.number(of: booking.transport),
            hotel: keys.number(of: booking.hotel))
    }

    /// `YYYY-MM-DD` as YYYYMMDD, which orders as the text does.
    /// Without an allocation: three million of them at start.
    static func day(_ text: String?) -> Int32 {
        guard let text else { return noDeparture }
        var day: Int32 = 0
        var digits = 0
        for byte in text.utf8 where byte != UInt8(ascii: "-") {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 8 else { return noDeparture }
            day = day * 10 + Int32(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits == 8 ? day : noDeparture
    }
}
