import Foundation
import PatronDomain
import Testing

struct CustomerFileTests {
    @Test func fullRecordHasEveryKeyMoneyAsDecimalsAndAveragesPerCurrency() throws {
        var record = CustomerRecord(id: 1, customerNo: "C-1", numberAssigned: false, firstContactAt: Timestamp(microseconds: 0), tags: ["VIP"])
        record.fields.apply([.lastName: "García", .city: "Donostia", .addressLine1: "Calle Mayor 1"], at: Timestamp(microseconds: 1))
        record.figures = CustomerFigures(bookings: 3, orders: 3, firstOrderAt: Timestamp(microseconds: 5))
        let file = CustomerFile(record: record, identifiers: [Identifier(kind: .email, key: "ana@example.com", display: "Ana@Example.com", matchable: true)],
                                spent: ["EUR": 100_050, "JPY": 1200], ordersByCurrency: ["EUR": 2, "JPY": 1])
        let json = file.json
        #expect(json["total_spent"] == .object(["EUR": .string("1000.50"), "JPY": .string("1200")]))
        #expect(json["average_order"] == .object(["EUR": .string("500.25"), "JPY": .string("1200")]))
        #expect(json["emails"] == .array([.string("Ana@Example.com")]))
        #expect(json["address"]?["line1"] == .string("Calle Mayor 1"))
        #expect(json["city"] == .string("Donostia"))
        #expect(json["first_name"] == .null, "absent fields are null, so every record has the same keys")
        #expect(json["group"] == .string("Visitor"))
        #expect(json["first_order_at"] == .string(Timestamp(microseconds: 5).description))
        for key in ["customer_no", "title", "company", "phone", "mobile", "fax", "ev_phone", "contact", "language", "birthday", "newsletter",
                    "tags", "orders", "no_shows", "consent", "bookings", "payments", "carts", "threads", "notes", "last_order_at", "first_contact_at"] {
            #expect(json[key] != nil, "\(key)")
        }
    }

    struct Phones: PhoneNormalizer {
        func e164(_ text: String, defaultRegion: String) -> String? { text.filter(\.isNumber).count >= 9 ? "+34" + text.filter(\.isNumber).suffix(9) : nil }
    }

    @Test func lookupTakesExactlyOneOfNumberEmailPhone() throws {
        func parse(_ values: [String: JSONValue]) throws -> CustomerLookup {
            try CustomerLookup.parse(CommandArguments(values), phones: Phones(), defaultCountry: "ES")
        }
        #expect(try parse(["customer_no": .string(" C-1 ")]) == .number("C-1"))
        #expect(try parse(["email": .string("Ana@Example.com")]) == .identifier(Identifier(kind: .email, key: "ana@example.com", display: "Ana@Example.com", matchable: true)))
        #expect(try parse(["phone": .string("600 111 222")]) == .identifier(Identifier(kind: .phone, key: "+34600111222", display: "600 111 222", matchable: true)))
        for (values, field) in [([:], "args.customer_no"), (["customer_no": JSONValue.string("C-1"), "phone": .string("600111222")], "args.phone"),
                                (["email": .string("nope")], "args.email"), (["phone": .string("12")], "args.phone"), (["email": .string("   ")], "args.customer_no")] {
            #expect(throws: CommandError.self) { try parse(values) }
            do { _ = try parse(values) } catch let error as CommandError { #expect(error.field == field, "\(values)") }
        }
    }
}

struct SearchTextTests {
    @Test(arguments: [
        ("García", "garcia"), ("  ANA   María ", "ana maria"), ("Øyvind", "øyvind"), ("李", "李"), ("ÇA\tVA", "ca va"),
        ("plain ascii", "plain ascii"), ("Tab\tand\nnewline", "tab and newline"), ("a\u{1F}B", "a\u{1F}b"), ("", ""),
    ])
    func foldingIgnoresCaseAccentsAndSpacing(_ text: String, _ folded: String) {
        #expect(SearchText.fold(text) == folded)
    }

    /// SQLite's `patron_fold` folds bytes (a Latin fast path, Foundation for the rest); it must
    /// give what the String fold gives, and what Foundation alone gives, wherever the text leaves
    /// the Latin table: other scripts, a combining accent, other spaces, a Latin-1 symbol, a
    /// truncated or stray byte sequence's replacement.
    @Test(arguments: [
        "García", "  ANA   María ", "ÆSØ Œuvre Straße", "Ǆemal Łukasz Đorđe", "Παπαδόπουλος", "Иванов", "李 小龍",
        "Jose\u{301} Ñu", "Ana\u{A0}María", "3 × 4", "É", "Ĳssel Ǯ", "a\u{1F}B", "\t", "", "ÿ", "ɏ", "ɐ",
    ])
    func foldingBytesGivesWhatFoldingTextGives(_ text: String) {
        var copy = text
        let folded = copy.withUTF8 { SearchText.fold(utf8: $0) }
        #expect(String(decoding: folded, as: UTF8.self) == SearchText.fold(text))
        let foundation = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(SearchText.fold(text) == foundation)
    }
}
