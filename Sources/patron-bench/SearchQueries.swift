import GRDB
import PatronDomain
import PatronStorage

/// One benchmark query: the `customers.search` arguments, and the same search written by hand.
struct SearchQuery {
    let name: String
    let args: [String: JSONValue]
    let hand: HandSQL
}

/// A search as one would write it by hand on Patron's tables: the count, and the first page of
/// 50 by name, as `customers.search` returns them.
struct HandSQL {
    let condition: String
    let arguments: StatementArguments
    var order = "s.sort_name, s.customer_id"

    func run(_ db: Database) throws -> Int {
        let from = "FROM customers c JOIN customer_search s ON s.customer_id = c.id WHERE c.merged_into IS NULL AND c.erased_at IS NULL AND \(condition)"
        let total = try Int.fetchOne(db, sql: "SELECT count(*) \(from)", arguments: arguments) ?? 0
        _ = try Row.fetchAll(db, sql: "SELECT c.id, c.customer_no, c.first_name, c.last_name, c.email, c.phone, c.city \(from) ORDER BY \(order) LIMIT 51",
                             arguments: arguments)
        return total
    }
}

enum SearchQueries {
    static func query(_ name: String, _ args: [String: JSONValue], _ condition: String, _ arguments: StatementArguments = [],
                      order: String = "s.sort_name, s.customer_id") -> SearchQuery {
        SearchQuery(name: name, args: args, hand: HandSQL(condition: condition, arguments: arguments, order: order))
    }

    /// Customers the word index finds for the query bound first, and `also`.
    static func words(_ also: String? = nil) -> String {
        "c.id IN (SELECT rowid FROM customer_words WHERE customer_words MATCH ?)" + (also.map { " AND " + $0 } ?? "")
    }

    static func booking(_ condition: String) -> String {
        "c.id IN (SELECT customer_id FROM bookings WHERE \(condition))"
    }

