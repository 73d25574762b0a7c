import Foundation
import GRDB
import PatronDomain
import PatronStorage
import SearchWorkload
import SeededRandom

/// A Customer Center database at scale for `patron-bench search` and `import`: customers with
/// names in several languages and scripts, phones written in local and international forms,
/// and bookings across hotels over two years, written straight into the tables (the folded search
/// rows come from the customers table's trigger), as years of ingest would have left them.
enum SearchSeeder {
    static let firstNames = ["José", "María", "Íñigo", "Ainhoa", "Begoña", "Nerea", "Jesús", "Ángel", "Lucía", "Álvaro", "Iñaki",
                             "Itziar", "Garazi", "François", "Hélène", "Amélie", "Jérôme", "Céline", "Jürgen", "Jörg", "Björn",
                             "João", "Conceição", "Łukasz", "Małgorzata", "Wojciech", "Γιώργος", "Ελένη", "Çağlar", "Şule",
                             "Søren", "Åsa", "John", "Emma", "Ana", "Luis", "Carmen", "Pablo", "Marta", "Olivia"]
    static let lastNames = ["García", "Pérez", "López", "Martínez", "Sánchez", "Gómez", "Fernández", "Rodríguez", "Etxeberria",
                            "Agirre", "Goikoetxea", "Müller", "Schröder", "Weiß", "Dubois", "Lefèvre", "Gonçalves", "Nowak",
                            "Wiśniewski", "Παπαδόπουλος", "Yılmaz", "Øster", "Smith", "O'Brien", "Núñez", "Muñoz", "Ibáñez",
                            "Castaño", "Zubizarreta", "Larrañaga", "Moreau", "Fischer", "Kowalczyk", "Costa", "Rossi", "Bianchi"]
    static let cities: [(city: String, zip: String, country: String, language: String)] = [
        ("Donostia", "20001", "ES", "es"), ("Bilbao", "48001", "ES", "es"), ("Madrid", "28001", "ES", "es"),
        ("Barcelona", "08001", "ES", "ca"), ("Sevilla", "41001", "ES", "es"), ("València", "46001", "ES", "es"),
        ("A Coruña", "15001", "ES", "gl"), ("Málaga", "29001", "ES", "es"), ("Paris", "75001", "FR", "fr"),
        ("Lyon", "69001", "FR", "fr"), ("Berlin", "10115", "DE", "de"), ("München", "80331", "DE", "de"),
        ("Lisboa", "1100-148", "PT", "pt"), ("Kraków", "30-001", "PL", "pl"), ("Αθήνα", "105 51", "GR", "el"),
        ("İstanbul", "34000", "TR", "tr"), ("London", "SW1A 1AA", "GB", "en"), ("Dublin", "D01", "IE", "en"),
    ]
    static let hotels = (1...20).map { "Hotel \(["Donostia", "Bilbao", "Madrid", "Sevilla", "Málaga"][$0 % 5]) \($0)" }
    static let salespeople = ["Ane", "Borja", "Cristina", "Daniel", "Elena", "Fermín", "Gorka", "Helena", "Imanol", "Julia", "Koldo", "Leire"]
    static let transports = ["flight", "bus", "train", "own"]
    static let companies = ["Acme SL", "Iberdrola", "Kutxabank", "Mondragón", "Eroski", "Société Générale", "Müller GmbH"]
    /// 2025-01-01T00:00:00Z: first contacts and bookings spread over the two years after it.
    static let start: Int64 = 1_735_689_600_000_000
    static let twoYears: Int64 = 730 * 86_400_000_000

