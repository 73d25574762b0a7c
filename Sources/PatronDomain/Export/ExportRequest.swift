/// A column an export can carry (EVENTS.md, `exports.run` `fields`), with its header in the
/// export's language.
public enum ExportField: String, Sendable, CaseIterable {
    case customerNo = "customer_no", title, firstName = "first_name", lastName = "last_name", company, email, phone, mobile, fax
    case address, zip, city, country, language, contact, newsletter, group, tags, orders, totalSpent = "total_spent"
    case firstContactAt = "first_contact_at", lastOrderAt = "last_order_at", notes

    /// The customer summary's fields: what an export carries when it names none.
    public static let summary: [ExportField] = [
        .customerNo, .title, .firstName, .lastName, .company, .email, .phone, .city, .country, .language, .newsletter, .group,
        .tags, .orders, .totalSpent, .lastOrderAt,
    ]

    /// How its stored value becomes a cell.
    public var kind: ExportColumn.Kind {
        switch self {
        case .orders: .integer
        case .totalSpent: .money
        case .firstContactAt, .lastOrderAt: .dateTime
        case .newsletter: .yesNo
        case .title, .group: .vocabulary
        default: .text
        }
    }

    /// The column this field makes in an export.
    public func column(_ language: ExportLanguage, currency: String) -> ExportColumn {
        let width: ExportColumn.Width = switch self {
        case .email, .address, .notes: .wide
        case .firstContactAt, .lastOrderAt: .time
        case .company, .contact, .tags, .firstName, .lastName, .city, .phone, .mobile, .fax, .totalSpent: .normal
        case .customerNo, .title, .zip, .country, .language, .newsletter, .group, .orders: .narrow
        }
        return ExportColumn(name: rawValue, header: header(language, currency: currency), width: width, kind: kind)
    }

    public func header(_ language: ExportLanguage, currency: String) -> String {
        let (english, spanish): (String, String) = switch self {
        case .customerNo: ("Customer no.", "N.º de cliente")
        case .title: ("Title", "Tratamiento")
        case .firstName: ("First name", "Nombre")
        case .lastName: ("Last name", "Apellidos")
        case .company: ("Company", "Empresa")
        case .email: ("Email", "Correo electrónico")
        case .phone: ("Phone", "Teléfono")
        case .mobile: ("Mobile", "Móvil")
        case .fax: ("Fax", "Fax")
        case .address: ("Address", "Dirección")
        case .zip: ("Postcode", "Código postal")
        case .city: ("City", "Ciudad")
        case .country: ("Country", "País")
        case .language: ("Language", "Idioma")
        case .contact: ("Contact", "Contacto")
        case .newsletter: ("Newsletter", "Boletín")
        case .group: ("Group", "Grupo")
        case .tags: ("Tags", "Etiquetas")
        case .orders: ("Orders", "Pedidos")
        case .totalSpent: ("Total spent (\(currency))", "Gasto total (\(currency))")
        case .firstContactAt: ("First contact", "Primer contacto")
        case .lastOrderAt: ("Last order", "Último pedido")
        case .notes: ("Internal notes", "Notas internas")
        }
        return language == .spanish ? spanish : english
    }
}

/// A column of an exported table (a customer list's field, or a report's column).
public struct ExportColumn: Sendable, Equatable {
    /// How much room the column needs on paper and on screen.
    public enum Width: Sendable {
        case narrow, normal, wide, time
    }

    /// How a stored value becomes the column's cell (``ExportValue``), so a spreadsheet holds it
    /// as what it is.
    public enum Kind: Sendable {
        /// Text, also when it looks like a number: a phone's `+` or a customer number's `0` stays.
        case text
        case integer
        /// A decimal amount in minor units of the export's currency.
        case money
        /// Microseconds since 1970.
        case dateTime
        case yesNo
        /// Patron's own words (titles, automatic groups), in the export's language.
        case vocabulary
    }

    /// The machine name (`last_name`), as the export log lists it.
    public let name: String
    public let header: String
    public let width: Width
    public let kind: Kind

    public init(name: String, header: String, width: Width, kind: Kind = .text) {
        self.name = name
        self.header = header
        self.width = width
        self.kind = kind
    }
}

public enum ExportLanguage: String, Sendable, CaseIterable {
    case english = "en", spanish = "es"

    /// The `language` argument; without one, the installation's default language if it is one
    /// of these, else English.
    static func parse(_ args: CommandArguments, defaultLanguage: String) throws -> ExportLanguage {
        guard let text = try args.string("language", maximumLength: 10) else {
            return ExportLanguage(rawValue: String(defaultLanguage.prefix(2)).lowercased()) ?? .english
        }
        guard let chosen = ExportLanguage(rawValue: text.lowercased()) else { throw CommandError(.invalidArgument, field: "args.language", "en or es") }
        return chosen
    }

