/// `dispatch.send` (EVENTS.md): a template to a search filter or a list of customer numbers,
/// as email or SMS, for a purpose; with `dry_run`, counts only.
public struct DispatchRequest: Sendable, Equatable {
    public enum Recipients: Sendable, Equatable {
        /// The filter as given (a schedule keeps it) and as conditions.
        case filter(arguments: [String: JSONValue], search: CustomerSearch)
        case customerNumbers([String])
    }

    public var channel: DispatchChannel
    public var template: String
    public var purpose: DispatchPurpose
    public var recipients: Recipients
    public var dryRun: Bool

    public static let argumentNames: Set<String> = ["channel", "template", "purpose", "filter", "customer_nos", "dry_run"]
    /// A list longer than this is a filter's job (and a reply's size).
    public static let maximumCustomerNumbers = 10_000

    public init(channel: DispatchChannel, template: String, purpose: DispatchPurpose, recipients: Recipients, dryRun: Bool) {
        self.channel = channel
        self.template = template
        self.purpose = purpose
        self.recipients = recipients
        self.dryRun = dryRun
    }

    /// Reads the arguments. Exactly one of `filter` and `customer_nos`: a send to everyone must
    /// say so with an empty filter, never happen because a list was forgotten.
    public static func parse(_ args: CommandArguments, phones: any PhoneNormalizer, rules: RecordRules) throws -> DispatchRequest {
        try args.allowOnly(argumentNames)
        func oneOf<Value: RawRepresentable & CaseIterable>(_ name: String, _: Value.Type) throws -> Value where Value.RawValue == String {
            let text = try args.requiredString(name, maximumLength: 20)
            guard let value = Value(rawValue: text) else {
                throw CommandError(.invalidArgument, field: "args.\(name)", "one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        let channel = try oneOf("channel", DispatchChannel.self)
        let template = try args.requiredString("template", maximumLength: 100)
        let purpose = try oneOf("purpose", DispatchPurpose.self)
        let recipients: Recipients
        func given(_ name: String) -> Bool { args.values[name].map { $0 != .null } ?? false }
        switch (given("filter"), given("customer_nos")) {
        case (false, false):
            throw CommandError(.invalidArgument, field: "args.filter", "required: a filter ({} for every customer) or customer_nos")
        case (true, true):
            throw CommandError(.invalidArgument, field: "args.customer_nos", "give either filter or customer_nos, not both")
        case (true, false):
            let (arguments, search) = try CustomerSearch.parseFilter(args, phones: phones, rules: rules)
            recipients = .filter(arguments: arguments, search: search)
        case (false, true):
            guard let numbers = try args.strings("customer_nos"), !numbers.isEmpty else {
                throw CommandError(.invalidArgument, field: "args.customer_nos", "a non-empty list of customer numbers")
            }
            guard numbers.count <= maximumCustomerNumbers else {
                throw CommandError(.invalidArgument, field: "args.customer_nos", "at most \(maximumCustomerNumbers); use a filter")
            }
            var seen = Set<String>()
            recipients = .customerNumbers(numbers.filter { seen.insert($0).inserted })
        }
        return DispatchRequest(channel: channel, template: template, purpose: purpose, recipients: recipients,
                               dryRun: try args.bool("dry_run") ?? false)
    }
}

/// What a send did, or would do: jobs queued and recipients skipped by reason
/// (`{ "queued": n, "skipped": { "no_consent": n, … } }`; every reason is listed, zeros too, so
/// scripts need not guess which keys exist).
public struct DispatchCounts: Sendable, Equatable {
    public var queued = 0
    /// Recipients whose job was already queued by an earlier delivery of the same trigger.
    public var alreadyQueued = 0
    public var skipped: [DispatchSkip: Int] = [:]

    public init() {}

    public mutating func skip(_ reason: DispatchSkip) { skipped[reason, default: 0] += 1 }

    public mutating func add(_ other: DispatchCounts) {
        queued += other.queued
        alreadyQueued += other.alreadyQueued
        skipped.merge(other.skipped, uniquingKeysWith: +)
    }

    public func json(dryRun: Bool) -> JSONValue {
        .object(JSONObject([
            "dry_run": .bool(dryRun), "queued": .integer(Int64(queued)), "already_queued": .integer(Int64(alreadyQueued)),
            "skipped": .object(JSONObject(Dictionary(uniqueKeysWithValues: DispatchSkip.allCases.map {
                ($0.rawValue, JSONValue.integer(Int64(skipped[$0] ?? 0)))
            }))),
        ]))
    }
}
