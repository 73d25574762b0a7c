/// A search condition as ``SearchIndex`` tests it. Conditions that SQLite's own indexes answer
/// in a few milliseconds (words, identifiers, customer numbers) arrive as the customers they
/// list (`among`); the others are tested in the columns.
public enum IndexCondition: Sendable, Equatable {
    case among([CustomerID])
    case country(String)
    case language(String)
    case city(String)
    case zip(String)
    case tag(String)
    /// An automatic group: customers whom staff have not put in a custom group.
    case automaticGroup(Int)
    /// Any of these custom groups (the ids of the groups whose folded name is the filter's).
    case customGroups([Int64])
    case newsletter(Bool)
    case firstContact(ClosedRange<Int64>)
    case lastOrder(ClosedRange<Int64>)
    case orders(ClosedRange<Int64>)
    /// Spend in the currency, none counting as 0.
    case spent(ClosedRange<Int64>, currency: String)
    /// Conditions that hold together on one booking.
    case booking(departure: ClosedRange<String>?, salesperson: String?, transport: String?, hotel: String?)
}

/// A search's exact total and its page, in the sort's order.
public struct IndexPage: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var id: CustomerID
        /// The sort key as a cursor carries it.
        public var key: String
    }

    public var total: Int
    /// One more than the page when more follow.
    public var rows: [Row]
}

extension SearchIndex {
    /// The live customers matching every condition: how many, and the first `limit + 1` after
    /// `after` in the order of `sort` (ties by id), with the keys that continue the order, kept
    /// in a bounded heap: exact whatever the combination, at a pass over at most the customers.
    ///
    /// - Throws: ``CustomerSearch/InvalidCursor`` when `after`'s key does not fit the sort.
    public func search(_ conditions: [IndexCondition], sort: CustomerSearch.Sort, currency: String, after: CustomerSearch.Cursor?,
                       limit: Int) throws -> IndexPage {
        let spendOrder = currencies.existingNumber(of: currency).flatMap { spend[$0] } ?? []
        guard let tests = compiled(conditions) else { return IndexPage(total: 0, rows: []) }
        let matches = self.matches(tests)
        switch sort {
        case .name:
            var page = TopPage<NameKey>(capacity: limit + 1, after: after.map { (NameKey(prefix: Self.prefix(of: $0.key), text: $0.key), Int($0.id)) })
            namePrefix.withUnsafeBufferPointer { prefixes in
                for id in matches {
                    let id = Int(id)
                    // Most customers lose on the prefix alone, before their name is read.
                    if let worst = page.worst, prefixes[id] > worst.key.prefix { continue }
                    page.offer(NameKey(prefix: prefixes[id], text: sortName[id]), id)
                }
            }
            return IndexPage(total: matches.count, rows: page.sorted().map { IndexPage.Row(id: CustomerID($0.id), key: $0.key.text) })
        case .lastOrder, .totalSpent, .firstContact:
            var cursor: (Int64, Int)?
            if let after {
                guard let key = Int64(after.key) else { throw CustomerSearch.InvalidCursor() }
                cursor = (key, Int(after.id))
            }
            var page = TopPage<Int64>(capacity: limit + 1, after: cursor)
            switch sort {
            case .lastOrder:
                // Newest first, customers without an order last (the cursor's key: -time, or Int64.max).
                lastOrder.withUnsafeBufferPointer { lastOrder in
                    for id in matches {
                        let last = lastOrder[Int(id)]
                        page.offer(last == Self.noOrder ? Int64.max : -last, Int(id))
                    }
                }
            case .totalSpent:
                spendOrder.withUnsafeBufferPointer { spend in
                    for id in matches { page.offer(Int(id) < spend.count ? -spend[Int(id)] : 0, Int(id)) }
                }
            default: firstContact.withUnsafeBufferPointer { firstContact in for id in matches { page.offer(firstContact[Int(id)], Int(id)) } }
            }
            return IndexPage(total: matches.count, rows: page.sorted().map { IndexPage.Row(id: CustomerID($0.id), key: String($0.key)) })
        }
    }

