/// `dispatch.send` (EVENTS.md): a template to a search filter or a list of customer numbers,
/// as email or SMS, for a purpose; with `dry_run`, the counts and a page of who would receive it
/// and who would be skipped, and why. Safe to repeat: by `idempotency_key`, or, without one, by
/// skipping whoever was sent the same template on the same channel within the resend window
/// unless `resend` says to send again.
public struct DispatchRequest: Sendable, Equatable {
    /// Which recipients a dry run lists: `limit` of them from `offset` in the send's order.
    public struct Page: Sendable, Equatable {
        public var limit: Int
        public var offset: Int

        public init(limit: Int, offset: Int) {
            self.limit = limit
            self.offset = offset
        }

        public static let defaultLimit = 50

        /// `next_cursor` of a page that stopped at `offset`; opaque to clients.
        public static func cursor(at offset: Int) -> String { "r\(offset)" }
    }

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
    /// The send's identity chosen by the caller: a second call with it queues nothing.
    public var idempotencyKey: String?
    /// Send also to whoever received this template on this channel within the resend window.
    public var resend: Bool
    /// A dry run's listing.
    public var page: Page?

    public static let argumentNames: Set<String> = ["channel", "template", "purpose", "filter", "customer_nos", "dry_run", "idempotency_key",
                                                    "resend", "limit", "cursor"]
    public static let maximumIdempotencyKeyLength = 200
    /// A list longer than this is a filter's job (and a reply's size).
    public static let maximumCustomerNumbers = 10_000

    public init(channel: DispatchChannel, template: String, purpose: DispatchPurpose, recipients: Recipients, dryRun: Bool,
                idempotencyKey: String? = nil, resend: Bool = false, page: Page? = nil) {
        self.channel = channel
        self.template = template
        self.purpose = purpose
        self.recipients = recipients
        self.dryRun = dryRun
        self.idempotencyKey = idempotencyKey
        self.resend = resend
        self.page = page
    }

    /// What makes two requests the same send, for a repeated `idempotency_key`: everything but
    /// the key, the dry run and its page. Filter arguments in name order.
    public var sendDescription: String {
        let recipients: String = switch self.recipients {
        case .filter(let arguments, _):
            "filter " + arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.canonical($0.value))" }.joined(separator: "\u{1F}")
        case .customerNumbers(let numbers): "customer_nos " + numbers.joined(separator: "\u{1F}")
        }
        return [channel.rawValue, template, purpose.rawValue, resend ? "resend" : "", recipients].joined(separator: "\u{1E}")
    }

    private static func canonical(_ value: JSONValue) -> String {
        switch value {
        case .array(let items): "[" + items.map(canonical).joined(separator: ",") + "]"
        case .object(let object): "{" + object.keys.sorted().map { "\($0):\(canonical(object[$0] ?? .null))" }.joined(separator: ",") + "}"
        default: (try? String(decoding: JSONOutput.encode(value), as: UTF8.self)) ?? "\(value)"
        }
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
        let dryRun = try args.bool("dry_run") ?? false
        var page: Page?
        if dryRun {
            var offset = 0
            if let cursor = try args.string("cursor", maximumLength: 20) {
                guard cursor.first == "r", let position = Int(cursor.dropFirst()), position >= 0 else {
                    throw CommandError(.invalidArgument, field: "args.cursor", "not a cursor of this send; pass next_cursor as returned")
                }
                offset = position
            }
            page = Page(limit: Int(try args.integer("limit", in: 1...1000, default: Int64(Page.defaultLimit))), offset: offset)
        } else {
            for name in ["limit", "cursor"] where given(name) {
                throw CommandError(.invalidArgument, field: "args.\(name)", "only with dry_run: a send lists no recipients")
            }
        }
        return DispatchRequest(channel: channel, template: template, purpose: purpose, recipients: recipients, dryRun: dryRun,
                               idempotencyKey: try args.string("idempotency_key", maximumLength: maximumIdempotencyKeyLength),
                               resend: try args.bool("resend") ?? false, page: page)
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

    /// Counts as `json(dryRun:)` wrote them (a completed send kept for its `idempotency_key`).
    public init?(json: JSONValue) {
        guard let queued = json["queued"]?.intValue, let alreadyQueued = json["already_queued"]?.intValue,
              case .object(let skipped)? = json["skipped"] else { return nil }
        self.queued = Int(queued)
        self.alreadyQueued = Int(alreadyQueued)
        for reason in DispatchSkip.allCases {
            if let count = skipped[reason.rawValue]?.intValue, count > 0 { self.skipped[reason] = Int(count) }
        }
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