    static let all: [SearchQuery] = [
        query("customer_no", ["customer_no": .string("C-424242")], "c.id = (SELECT customer_id FROM customer_numbers WHERE number = ?)", ["C-424242"]),
        query("first_name lucia", ["first_name": .string("lucia")], words(), ["first_name : \"lucia\""]),
        query("last_name garcia", ["last_name": .string("garcia")], words(), ["last_name : \"garcia\""]),
        query("name maria garcia", ["name": .string("maria garcia")], words(), ["{first_name last_name} : (\"maria\" AND \"garcia\")"]),
        query("name substring arcí", ["name": .string("arcí")], words(), ["{first_name last_name} : \"arci\""]),
        query("name short word ma", ["name": .string("ma")], words(), ["{first_name last_name} : \" ma\""]),
        query("name Greek παπα", ["name": .string("Παπα")], words(), ["{first_name last_name} : \"παπα\""]),
        query("company kutxa", ["company": .string("kutxa")], words(), ["company : \"kutxa\""]),
        query("email", ["email": .string("Guest4242@example.org")], "c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'email' AND key = ?)", ["guest4242@example.org"]),
        query("phone local form", ["phone": .string("600 004 242")], "c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", ["+34600004242"]),
        query("mobile international", ["mobile": .string("0034 600-777-777")], "c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", ["+34600777777"]),
        query("fax (nobody)", ["fax": .string("+34 943 000 001")], "c.id IN (SELECT customer_id FROM customer_identifiers WHERE kind = 'phone' AND key = ?)", ["+34943000001"]),
        query("contact luis", ["contact": .string("luis")], words(), ["contact : \"luis\""]),
        query("address calle", ["address": .string("calle")], words(), ["address : \"calle\""]),
        query("zip 20001", ["zip": .string("20001")], "s.zip = ?", ["20001"]),
        query("city donostia", ["city": .string("Donostia")], "s.city = ?", ["donostia"]),
        query("city valencia (accent)", ["city": .string("valencia")], "s.city = ?", ["valencia"]),
        query("country PT", ["country": .string("PT")], "c.country = ?", ["PT"]),
        query("language pl", ["language": .string("pl")], "c.language = ?", ["pl"]),
        query("newsletter yes", ["newsletter": .bool(true)], "c.newsletter = 1"),
        query("group Customer", ["group": .string("Customer")], "c.auto_group = 2"),
        query("tag VIP", ["tag": .string("VIP")], words(), ["tags : \"\u{1F}vip\u{1F}\""]),
        query("first contact in a month", ["first_contact_from": .string("2025-03-01"), "first_contact_to": .string("2025-03-31")],
              "c.first_contact_at BETWEEN ? AND ?", [1_740_787_200_000_000, 1_743_465_599_999_999]),
        query("departure in a week", ["departure_from": .string("2026-07-01"), "departure_to": .string("2026-07-07")],
              booking("departure BETWEEN ? AND ?"), ["2026-07-01", "2026-07-07"]),
        query("salesperson gorka", ["salesperson": .string("gorka")], booking("salesperson = ?"), ["Gorka"]),
        query("transport train + month", ["transport": .string("train"), "departure_from": .string("2026-08-01"), "departure_to": .string("2026-08-31")],
              booking("transport = ? AND departure BETWEEN ? AND ?"), ["train", "2026-08-01", "2026-08-31"]),
        query("hotel", ["hotel": .string("hotel madrid 2")], booking("hotel = ?"), ["Hotel Madrid 2"]),
        query("hotel + salesperson + week", ["hotel": .string("Hotel Sevilla 3"), "salesperson": .string("Elena"),
                                              "departure_from": .string("2026-05-01"), "departure_to": .string("2026-05-07")],
              booking("hotel = ? AND salesperson = ? AND departure BETWEEN ? AND ?"), ["Hotel Sevilla 3", "Elena", "2026-05-01", "2026-05-07"]),
        query("orders ≥ 6", ["orders_min": .integer(6)], "c.orders >= 6"),
        query("spent ≥ 10000 EUR", ["spent_min": .string("10000"), "currency": .string("EUR")],
              "c.id IN (SELECT customer_id FROM customer_spend WHERE currency = 'EUR' AND total_minor >= 1000000)"),
        query("last order in a month", ["last_order_from": .string("2026-10-01"), "last_order_to": .string("2026-10-31")],
              "c.last_order_at BETWEEN ? AND ?", [1_790_812_800_000_000, 1_793_491_199_999_999]),
        query("city + newsletter", ["city": .string("Donostia"), "newsletter": .bool(true)], "s.city = ? AND c.newsletter = 1", ["donostia"]),
        query("name + city", ["name": .string("etxeberria"), "city": .string("Bilbao")], words("s.city = ?"), ["{first_name last_name} : \"etxeberria\"", "bilbao"]),
        query("country + group + newsletter", ["country": .string("FR"), "group": .string("Guest"), "newsletter": .bool(true)],
              "c.country = ? AND c.auto_group = 1 AND c.newsletter = 1", ["FR"]),
        query("country ES by total spent", ["country": .string("ES"), "sort": .string("total_spent")], "c.country = ?", ["ES"],
              order: "coalesce((SELECT -total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = 'EUR'), 0), c.id"),
        query("VIP by last order", ["tag": .string("VIP"), "sort": .string("last_order")], words(), ["tags : \"\u{1F}vip\u{1F}\""],
              order: "coalesce(-c.last_order_at, 9223372036854775807), c.id"),
    ]

    /// Page 20 of Madrid by name: the cursor is taken by paging there once.
    static func deepPage(_ search: SQLiteCustomerSearch, phones: any PhoneNormalizer, rules: RecordRules) async throws -> SearchQuery {
        var args: [String: JSONValue] = ["city": .string("Madrid")]
        for _ in 1..<20 {
            let page = try await search.search(try CustomerSearch.parse(CommandArguments(args), phones: phones, rules: rules))
            guard let next = page.nextCursor else { break }
            args["cursor"] = .string(next)
        }
        return query("city Madrid, page 20", args, "s.city = ?", ["madrid"])
    }
}