    /// `YYYY-MM-DD` of each day from `start` on.
    static let days: [String] = (0..<800).map { day in
        ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: Double(start) / 1e6 + Double(day) * 86_400), timeZone: .gmt,
                                    formatOptions: .withFullDate)
    }

    /// The mobile of customer `index` in E.164; its written form varies by customer.
    static func mobile(_ index: Int) -> String { "+346\(String(format: "%08d", index))" }

    static func writtenMobile(_ index: Int) -> String {
        let digits = "6\(String(format: "%08d", index))"
        let (a, b, c) = (digits.prefix(3), digits.dropFirst(3).prefix(3), digits.suffix(3))
        switch index % 4 {
        case 0: return "\(a) \(b) \(c)"
        case 1: return "+34 \(digits)"
        case 2: return "0034 \(a)-\(b)-\(c)"
        default: return "(+34) \(a) \(b.prefix(2)) \(b.suffix(1))\(c.prefix(1)) \(c.suffix(2))"
        }
    }

    static func email(_ index: Int) -> String { "guest\(index)@example.org" }

    /// What generated searches draw from: the values this seeder writes (its customers have no
    /// contact and no street address, so those filters are not drawn).
    static func searchValues(customers: Int) -> SearchValues {
        var values = SearchValues()
        values.firstNames = firstNames
        values.lastNames = lastNames
        values.companies = companies
        values.cities = cities.map(\.city)
        values.zips = cities.map(\.zip)
        values.countries = cities.map(\.country) + ["Spain", "France", "Deutschland"]
        values.languages = cities.map(\.language)
        values.groups = AutomaticGroup.allCases.map(\.name)
        values.tags = ["VIP", "vip"]
        values.salespeople = salespeople
        values.transports = transports
        values.hotels = hotels
        var random = SplitMix64(seed: 99)
        let some = (0..<200).map { _ in Int(random.next() % UInt64(max(1, customers))) }
        values.emails = some.map(email)
        values.phones = some.map(writtenMobile)
        values.customerNumbers = some.map { "C-\($0)" }
        values.firstDay = days[0]
        values.lastDay = days[729]
        values.mostOrders = 6
        values.largestSpend = 10_000
        values.currencies = ["EUR"]
        return values
    }

    static func seed(_ database: PatronDatabase, customers: Int, bookingsPerCustomer: Int) async throws {
        let chunk = 20_000
        for first in stride(from: 0, to: customers, by: chunk) {
            try await database.write { db in
                var random = SplitMix64(seed: UInt64(first) &+ 7)
                let customer = try db.makeStatement(sql: """
                    INSERT INTO customers (id, customer_no, number_assigned, first_contact_at, auto_group, newsletter, newsletter_at,
                        first_name, first_name_at, last_name, last_name_at, company, company_at, email, email_at, mobile, mobile_at,
                        city, city_at, zip, zip_at, country, country_at, language, language_at, tags,
                        bookings_count, orders, completed_stays, no_shows, first_order_at, last_order_at)
                    VALUES (?1, ?2, 0, ?3, ?4, ?5, ?3, ?6, ?3, ?7, ?3, ?8, ?3, ?9, ?3, ?10, ?3, ?11, ?3, ?12, ?3, ?13, ?3, ?14, ?3, ?15,
                        ?16, ?17, ?18, ?19, ?20, ?21)
                    """)
                let number = try db.makeStatement(sql: "INSERT INTO customer_numbers (number, customer_id) VALUES (?, ?)")
                let identifier = try db.makeStatement(sql: """
                    INSERT INTO customer_identifiers (kind, key, customer_id, display, first_seen_at, matchable) VALUES (?, ?, ?, ?, ?, 1)
                    """)
                let booking = try db.makeStatement(sql: """
                    INSERT INTO bookings (ref, customer_id, status, status_at, first_seen_at, amount_minor, currency, amount_at,
                        hotel, hotel_at, departure, departure_at, arrival, arrival_at, transport, transport_at, salesperson, salesperson_at,
                        hotel_key, transport_key, salesperson_key, live_customer_id)
                    VALUES (?1, ?2, ?3, ?4, ?4, ?5, 'EUR', ?4, ?6, ?4, ?7, ?4, ?8, ?4, ?9, ?4, ?10, ?4,
                        patron_fold(?6), patron_fold(?9), patron_fold(?10), ?2)
                    """)
                let spend = try db.makeStatement(sql: "INSERT INTO customer_spend (customer_id, currency, total_minor, orders, live_customer_id) VALUES (?1, 'EUR', ?2, ?3, ?1)")
                for index in first..<min(first + chunk, customers) {
                    let id = Int64(index + 1)
                    let firstName = firstNames[Int(random.next() % UInt64(firstNames.count))]
                    let lastName = lastNames[Int(random.next() % UInt64(lastNames.count))]
                    let place = cities[Int(random.next() % UInt64(cities.count))]
                    let company: String? = random.next() % 5 == 0 ? companies[Int(random.next() % UInt64(companies.count))] : nil
                    let contactAt = start + Int64(random.next() % UInt64(twoYears))
                    let tags = random.next() % 10 == 0 ? "VIP" : ""
                    let bookings = Int(random.next() % UInt64(2 * bookingsPerCustomer + 1))
                    var (orders, completed, noShows, spent) = (0, 0, 0, Int64(0))
                    var (firstOrder, lastOrder) = (Int64?.none, Int64?.none)
                    var bookingRows: [StatementArguments] = []
                    for number in 0..<bookings {
                        let seen = start + Int64(random.next() % UInt64(twoYears))
                        let roll = random.next() % 20
                        let status = roll < 12 ? "confirmed" : roll < 17 ? "completed" : roll < 19 ? "cancelled" : "no_show"
                        let amount = Int64(10_000 + random.next() % 290_000)
                        let departure = days[Int((seen - start) / 86_400_000_000) + Int(random.next() % 60)]
                        bookingRows.append([
                            "BK-\(index)-\(number)", id, status, seen, amount, hotels[Int(random.next() % 20)], departure, departure,
                            transports[Int(random.next() % 4)], salespeople[Int(random.next() % UInt64(salespeople.count))],
                        ])
                        if status == "confirmed" || status == "completed" {
                            orders += 1
                            spent += amount
                            firstOrder = min(firstOrder ?? seen, seen)
                            lastOrder = max(lastOrder ?? seen, seen)
                        }
                        if status == "completed" { completed += 1 }
                        if status == "no_show" { noShows += 1 }
                    }
                    let group = bookings > 0 ? (random.next() % 3 == 0 ? 2 : 1) : 0
                    let newsletter: Int64? = [nil, 0, 1][Int(random.next() % 3)]
                    try customer.execute(arguments: [
                        id, "C-\(index)", contactAt, group, newsletter, firstName, lastName, company, email(index), writtenMobile(index),
                        place.city, place.zip, place.country, place.language, tags, bookings, orders, completed, noShows, firstOrder, lastOrder,
                    ])
                    for row in bookingRows { try booking.execute(arguments: row) }
                    try number.execute(arguments: ["C-\(index)", id])
                    try identifier.execute(arguments: ["email", email(index), id, email(index), contactAt])
                    try identifier.execute(arguments: ["phone", mobile(index), id, writtenMobile(index), contactAt])
                    if orders > 0 { try spend.execute(arguments: [id, spent, orders]) }
                }
            }
        }
        try await database.write { try $0.execute(sql: "ANALYZE") }
        try await database.checkpoint()
    }
}
