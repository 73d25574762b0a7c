/// What a member of staff types in one search box, read as the one filter it most likely is
/// (`patronctl customers search TEXT`): an email address, a phone number, a customer number, or
/// else words of a name.
public enum TypedSearch {
    /// The `customers.search` filter and its value for `text`.
    public static func filter(for text: String) -> (name: String, value: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("@") { return ("email", trimmed) }
        let phoneMarks: Set<Character> = [" ", "-", ".", "(", ")", "/"]
        let compact = trimmed.filter { !phoneMarks.contains($0) }
        let digits = compact.drop { $0 == "+" }
        if !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), digits.count >= 6, !compact.dropFirst().contains("+") {
            return ("phone", trimmed)
        }
        if isCustomerNumber(trimmed) { return ("customer_no", trimmed) }
        return ("name", trimmed)
    }

    /// Letters, an optional dash and digits (`C-20931`, `P-100234`, `QL123`): the shape of
    /// customer numbers, which names never have.
    private static func isCustomerNumber(_ text: String) -> Bool {
        let letters = text.prefix { $0.isASCII && $0.isLetter }
        var rest = text.dropFirst(letters.count)
        if rest.first == "-" { rest = rest.dropFirst() }
        return (1...4).contains(letters.count) && !rest.isEmpty && rest.allSatisfy(\.isASCIIDigit)
    }
}
