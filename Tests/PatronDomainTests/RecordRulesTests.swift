import PatronDomain
import Testing

struct MoneyTests {
    @Test(arguments: [
        ("412.50", "EUR", 41250), ("412.5", "EUR", 41250), ("412", "EUR", 41200), ("0.10", "EUR", 10),
        ("412.500", "EUR", 41250), ("1200", "JPY", 1200), ("1.234", "KWD", 1234), ("1e3", "EUR", 100000), ("-0", "EUR", 0),
    ])
    func parsesExactly(text: String, currency: String, minor: Int64) throws {
        #expect(try Money.parse(text, currency: currency) == Money(minorUnits: minor, currency: currency))
    }

    @Test(arguments: ["412.505", "abc", "", ".5", "5.", "1,5", "-1", "99999999999999999999", "1e-5"])
    func refuses(text: String) {
        #expect(throws: Money.ParseError.self) { try Money.parse(text, currency: "EUR") }
    }

    @Test(arguments: [(41250, "EUR", "412.50"), (5, "EUR", "0.05"), (1200, "JPY", "1200"), (1234, "KWD", "1.234"), (-150, "EUR", "-1.50")])
    func formatsWithTheCurrencyDigits(minor: Int64, currency: String, text: String) {
        #expect(Money(minorUnits: minor, currency: currency).decimalString == text)
    }
}

struct NormalizationTests {
    @Test(arguments: [("mr", "Mr."), ("MRS", "Mrs."), ("Sr.", "Mr."), ("Sra.", "Mrs."), ("ms", "Ms."), ("dr.", "Dr."), ("Prof.", "Prof."), ("Mrs.", "Mrs.")])
    func titles(input: String, expected: String) {
        #expect(TitleNormalization.normalize(input, configured: ["Mr.", "Mrs.", "Ms.", "Dr."]) == expected)
    }

    @Test func titlesFollowTheConfiguredSpelling() {
        #expect(TitleNormalization.normalize("mrs", configured: ["Sr.", "Sra."]) == "mrs")
        #expect(TitleNormalization.normalize("SRA", configured: ["Sr.", "Sra."]) == "Sra.")
    }

    @Test(arguments: [("ES", "ES"), ("es", "ES"), ("Spain", "ES"), ("España", "ES"), ("espana", "ES"), ("Deutschland", "DE"), ("UK", "GB")])
    func countries(input: String, expected: String) {
        #expect(CountryNormalization.normalize(input) == expected)
    }

    @Test func unknownCountry() {
        #expect(CountryNormalization.normalize("Atlantis") == nil)
        #expect(CountryNormalization.normalize("XX") == nil)
    }

    @Test(arguments: [("2024-02-29", true), ("2023-02-29", false), ("1984-13-01", false), ("1984-3-2", false), ("1700-01-01", false)])
    func dates(text: String, valid: Bool) {
        #expect(CalendarDate.isValid(text) == valid)
    }
}

struct StampedFieldTests {
    static func t(_ minutes: Int64) -> Timestamp { Timestamp(microseconds: minutes * 60_000_000) }

    @Test func olderNeverOverwritesNewerAndTiesGoToTheLaterProcessed() {
        var fields = StampedFields<ProfileField>()
        #expect(fields.apply([.city: "Bilbao"], at: Self.t(10)) == [.city])
        #expect(fields.apply([.city: "Donostia", .zip: "20001"], at: Self.t(5)) == [.zip])
        #expect(fields[.city]?.value == "Bilbao")
        #expect(fields.apply([.city: "Irun"], at: Self.t(10)) == [.city])
        #expect(fields[.city]?.value == "Irun")
    }

    @Test func mergeKeepsTheNewerOfEachField() {
        var survivor = StampedFields<ProfileField>([.city: Stamped("Bilbao", at: Self.t(10)), .zip: Stamped("48001", at: Self.t(10))])
        let loser = StampedFields<ProfileField>([.city: Stamped("Donostia", at: Self.t(20)), .zip: Stamped("20001", at: Self.t(5)),
                                                 .company: Stamped("Acme", at: Self.t(1))])
        #expect(survivor.merge(loser) == [.city, .company])
        #expect(survivor[.zip]?.value == "48001")
    }
}

struct AggregateTests {
    static func booking(_ ref: String, _ status: BookingStatus?, _ amount: Int64?, currency: String = "EUR", at minute: Int64) -> BookingRecord {
        BookingRecord(ref: ref, customerID: 1, status: status.map { Stamped($0.rawValue, at: .init(microseconds: 0)) },
                      amount: amount.map { Money(minorUnits: $0, currency: currency) }, firstSeenAt: Timestamp(microseconds: minute))
    }

