/// A command request as the contract defines it: `{ "command": "…", "args": { … } }`.
public struct CommandRequest: Sendable, Equatable {
    public let command: String
    public let args: [String: JSONValue]

    public init(command: String, args: [String: JSONValue] = [:]) {
        self.command = command
        self.args = args
    }

    /// Parses a request body, or names what is wrong with it.
    public static func parse(_ body: [UInt8]) -> Result<CommandRequest, CommandError> {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            return .failure(CommandError(.invalidArgument, field: "body", "not valid JSON: \(error)"))
        }
        guard case .object(let object) = value else {
            return .failure(CommandError(.invalidArgument, field: "body", "must be a JSON object"))
        }
        if let unknown = object.keys.first(where: { $0 != "command" && $0 != "args" }) {
            return .failure(CommandError(.invalidArgument, field: unknown, "unknown field"))
        }
        guard let command = object["command"]?.stringValue, !command.isEmpty else {
            return .failure(CommandError(.invalidArgument, field: "command", "required (a string)"))
        }
        switch object["args"] {
        case nil, .null?:
            return .success(CommandRequest(command: command))
        case .object(let args)?:
            return .success(CommandRequest(command: command, args: args.dictionary))
        default:
            return .failure(CommandError(.invalidArgument, field: "args", "must be an object"))
        }
    }
}

/// An error reply: `{ "ok": false, "error": { "code", "field", "message" } }`.
public struct CommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case forbidden
        case conflict
        case `internal`
    }

    public let code: Code
    public let field: String?
    public let message: String

    public init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        field.map { "\(code.rawValue): \($0): \(message)" } ?? "\(code.rawValue): \(message)"
    }
}

/// Reads and checks command arguments, naming each bad one as `args.<name>`.
public struct CommandArguments: Sendable {
    public let values: [String: JSONValue]

    public init(_ values: [String: JSONValue]) { self.values = values }

    /// Refuses arguments the command does not know, so a typo is an error rather than ignored.
    public func allowOnly(_ names: Set<String>) throws {
        if let unknown = values.keys.sorted().first(where: { !names.contains($0) }) {
            throw CommandError(.invalidArgument, field: "args.\(unknown)", "unknown argument")
        }
    }

    public func integer(_ name: String, in range: ClosedRange<Int64>, default fallback: Int64) throws -> Int64 {
        guard let value = values[name], value != .null else { return fallback }
        guard let integer = value.intValue else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "must be an integer")
        }
        guard range.contains(integer) else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "must be \(range.lowerBound)–\(range.upperBound)")
        }
        return integer
    }

    public func bool(_ name: String) throws -> Bool? {
        guard let value = values[name], value != .null else { return nil }
        guard let flag = value.boolValue else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "must be true or false")
        }
        return flag
    }

    /// A text argument, trimmed; absent, null or blank is nil.
    public func string(_ name: String, maximumLength: Int = 500) throws -> String? {
        guard let value = values[name], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "must be a string")
        }
        let trimmed = text.trimmingWhitespace()
        guard trimmed.count <= maximumLength else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "longer than \(maximumLength) characters")
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A decimal argument as its literal text, given as a JSON number or a string (exact: never
    /// through binary floating point); nil when absent.
    public func decimalText(_ name: String, expecting what: String) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .integer(let value)?: return String(value)
        case .number(let literal)?: return literal
        case .string(let literal)?: return literal
        default: throw CommandError(.invalidArgument, field: "args.\(name)", what)
        }
    }

    /// A calendar date argument (`YYYY-MM-DD`).
    public func date(_ name: String) throws -> String? {
        guard let text = try string(name, maximumLength: 10) else { return nil }
        guard CalendarDate.isValid(text) else { throw CommandError(.invalidArgument, field: "args.\(name)", "a date as YYYY-MM-DD") }
        return text
    }

    /// An email argument as its matching key (lowercased), as events' emails are matched.
    public func emailKey(_ name: String) throws -> String? {
        guard let text = try string(name) else { return nil }
        guard let key = EmailNormalization.key(text) else { throw CommandError(.invalidArgument, field: "args.\(name)", "not an email address") }
        return key
    }

    /// A phone argument in E.164, normalized as events' phones are.
    public func phoneE164(_ name: String, phones: any PhoneNormalizer, defaultCountry: String) throws -> String? {
        guard let text = try string(name, maximumLength: 100) else { return nil }
        guard let e164 = phones.e164(text, defaultRegion: defaultCountry) else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "not a valid phone number (default country \(defaultCountry))")
        }
        return e164
    }

    /// A text argument that must be given.
    public func requiredString(_ name: String, maximumLength: Int = 500) throws -> String {
        guard let text = try string(name, maximumLength: maximumLength) else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "required")
        }
        return text
    }

    public func strings(_ name: String) throws -> [String]? {
        guard let value = values[name], value != .null else { return nil }
        guard let array = value.arrayValue else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "must be a list of strings")
        }
        return try array.enumerated().map { index, item in
            guard let text = item.stringValue else {
                throw CommandError(.invalidArgument, field: "args.\(name)[\(index)]", "must be a string")
            }
            return text
        }
    }
}

/// One answered command, as the audit log keeps it: who, which command, when, and the outcome
/// (`ok` or the error code). Never the arguments, which may hold personal data.
public struct CommandAuditEntry: Sendable, Equatable {
    public var at: Timestamp
    public var user: String?
    public var command: String?
    public var outcome: String

    public init(at: Timestamp, user: String?, command: String?, outcome: String) {
        self.at = at
        self.user = user
        self.command = command
        self.outcome = outcome
    }
}

/// Where answered commands are recorded for accountability.
public protocol CommandAudit: Sendable {
    func record(_ entry: CommandAuditEntry) async throws
}
