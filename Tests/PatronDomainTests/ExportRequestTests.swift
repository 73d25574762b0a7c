import PatronDomain
import Testing

/// `exports.run` arguments: defaults, and every bad argument named by its field.
struct ExportRequestTests {
    struct Phones: PhoneNormalizer {
        func e164(_ text: String, defaultRegion: String) -> String? { text.hasPrefix("+") ? "+" + text.filter(\.isNumber) : nil }
    }

    static func parse(_ args: [String: JSONValue], defaultLanguage: String = "es") throws -> ExportRequest {
        try ExportRequest.parse(CommandArguments(args), phones: Phones(), rules: RecordRules(), defaultLanguage: defaultLanguage)
    }

    @Test func defaultsAreTheSummaryFieldsEveryCustomerAndTheDefaultLanguage() throws {
        let request = try Self.parse(["format": .string("csv")])
        #expect(request.fields == ExportField.summary)
        #expect(!request.fields.contains(.notes), "internal notes only when asked for")
        #expect(request.search.conditions.isEmpty)
        #expect(request.language == .spanish)
        // Spanish Excel's separator and the mark it needs for UTF-8; English files neither.
        #expect(request.delimiter == .semicolon && request.byteOrderMark)
        let english = try Self.parse(["format": .string("csv")], defaultLanguage: "de")
        #expect(english.language == .english && english.delimiter == .comma && !english.byteOrderMark)
    }

    @Test func filtersFieldsAndOptionsAreRead() throws {
        let request = try Self.parse(["format": .string("csv"), "filter": .object(["city": .string("Donostia"), "newsletter": .bool(true)]),
                                      "fields": .array([.string("email"), .string("notes")]), "language": .string("EN"),
                                      "delimiter": .string(";"), "bom": .bool(true)])
        #expect(request.search.conditions == [.city("donostia"), .newsletter(true)])
        #expect(request.filterArguments == ["city": .string("Donostia"), "newsletter": .bool(true)])
        #expect(request.fields == [.email, .notes])
        #expect(request.language == .english && request.delimiter == .semicolon && request.byteOrderMark)
    }

    @Test(arguments: [
        (["format": JSONValue.string("docx")], "args.format"),
        ([:], "args.format"),
        (["format": .string("csv"), "filter": .string("city=x")], "args.filter"),
        (["format": .string("csv"), "filter": .object(["citty": .string("x")])], "args.filter.citty"),
        (["format": .string("csv"), "filter": .object(["limit": .integer(5)])], "args.filter.limit"),
        (["format": .string("csv"), "filter": .object(["country": .string("Atlantis")])], "args.filter.country"),
        (["format": .string("csv"), "filter": .object(["orders_min": .integer(5), "orders_max": .integer(1)])], "args.filter.orders_max"),
        (["format": .string("csv"), "fields": .array([])], "args.fields"),
        (["format": .string("csv"), "fields": .array([.string("password")])], "args.fields"),
        (["format": .string("csv"), "fields": .array([.string("email"), .string("email")])], "args.fields"),
        (["format": .string("csv"), "fields": .array([.integer(1)])], "args.fields[0]"),
        (["format": .string("csv"), "fields": .string("email")], "args.fields"),
        (["format": .string("csv"), "language": .string("fr")], "args.language"),
        (["format": .string("csv"), "delimiter": .string("|")], "args.delimiter"),
        (["format": .string("csv"), "bom": .string("yes")], "args.bom"),
        (["format": .string("csv"), "sort": .string("name")], "args.sort"),
        (["format": .string("xlsx"), "delimiter": .string(";")], "args.delimiter"),
        (["format": .string("pdf"), "bom": .bool(true)], "args.bom"),
    ])
    func badArgumentsNameTheirField(_ args: [String: JSONValue], _ field: String) {
        #expect(throws: CommandError.self) { try Self.parse(args) }
        do {
            _ = try Self.parse(args)
        } catch let error as CommandError {
            #expect(error.code == .invalidArgument && error.field == field, "\(args): \(error)")
        } catch {
            Issue.record("\(args): \(error)")
        }
    }
}
