import Foundation
import Mustache
import PatronDomain
import Yams

/// The dispatch templates: one YAML file per template and language, `NAME.LANG.yaml`, with
/// `purpose`, `subject` (email), `text`, optional `html` (email) and `sms` (else `text`), and, for
/// a template about a booking, `booking_statuses`: the statuses whose bookings it tells the truth
/// about (a confirmation is not sent for a pending booking).
///
/// Everything is checked when loaded, at start and on SIGHUP, so a broken template stops the start
/// (or the reload) with the file's name instead of failing a send at 3 a.m.: Mustache syntax, names
/// that are not variables (Mustache would render a misspelling as nothing), a missing default
/// language, one purpose and one set of booking statuses per template across languages, and a
/// transactional template that speaks of `booking.…` without saying which bookings it is for.
public struct TemplateLibrary: Sendable {
    public struct Message: Sendable, Equatable {
        public var language: String
        public var subject: String?
        public var text: String
        public var html: String?
    }

    struct Template: Sendable {
        var purpose: DispatchPurpose
        /// Nil: the template is not about a booking.
        var bookingStatuses: Set<BookingStatus>?
        var subject: Part
        var text: Part
        var html: Part?
        var sms: Part
    }

    /// One part of a template: swift-mustache's, and the compiled form that renders it faster
    /// (``CompiledTemplate``) when that renders exactly the same.
    struct Part: Sendable {
        let mustache: MustacheTemplate
        let compiled: CompiledTemplate?

        init(_ mustache: MustacheTemplate, source: String, html: Bool) {
            self.mustache = mustache
            let compiled = CompiledTemplate(source: source, html: html)
            self.compiled = compiled.flatMap { compiled in
                Part.probes.allSatisfy { compiled.render($0) == mustache.render(Part.context($0)) } ? compiled : nil
            }
        }

        func render(_ variables: DispatchVariables) -> String {
            compiled?.render(variables) ?? mustache.render(Self.context(variables))
        }

        static func context(_ variables: DispatchVariables) -> [String: Any] {
            var context: [String: Any] = variables.values
            for (section, values) in variables.sections { context[section] = values }
            return context
        }

        /// Variables the compiled form must render as swift-mustache does: every name set (with
        /// characters HTML escapes), none, and every other one.
        static let probes: [DispatchVariables] = {
            func variables(_ keep: (Int) -> Bool) -> DispatchVariables {
                var variables = DispatchVariables()
                var index = 0
                for (section, fields) in DispatchVariables.known.sorted(by: { $0.key < $1.key }) {
                    var values: [String: String?] = [:]
                    for field in fields {
                        if keep(index) { values[field] = "<\(section).\(field) & 'q' \"Q\">" }
                        index += 1
                    }
                    variables.set(section, values)
                }
                for name in DispatchVariables.knownValues {
                    if keep(index) { variables.values[name] = "https://example.com/?a=1&b=<\(name)>" }
                    index += 1
                }
                return variables
            }
            return [variables { _ in true }, DispatchVariables(), variables { $0 % 2 == 0 }, variables { $0 % 2 == 1 }]
        }()
    }

