import PatronDomain
import Testing

/// One search box, read as staff mean it.
struct TypedSearchTests {
    @Test(arguments: [
        ("ana.garcia@example.com", "email"), (" Ana@Example.com ", "email"),
        ("600 111 222", "phone"), ("+34 600-111-222", "phone"), ("(943) 000 111", "phone"), ("0034600111222", "phone"),
        ("C-20931", "customer_no"), ("P-100234", "customer_no"), ("QL123", "customer_no"),
        ("García", "name"), ("ana garcía", "name"), ("O'Brien", "name"), ("12", "name"), ("Hotel 2", "name"), ("+34 600 +1", "name"),
    ])
    func eachKindOfTextIsTheFilterItLooksLike(_ text: String, _ filter: String) {
        #expect(TypedSearch.filter(for: text).name == filter, "\(text)")
    }

    @Test func theValueIsTheTextTrimmed() {
        #expect(TypedSearch.filter(for: "  Etxeberria ").value == "Etxeberria")
    }
}