    /// The live customers matching every condition, in id order: a send's recipients, an
    /// export's rows.
    public func customers(matching conditions: [IndexCondition]) -> [CustomerID] {
        guard let tests = compiled(conditions) else { return [] }
        return matches(tests).sorted().map { CustomerID($0) }
    }

    /// Every condition compiled, or nil when one of them can match no customer.
    private func compiled(_ conditions: [IndexCondition]) -> [CompiledTest]? {
        var tests: [CompiledTest] = []
        for condition in conditions {
            guard let test = compile(condition) else { return nil }
            tests.append(test)
        }
        return tests
    }

    /// `ids` in the name sort's order (ties by id), as `customers.search` and exports list them.
    public func inNameOrder(_ ids: [CustomerID]) -> [CustomerID] {
        let keyed: [(key: NameKey, id: CustomerID)] = ids.map { id in
            Int(id) < idLimit ? (NameKey(prefix: namePrefix[Int(id)], text: sortName[Int(id)]), id) : (NameKey(prefix: 0, text: ""), id)
        }
        return keyed.sorted { a, b in a.key < b.key || (a.key == b.key && a.id < b.id) }.map { $0.id }
    }

    /// The live customers that pass every test, in no particular order. The most selective list
    /// (`among`, a tag) is the start, else every customer; each test then
    /// narrows the list in a loop of its own over one column, the rarest value first.
    private func matches(_ tests: [CompiledTest]) -> [Int32] {
        var tests = tests
        var list: [Int32]
        if let index = tests.indices.filter({ tests[$0].candidates != nil }).min(by: { tests[$0].estimate < tests[$1].estimate }) {
            let live = flags
            let limit = idLimit
            list = tests[index].candidates!.compactMap { $0 > 0 && $0 < limit && live[$0] & Self.liveFlag != 0 ? Int32($0) : nil }
            tests.remove(at: index)
        } else {
            list = flags.withUnsafeBufferPointer { flags in
                var live: [Int32] = []
                live.reserveCapacity(liveCustomers)
                for id in 1..<flags.count where flags[id] & Self.liveFlag != 0 { live.append(Int32(id)) }
                return live
            }
        }
        // Booking tests read several rows; the rest one field each, the rarest value first.
        tests.sort { ($0.isBooking ? 1 : 0, $0.estimate) < ($1.isBooking ? 1 : 0, $1.estimate) }
        for test in tests {
            if list.isEmpty { break }
            list = narrow(list, test.test)
        }
        return list
    }

    /// The ids of `list` that pass `test`: one loop per kind of test, over its column.
    private func narrow(_ list: [Int32], _ test: Test) -> [Int32] {
        @inline(__always)
        func keep<Column>(_ column: [Column], _ passes: (Column) -> Bool) -> [Int32] {
            column.withUnsafeBufferPointer { column in list.filter { passes(column[Int($0)]) } }
        }
        switch test {
        case .among(let listed): return listed.withUnsafeBufferPointer { listed in list.filter { listed[Int($0)] } }
        case .tag(let owners): return list.filter { owners.contains(Int($0)) }
        case .country(let number): return keep(country) { $0 == number }
        case .language(let number): return keep(language) { $0 == number }
        case .city(let number): return keep(city) { $0 == number }
        case .zip(let number): return keep(zip) { $0 == number }
        case .automaticGroup(let group):
            return customGroup.withUnsafeBufferPointer { custom in
                automaticGroup.withUnsafeBufferPointer { automatic in list.filter { automatic[Int($0)] == group && custom[Int($0)] == 0 } }
            }
        case .customGroups(let numbers): return keep(customGroup) { numbers.contains($0) }
        case .newsletter(let wanted): return keep(flags) { ($0 & Self.newsletterFlag != 0) == wanted }
        case .firstContact(let range): return keep(firstContact) { range.contains($0) }
        case .lastOrder(let range): return keep(lastOrder) { $0 != Self.noOrder && range.contains($0) }
        case .orders(let range): return keep(orders) { range.contains($0) }
        case .spent(let range, let column):
            return column.withUnsafeBufferPointer { spend in list.filter { range.contains(Int($0) < spend.count ? spend[Int($0)] : 0) } }
        case .booking(let wanted):
            return list.filter { id in
                bookings.contains(Int(id)) { row in
                    row.departure >= wanted.departure.lowerBound && row.departure <= wanted.departure.upperBound
                        && (wanted.salesperson == 0 || row.salesperson == wanted.salesperson)
                        && (wanted.transport == 0 || row.transport == wanted.transport)
                        && (wanted.hotel == 0 || row.hotel == wanted.hotel)
                }
            }
        }
    }

