import PatronDomain

/// An export's fields as SQL over `customers c` (and `customer_groups g`), and their cells.
enum ExportColumns {
    /// The SQL for a field; `total_spent` binds the currency (first, as it comes first in the SELECT).
    static func sql(_ field: ExportField, _ dialect: SQLDialect) -> String {
        switch field {
        case .address: "trim(coalesce(c.address_line1, '') || ' ' || coalesce(c.address_line2, ''))"
        case .group:
            "coalesce(g.name, CASE c.auto_group \(AutomaticGroup.allCases.map { "WHEN \($0.rawValue) THEN '\($0.name)'" }.joined(separator: " ")) END)"
        case .totalSpent: "(SELECT total_minor FROM customer_spend p WHERE p.customer_id = c.id AND p.currency = ?)"
        case .notes: dialect.joinedNotes(of: "c.id")
        case .customerNo, .title, .firstName, .lastName, .company, .email, .phone, .mobile, .fax, .zip, .city, .country, .language,
             .contact, .newsletter, .tags, .orders, .firstContactAt, .lastOrderAt:
            "c.\(field.rawValue)"
        }
    }

    /// Whether the SELECT binds the currency first.
    static func bindsCurrency(_ fields: [ExportField]) -> Bool { fields.contains(.totalSpent) }

    static func cell(_ field: ExportField, _ value: SQLValue) -> ExportValue {
        switch (field, value) {
        // No spend in the currency is an amount too: a sum over the column should count it.
        case (.totalSpent, .integer(let minor)): return .money(minor)
        case (.totalSpent, _): return .money(0)
        case (.tags, .text(let tags)):
            return tags.isEmpty ? .empty : .text(tags.split(separator: "\u{1F}").joined(separator: ", "))
        default:
            return ExportValue(value, as: field.kind)
        }
    }
}
