/// The distinct values of one field, each numbered once (from 1; 0 is "none"), with how many
/// live customers hold each: a column then stores a small number per customer, and a search
/// knows how selective an equality is before it scans.
struct Vocabulary<Value: Hashable & Sendable>: Sendable {
    private var numbers: [Value: UInt32] = [:]
    /// Live customers per number; index 0 counts those without a value.
    private(set) var liveCounts: [Int] = [0]

    /// The value's number, adding it when it is new.
    mutating func number(of value: Value?) -> UInt32 {
        guard let value else { return 0 }
        if let number = numbers[value] { return number }
        let number = UInt32(liveCounts.count)
        numbers[value] = number
        liveCounts.append(0)
        return number
    }

    /// The value's number, nil when no customer ever had it.
    func existingNumber(of value: Value) -> UInt32? { numbers[value] }

    mutating func count(_ number: UInt32, by change: Int) { liveCounts[Int(number)] += change }

    func liveCount(of number: UInt32) -> Int { liveCounts[Int(number)] }
}