    @Test func ordersAreConfirmedOrCompletedBookingsPerCurrency() {
        let aggregates = CustomerAggregates(bookings: [
            Self.booking("a", .confirmed, 10000, at: 5), Self.booking("b", .completed, 2550, at: 9), Self.booking("c", .cancelled, 999, at: 1),
            Self.booking("d", .noShow, 500, at: 2), Self.booking("e", .pending, 100, at: 3), Self.booking("f", .confirmed, 1200, currency: "JPY", at: 7),
            Self.booking("g", .confirmed, nil, at: 8), Self.booking("h", nil, 100, at: 0),
        ], defaultCurrency: "EUR")
        #expect(aggregates.figures.orders == 4)
        #expect(aggregates.spent == ["EUR": 12550, "JPY": 1200])
        #expect(aggregates.ordersByCurrency == ["EUR": 3, "JPY": 1])
        #expect(aggregates.figures.noShows == 1)
        #expect(aggregates.figures.completedStays == 1)
        #expect(aggregates.figures.bookings == 8)
        #expect(aggregates.figures.firstOrderAt == Timestamp(microseconds: 5))
        #expect(aggregates.figures.lastOrderAt == Timestamp(microseconds: 9))
    }
}

struct IdentityResolutionTests {
    typealias Candidate = IdentityResolution.Candidate
    static func c(_ id: CustomerID, _ number: String, assigned: Bool = false, at minute: Int64) -> Candidate {
        Candidate(id: id, customerNo: number, numberAssigned: assigned, firstContactAt: Timestamp(microseconds: minute))
    }

    static func plan(_ candidates: [Candidate], number: String? = nil, numbered: CustomerID? = nil, limit: Int = 3,
                     blocked: Set<[CustomerID]> = []) -> IdentityResolution.Plan {
        IdentityResolution.plan(candidates: candidates, eventNumber: number, numbered: numbered, maximumMergeRecords: limit,
                                isBlocked: { blocked.contains([min($0, $1), max($0, $1)]) })
    }

    @Test func noMatchCreates() {
        #expect(Self.plan([]) == .init(target: .create(number: nil)))
        #expect(Self.plan([], number: "C-1") == .init(target: .create(number: "C-1")))
    }

    @Test func oneMatchUpdates() {
        #expect(Self.plan([Self.c(4, "P-4", assigned: true, at: 1)]) == .init(target: .existing(4)))
    }

    @Test func bridgeMergesIntoTheOldest() {
        let plan = Self.plan([Self.c(7, "P-7", assigned: true, at: 1), Self.c(3, "P-3", assigned: true, at: 9)])
        #expect(plan == .init(target: .existing(7), mergeInto: [3]))
    }

    @Test func assignedNumberRecordJoinsTheNumberedOne() {
        let plan = Self.plan([Self.c(1, "P-1", assigned: true, at: 1), Self.c(2, "C-2", at: 5)], number: "C-2", numbered: 2)
        #expect(plan == .init(target: .existing(1), mergeInto: [2]))
    }

    @Test func twoRealNumbersNeverMerge() {
        let plan = Self.plan([Self.c(1, "C-1", at: 1), Self.c(2, "C-2", at: 5)], number: "C-2", numbered: 2)
        #expect(plan == .init(target: .existing(2), issues: [.init(kind: .customerNumberConflict, customers: [2, 1])]))
        let unnamed = Self.plan([Self.c(1, "C-1", at: 1), Self.c(2, "C-2", at: 5)])
        #expect(unnamed == .init(target: .existing(1), issues: [.init(kind: .customerNumberConflict, customers: [1, 2])]))
    }

    @Test func unknownNumberIsTakenByAnAssignedRecordOrStartsOne() {
        #expect(Self.plan([Self.c(1, "P-1", assigned: true, at: 1)], number: "C-9") == .init(target: .existing(1)))
        #expect(Self.plan([Self.c(1, "C-1", at: 1)], number: "C-9")
                == .init(target: .create(number: "C-9"), issues: [.init(kind: .customerNumberConflict, customers: [1])]))
    }

    @Test func overTheLimitNothingMerges() {
        let candidates = (1...4).map { Self.c(CustomerID($0), "P-\($0)", assigned: true, at: Int64($0)) }
        #expect(Self.plan(candidates) == .init(target: .existing(1), issues: [.init(kind: .mergeLimit, customers: [1, 2, 3, 4])]))
        #expect(Self.plan(Array(candidates.prefix(3))) == .init(target: .existing(1), mergeInto: [2, 3]))
    }

    @Test func unmergedPairsStayApart() {
        let plan = Self.plan([Self.c(1, "P-1", assigned: true, at: 1), Self.c(2, "P-2", assigned: true, at: 2)], blocked: [[1, 2]])
        #expect(plan == .init(target: .existing(1), issues: [.init(kind: .mergeBlocked, customers: [1, 2])]))
    }
}