    /// The condition as a test with an estimate of how many customers pass it, and the list of
    /// those customers where the index has one; nil when no customer can match.
    private func compile(_ condition: IndexCondition) -> CompiledTest? {
        func equal(_ vocabulary: Vocabulary<String>, _ value: String, _ test: (UInt32) -> Test) -> CompiledTest? {
            guard let number = vocabulary.existingNumber(of: value) else { return nil }
            return CompiledTest(test: test(number), estimate: vocabulary.liveCount(of: number))
        }
        switch condition {
        case .among(let ids):
            // Each once, and a mark per customer id for testing it when another list leads.
            var listed = [Bool](repeating: false, count: idLimit)
            var unique: [Int] = []
            unique.reserveCapacity(ids.count)
            for id in ids.lazy.map({ Int($0) }) where id > 0 && id < idLimit && !listed[id] {
                listed[id] = true
                unique.append(id)
            }
            return CompiledTest(test: .among(listed), estimate: unique.count, candidates: unique)
        case .country(let code): return equal(countries, code, Test.country)
        case .language(let tag): return equal(languages, Self.caseless(tag), Test.language)
        case .city(let city): return equal(cities, city, Test.city)
        case .zip(let zip): return equal(zips, zip, Test.zip)
        case .tag(let tag):
            guard let number = tags.existingNumber(of: tag), let owners = tagged[number] else { return nil }
            return CompiledTest(test: .tag(owners), estimate: owners.count, candidates: Array(owners))
        case .automaticGroup(let group):
            guard let group = UInt8(exactly: group) else { return nil }
            return CompiledTest(test: .automaticGroup(group), estimate: automaticGroupCounts[Int(group)])
        case .customGroups(let ids):
            let numbers = ids.compactMap { customGroups.existingNumber(of: $0) }
            guard !numbers.isEmpty else { return nil }
            return CompiledTest(test: .customGroups(numbers), estimate: numbers.reduce(0) { $0 + customGroups.liveCount(of: $1) })
        case .newsletter(let wanted):
            return CompiledTest(test: .newsletter(wanted), estimate: wanted ? newsletterCount : liveCustomers - newsletterCount)
        case .firstContact(let range): return CompiledTest(test: .firstContact(range), estimate: liveCustomers / 2)
        case .lastOrder(let range): return CompiledTest(test: .lastOrder(range), estimate: liveCustomers / 2)
        case .orders(let range):
            let lower = Int32(clamping: range.lowerBound), upper = Int32(clamping: range.upperBound)
            return CompiledTest(test: .orders(lower...upper), estimate: liveCustomers / 2)
        case .spent(let range, let currency):
            let column = currencies.existingNumber(of: currency).flatMap { spend[$0] } ?? []
            return CompiledTest(test: .spent(range, column), estimate: liveCustomers / 2)
        case .booking(let departure, let salesperson, let transport, let hotel):
            var wanted = BookingTest(departure: Int32.min...Int32.max, salesperson: 0, transport: 0, hotel: 0)
            if let departure {
                wanted.departure = BookingColumns.day(departure.lowerBound)...BookingColumns.day(departure.upperBound)
            }
            for (value, field) in [(salesperson, \BookingTest.salesperson), (transport, \BookingTest.transport), (hotel, \BookingTest.hotel)] {
                guard let value else { continue }
                guard let number = bookingKeys.existingNumber(of: value) else { return nil }
                wanted[keyPath: field] = number
            }
            return CompiledTest(test: .booking(wanted), estimate: liveCustomers, isBooking: true)
        }
    }
}