    /// "yes"/"no" cells.
    public func yesNo(_ value: Bool) -> String {
        switch self {
        case .english: value ? "yes" : "no"
        case .spanish: value ? "sí" : "no"
        }
    }

    /// One of Patron's own words as this language writes it: the default titles and the automatic
    /// groups (Visitor, Guest, Customer); anything else (a title the hotel configured, a custom
    /// group's name) as written.
    public func word(_ word: String) -> String {
        guard self == .spanish else { return word }
        return Self.spanishWords[word] ?? word
    }

    private static let spanishWords = [
        "Mr.": "Sr.", "Mrs.": "Sra.", "Ms.": "Sra.", "Dr.": "Dr.",
        AutomaticGroup.visitor.name: "Visitante", AutomaticGroup.guest.name: "Invitado", AutomaticGroup.customer.name: "Cliente",
    ]
}

/// An `exports.run` request, checked (EVENTS.md, "Commands"; the CSV options are Patron's, in
/// `docs/asyncapi.yaml`).
public struct ExportRequest: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case csv, xlsx, pdf

        /// The required `format` argument.
        static func parse(_ args: CommandArguments) throws -> Format {
            let text = try args.requiredString("format", maximumLength: 10)
            guard let format = Format(rawValue: text) else {
                throw CommandError(.invalidArgument, field: "args.format", "one of \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return format
        }
    }

    public var format: Format
    /// The search filters, as given (the export log keeps them) and as conditions.
    public var filterArguments: [String: JSONValue]
    public var search: CustomerSearch
    public var fields: [ExportField]
    public var language: ExportLanguage
    public var delimiter: CSVRowEncoder.Delimiter
    public var byteOrderMark: Bool

    public static let argumentNames: Set<String> = ["format", "filter", "fields", "language", "delimiter", "bom"]

    /// Reads the arguments; a bad filter names its field under `args.filter.`.
    public static func parse(_ args: CommandArguments, phones: any PhoneNormalizer, rules: RecordRules,
                             defaultLanguage: String) throws -> ExportRequest {
        try args.allowOnly(argumentNames)
        let format = try Format.parse(args)
        let (filterArguments, search) = try CustomerSearch.parseFilter(args, phones: phones, rules: rules)
        var fields = ExportField.summary
        if let names = try args.strings("fields") {
            guard !names.isEmpty else { throw CommandError(.invalidArgument, field: "args.fields", "name at least one field") }
            fields = []
            for name in names {
                guard let field = ExportField(rawValue: name) else {
                    throw CommandError(.invalidArgument, field: "args.fields", "unknown field '\(name)'; one of \(ExportField.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard !fields.contains(field) else { throw CommandError(.invalidArgument, field: "args.fields", "'\(name)' is named twice") }
                fields.append(field)
            }
        }
        let language = try ExportLanguage.parse(args, defaultLanguage: defaultLanguage)
        // Spanish Excel reads `;` as the separator and needs the byte order mark to read UTF-8.
        let delimiter: CSVRowEncoder.Delimiter
        switch try args.string("delimiter", maximumLength: 1) ?? (language == .spanish ? ";" : ",") {
        case ",": delimiter = .comma
        case ";": delimiter = .semicolon
        default: throw CommandError(.invalidArgument, field: "args.delimiter", "\",\" or \";\"")
        }
        let byteOrderMark = try args.bool("bom") ?? (language == .spanish)
        if format != .csv, let option = ["delimiter", "bom"].first(where: { args.values[$0] != nil }) {
            throw CommandError(.invalidArgument, field: "args.\(option)", "for csv exports only")
        }
        return ExportRequest(format: format, filterArguments: filterArguments, search: search, fields: fields, language: language,
                             delimiter: delimiter, byteOrderMark: byteOrderMark)
    }
}

/// The customers a filter selects, for exports and sends, streamed from one snapshot.
public protocol CustomerRowSource: Sendable {
    /// Calls `row` with each live customer's cells, in `request.fields` order and name order;
    /// returns the row count. `row` runs on a thread where blocking file writes are allowed.
    func rows(_ request: ExportRequest, currency: String, row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int
    /// The live customers a search filter selects (its sort and limit aside), in id order: the
    /// recipients of a send.
    func customerIDs(matching search: CustomerSearch) async throws -> [CustomerID]
}
