import Foundation

/// What a column of an imported customer list holds, recognised from its header: the contract's
/// field names, their English and Spanish spellings, and QloApps's customer export
/// (`Titles ID (Mr = 1, Mrs = 2, else 0)`, `Email *`, `Groups (x,y,z...)`, …).
public enum ImportColumn: Sendable, Equatable {
    /// A field of the contract's customer object, by its key there (`address` parts by theirs).
    case customer(String)
    case addressPart(String)
    /// `yes`/`no`, `1`/`0`, `true`/`false`, `sí`/`no`.
    case newsletter, account
    /// Tags separated by `|` or `,`.
    case tags
    /// A group's name: Visitor, Guest, Customer or a custom group that exists.
    case group
    /// QloApps: the title by id (1 Mr., 2 Mrs., 0 none).
    case titleID
    /// QloApps: group names separated by `,`.
    case groups
    /// QloApps: 1 Visitor, 2 Guest, 3 Customer; other ids are QloApps's own custom groups,
    /// which the `Groups` column names.
    case defaultGroupID
    /// QloApps: consent to partners' offers, a consent of its own (never the newsletter's).
    case partnerOffers
    /// Read and dropped: QloApps's password hash, its internal id and its active flag.
    case ignored

    /// The column a header means, or nil for a header Patron does not know. QloApps's own
    /// columns are known only in a file that has QloApps's header (`qloapps`).
    public static func recognise(_ header: String, qloapps: Bool) -> ImportColumn? {
        let key = baseName(header)
        if let column = names[key] { return column }
        guard qloapps else { return nil }
        return qloappsNames[key]
    }

    /// Whether a header row is QloApps's customer export: it has its password and default
    /// group columns.
    public static func isQloApps(_ headers: [String]) -> Bool {
        let keys = Set(headers.map(baseName))
        return keys.contains("password") && keys.contains("default group id")
    }

    /// Folded, without QloApps's annotations (`Email *` → `email`, `Newsletter (0/1)` →
    /// `newsletter`), with `_` read as a space.
    static func baseName(_ header: String) -> String {
        var text = header
        if let open = text.firstIndex(of: "(") { text = String(text[..<open]) }
        text = text.replacingOccurrences(of: "*", with: " ").replacingOccurrences(of: "_", with: " ")
        return SearchText.fold(text).trimmingWhitespace()
    }

    private static let names: [String: ImportColumn] = {
        var table: [String: ImportColumn] = [:]
        let customer: [String: [String]] = [
            "customer_no": ["customer no", "customer number", "numero de cliente", "n cliente"],
            "title": ["title", "tratamiento", "titulo"],
            "first_name": ["first name", "firstname", "nombre"],
            "last_name": ["last name", "lastname", "surname", "apellidos", "apellido"],
            "company": ["company", "empresa"],
            "email": ["email", "e-mail", "e mail", "correo", "correo electronico"],
            "phone": ["phone", "telephone", "telefono"],
            "mobile": ["mobile", "movil", "telefono movil"],
            "fax": ["fax"],
            "ev_phone": ["ev phone", "event phone", "telefono evento"],
            "contact": ["contact", "contacto"],
            "language": ["language", "idioma"],
            "birthday": ["birthday", "date of birth", "fecha de nacimiento", "cumpleanos"],
        ]
        let address: [String: [String]] = [
            "line1": ["address", "address line1", "address line 1", "line1", "direccion", "domicilio"],
            "line2": ["address line2", "address line 2", "line2", "direccion 2"],
            "zip": ["zip", "postcode", "postal code", "codigo postal", "cp"],
            "city": ["city", "ciudad", "localidad", "poblacion"],
            "state": ["state", "province", "provincia"],
            "country": ["country", "pais"],
        ]
        for (key, spellings) in customer { for spelling in spellings { table[spelling] = .customer(key) } }
        for (key, spellings) in address { for spelling in spellings { table[spelling] = .addressPart(key) } }
        for spelling in ["newsletter", "boletin"] { table[spelling] = .newsletter }
        for spelling in ["account", "cuenta"] { table[spelling] = .account }
        for spelling in ["tags", "etiquetas"] { table[spelling] = .tags }
        for spelling in ["group", "grupo"] { table[spelling] = .group }
        return table
    }()

    private static let qloappsNames: [String: ImportColumn] = [
        "titles id": .titleID, "groups": .groups, "default group id": .defaultGroupID, "opt-in": .partnerOffers,
        "password": .ignored, "customer id": .ignored, "active": .ignored,
    ]
}