/// A condition compiled against the index's numbering.
private enum Test {
    /// Marked by customer id.
    case among([Bool])
    case country(UInt32)
    case language(UInt32)
    case city(UInt32)
    case zip(UInt32)
    case tag(Set<Int>)
    case automaticGroup(UInt8)
    case customGroups([UInt32])
    case newsletter(Bool)
    case firstContact(ClosedRange<Int64>)
    case lastOrder(ClosedRange<Int64>)
    case orders(ClosedRange<Int32>)
    case spent(ClosedRange<Int64>, [Int64])
    case booking(BookingTest)
}

/// One booking's conditions; a key number of 0 is no condition, a departure without a date
/// (`BookingColumns.noDeparture`) is below every range.
private struct BookingTest {
    var departure: ClosedRange<Int32>
    var salesperson: UInt32
    var transport: UInt32
    var hotel: UInt32
}

private struct CompiledTest {
    var test: Test
    var estimate: Int
    /// Exactly the customers that pass, when the index lists them.
    var candidates: [Int]?
    var isBooking = false
}

/// A name sort key, ordered by its UTF-8 bytes as SQLite's BINARY collation orders the cursor's:
/// by the first 8 bytes as one number, the rest only when those are equal.
struct NameKey: Comparable {
    var prefix: UInt64
    var text: String

    static func < (lhs: NameKey, rhs: NameKey) -> Bool {
        lhs.prefix != rhs.prefix ? lhs.prefix < rhs.prefix : lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
    }

    static func == (lhs: NameKey, rhs: NameKey) -> Bool { lhs.prefix == rhs.prefix && lhs.text.utf8.elementsEqual(rhs.text.utf8) }
}

/// The first `capacity` entries by (key, id) after a cursor, of any number offered: a max-heap
/// of the best so far, so that an entry worse than all of them costs one comparison.
struct TopPage<Key: Comparable> {
    private var heap: [(key: Key, id: Int)] = []
    private let capacity: Int
    private let after: (key: Key, id: Int)?

    init(capacity: Int, after: (Key, Int)?) {
        self.capacity = capacity
        self.after = after.map { (key: $0.0, id: $0.1) }
        heap.reserveCapacity(capacity)
    }

    @inline(__always)
    private static func precedes(_ a: (key: Key, id: Int), _ b: (key: Key, id: Int)) -> Bool {
        a.key < b.key || (a.key == b.key && a.id < b.id)
    }

    mutating func offer(_ key: Key, _ id: Int) {
        let entry = (key: key, id: id)
        if let after, !Self.precedes(after, entry) { return }
        if heap.count < capacity {
            heap.append(entry)
            siftUp(heap.count - 1)
        } else if capacity > 0, Self.precedes(entry, heap[0]) {
            heap[0] = entry
            siftDown(0)
        }
    }

    func sorted() -> [(key: Key, id: Int)] { heap.sorted { Self.precedes($0, $1) } }

    /// The last entry the page holds once it is full: anything after it cannot enter.
    var worst: (key: Key, id: Int)? { heap.count == capacity ? heap.first : nil }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < heap.count, Self.precedes(heap[largest], heap[left]) { largest = left }
            if right < heap.count, Self.precedes(heap[largest], heap[right]) { largest = right }
            if largest == parent { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }
}