    public struct LoadError: Error, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason)" }
    }

    private let templates: [String: [String: Template]]
    public let defaultLanguage: String

    public static let empty = TemplateLibrary(templates: [:], defaultLanguage: "es")

    private init(templates: [String: [String: Template]], defaultLanguage: String) {
        self.templates = templates
        self.defaultLanguage = defaultLanguage
    }

    public var names: [String] { templates.keys.sorted() }

    public func purpose(of name: String) -> DispatchPurpose? { templates[name]?.values.first?.purpose }

    /// The statuses of the bookings a template may be sent about; nil for a template not about a booking.
    public func bookingStatuses(of name: String) -> Set<BookingStatus>? { templates[name]?.values.first?.bookingStatuses }

    /// Loads and checks every template in `directory`.
    public static func load(directory: String, defaultLanguage: String) throws -> TemplateLibrary {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        } catch {
            throw LoadError(file: directory, reason: "cannot read the templates directory: \(error.localizedDescription)")
        }
        var templates: [String: [String: Template]] = [:]
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            let parts = file.dropLast(".yaml".count).split(separator: ".")
            guard parts.count == 2, parts[1].count == 2, parts[1].allSatisfy({ $0.isLowercase }),
                  parts[0].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
                throw LoadError(file: path, reason: "name it TEMPLATE.LANGUAGE.yaml (lowercase letters, digits, _; a two-letter language)")
            }
            templates[String(parts[0]), default: [:]][String(parts[1])] = try load(path)
        }
        for (name, languages) in templates {
            guard languages[defaultLanguage] != nil else {
                throw LoadError(file: (directory as NSString).appendingPathComponent("\(name).\(defaultLanguage).yaml"),
                                reason: "missing: every template needs the default language (\(defaultLanguage)) to fall back on")
            }
            let purposes = Set(languages.values.map(\.purpose))
            guard purposes.count == 1 else {
                throw LoadError(file: (directory as NSString).appendingPathComponent("\(name).*.yaml"),
                                reason: "the languages of one template must state the same purpose")
            }
            guard Set(languages.values.map(\.bookingStatuses)).count == 1 else {
                throw LoadError(file: (directory as NSString).appendingPathComponent("\(name).*.yaml"),
                                reason: "the languages of one template must state the same booking_statuses")
            }
        }
        return TemplateLibrary(templates: templates, defaultLanguage: defaultLanguage)
    }

    private static func load(_ path: String) throws -> Template {
        let node: Node?
        do {
            node = try Yams.compose(yaml: String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw LoadError(file: path, reason: "not valid YAML: \(error)")
        }
        guard case .mapping(let mapping)? = node else { throw LoadError(file: path, reason: "must be a mapping of keys") }
        var values: [String: String] = [:]
        var bookingStatuses: Set<BookingStatus>?
        let keys = ["purpose", "booking_statuses", "subject", "text", "html", "sms"]
        for (key, value) in mapping {
            let name = key.string ?? "\(key)"
            guard keys.contains(name) else {
                throw LoadError(file: path, reason: "unknown key '\(name)' (known: \(keys.joined(separator: ", ")))")
            }
            if name == "booking_statuses" {
                bookingStatuses = try statuses(value, file: path)
                continue
            }
            guard case .scalar(let scalar) = value else { throw LoadError(file: path, reason: "\(name): must be a string") }
            values[name] = scalar.string
        }
        guard let purposeText = values["purpose"], let purpose = DispatchPurpose(rawValue: purposeText) else {
            throw LoadError(file: path, reason: "purpose: required, transactional or marketing")
        }
        let speaksOfABooking = ["subject", "text", "html", "sms"].contains { values[$0]?.contains("booking.") ?? false }
        switch (purpose, bookingStatuses) {
        case (.marketing, .some):
            throw LoadError(file: path, reason: "booking_statuses: a marketing template is about no booking")
        case (.transactional, nil) where speaksOfABooking:
            throw LoadError(file: path, reason: "booking_statuses: required for a template about a booking (the statuses it is true for, e.g. [confirmed])")
        default:
            break
        }
        func compile(_ key: String, html: Bool = false) throws -> Part? {
            guard let source = values[key] else { return nil }
            try checkNames(source, file: path, key: key)
            do {
                // Only HTML is escaped; subject, text and SMS are plain text.
                return Part(try MustacheTemplate(string: (html ? "" : "{{% CONTENT_TYPE: TEXT}}") + source), source: source, html: html)
            } catch let error as MustacheTemplate.ParserError {
                throw LoadError(file: path, reason: "\(key), line \(error.context.lineNumber): \(error.error)")
            }
        }
        guard let subject = try compile("subject") else { throw LoadError(file: path, reason: "subject: required") }
        guard let text = try compile("text") else { throw LoadError(file: path, reason: "text: required") }
        return Template(purpose: purpose, bookingStatuses: bookingStatuses, subject: subject, text: text,
                        html: try compile("html", html: true), sms: try compile("sms") ?? text)
    }

    private static func statuses(_ node: Node, file: String) throws -> Set<BookingStatus> {
        let known = BookingStatus.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .sequence(let items) = node, !items.isEmpty else {
            throw LoadError(file: file, reason: "booking_statuses: a non-empty list of booking statuses (\(known))")
        }
        return try Set(items.map { item in
            guard let text = item.string, let status = BookingStatus(rawValue: text) else {
                throw LoadError(file: file, reason: "booking_statuses: '\(item.string ?? "\(item)")' is not a booking status (\(known))")
            }
            return status
        })
    }

    /// Refuses a `{{name}}` that is no variable (EVENTS.md's template variables: customer,
    /// booking, cart, thread, hotel, unsubscribe_url).
    private static func checkNames(_ source: String, file: String, key: String) throws {
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { return }
            var name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if let sigil = name.first, "#^/&{".contains(sigil) { name = String(name.dropFirst()).trimmingCharacters(in: .whitespaces) }
            if name.hasSuffix("}") { name = String(name.dropLast()) }
            if name.hasPrefix("!") || name.hasPrefix("%") || name.hasPrefix(">") || name.hasPrefix("=") { continue }
            guard DispatchVariables.isKnown(name) else {
                throw LoadError(file: file, reason: "\(key): '\(name)' is not a template variable")
            }
        }
    }

    /// Renders a template in the customer's language (`en-GB` takes `en`), else the default language.
    public func render(_ name: String, language: String?, channel: DispatchChannel, variables: DispatchVariables) -> Message? {
        guard let languages = templates[name] else { return nil }
        let primary = language.map { String($0.prefix { $0 != "-" && $0 != "_" }).lowercased() }
        let chosen = primary.flatMap { languages[$0] != nil ? $0 : nil } ?? defaultLanguage
        guard let template = languages[chosen] else { return nil }
        switch channel {
        case .email:
            return Message(language: chosen, subject: template.subject.render(variables).trimmingCharacters(in: .whitespacesAndNewlines),
                           text: template.text.render(variables), html: template.html?.render(variables))
        case .sms:
            return Message(language: chosen, subject: nil, text: template.sms.render(variables).trimmingCharacters(in: .whitespacesAndNewlines),
                           html: nil)
        }
    }
}
