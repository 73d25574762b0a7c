import Foundation
import Logging
import PatronDomain
import PatronStorage

/// `dispatch.send` and the schedules' `dispatch` action: a template to many customers.
///
/// Recipients go in chunks, each one transaction; a job's id is derived from the send's trigger
/// and the customer, so a send interrupted by a crash and delivered again queues the rest and
/// never a second job for anyone. A dry run runs the same code in transactions that roll back.
///
/// A send is safe to repeat (EVENTS.md, `dispatch.send`): under an `idempotency_key` the trigger
/// is the key, so a second call makes the same job ids and is answered with the first call's
/// counts, kept once it completed; without a key, a recipient sent the same template on the same
/// channel within the resend window by another trigger is skipped as `recently_sent`, unless
/// the request says `resend`.
struct DispatchSender: Sendable {
    let store: any RecordStore
    let export: any CustomerRowSource
    let composer: DispatchComposer
    let logger: Logger
    /// Hands on a progress report (`dispatch.progress` on `patron.notifications`) after each
    /// chunk of a send longer than one chunk.
    let progress: @Sendable (JSONValue) async -> Void
    static let chunkSize = 500
    private static let requestDigest = HMACIdentityHasher(key: "patron dispatch send v1")

    /// What a send did or would do: the counts, and for a dry run a page of its recipients.
    struct Result: Sendable, Equatable {
        /// One recipient of a dry run: who, and what the send would do for them.
        struct Listed: Sendable, Equatable {
            var customerNo: String
            var skipped: DispatchSkip?
        }

        var counts: DispatchCounts
        var listed: [Listed]?
        var nextOffset: Int?

        func json(dryRun: Bool) -> JSONValue {
            guard let listed, case .object(let counted) = counts.json(dryRun: dryRun) else { return counts.json(dryRun: dryRun) }
            var members = Dictionary(uniqueKeysWithValues: counted.members.map { ($0.key, $0.value) })
            members["recipients"] = .array(listed.map { entry in
                .object(["customer_no": .string(entry.customerNo), "outcome": .string(entry.skipped == nil ? "queued" : "skipped"),
                         "reason": entry.skipped.map { .string($0.rawValue) } ?? .null])
            })
            members["next_cursor"] = nextOffset.map { .string(DispatchRequest.Page.cursor(at: $0)) } ?? .null
            return .object(JSONObject(members))
        }
    }

    /// Checks what only the loaded templates know: the template exists and states the request's purpose.
    func check(_ request: DispatchRequest) throws {
        let library = composer.templates.current
        guard let purpose = library.purpose(of: request.template) else {
            let known = library.names.joined(separator: ", ")
            throw CommandError(.invalidArgument, field: "args.template", "no template named '\(request.template)' (known: \(known.isEmpty ? "none configured" : known))")
        }
        guard purpose == request.purpose else {
            throw CommandError(.invalidArgument, field: "args.purpose",
                               "template '\(request.template)' is \(purpose.rawValue); a \(purpose.rawValue) template is sent as \(purpose.rawValue)")
        }
    }

    /// - Parameters:
    ///   - trigger: what the job ids derive from when the request has no idempotency key.
    ///   - requestedBy: who asked, kept with a keyed send's answer.
    ///   - requestID: the command request's id, which progress reports carry so the client that
    ///     asked can pick out its own.
    func send(_ request: DispatchRequest, trigger: String, requestedBy: String, requestID: String? = nil) async throws -> Result {
        try check(request)
        guard let key = request.idempotencyKey, !request.dryRun else {
            return try await compose(request, trigger: trigger, requestID: requestID)
        }
        let digest = Self.requestDigest.hash(request.sendDescription)
        if let done = try await store.change({ _, records in try records.completedSend(idempotencyKey: key) }) {
            guard done.requestDigest == digest else {
                throw CommandError(.conflict, field: "args.idempotency_key",
                                   "already used by another send (other channel, template, purpose, recipients or resend); choose a new key")
            }
            guard let counts = DispatchCounts(json: done.result) else {
                throw CommandError(.internal, "the answer kept for this idempotency_key cannot be read")
            }
            logger.info("dispatch send repeated", metadata: ["template": "\(request.template)", "first_by": "\(done.requestedBy)"])
            return Result(counts: counts)
        }
        let result = try await compose(request, trigger: "send:key:\(key)", requestID: requestID)
        let kept = CompletedSend(idempotencyKey: key, requestDigest: digest, requestedBy: requestedBy, result: result.counts.json(dryRun: false),
                                 completedAt: .now)
        try await store.change { _, records in try records.recordCompletedSend(kept) }
        return result
    }

    private func compose(_ request: DispatchRequest, trigger: String, requestID: String?) async throws -> Result {
        let recipients: [Recipient] = switch request.recipients {
        case .filter(_, let search): try await export.customerIDs(matching: search).map(Recipient.id)
        case .customerNumbers(let numbers): numbers.map(Recipient.number)
        }
        let total = recipients.count
        var result = Result(counts: DispatchCounts(), listed: request.page.map { _ in [] })
        for start in stride(from: 0, to: total, by: Self.chunkSize) {
            let chunk = try await compose(request, recipients[start..<min(start + Self.chunkSize, total)], trigger: trigger)
            result.counts.add(chunk.counts)
            result.listed?.append(contentsOf: chunk.listed ?? [])
            await report(result.counts, of: total, request, requestID: requestID)
        }
        if let page = request.page, page.offset + page.limit < total { result.nextOffset = page.offset + page.limit }
        logger.info("dispatch send finished", metadata: [
            "trigger": "\(trigger)", "template": "\(request.template)", "dry_run": "\(request.dryRun)", "recipients": "\(total)",
            "queued": "\(result.counts.queued)", "already_queued": "\(result.counts.alreadyQueued)",
            "skipped": "\(result.counts.skipped.values.reduce(0, +))",
        ])
        return result
    }

    private enum Recipient: Sendable {
        case id(CustomerID)
        case number(String)
    }

    /// One chunk (positions `recipients.indices` of the whole send) in one transaction.
    private func compose(_ request: DispatchRequest, _ recipients: ArraySlice<Recipient>, trigger: String) async throws -> Result {
        let composer = self.composer
        let window = composer.settings.resendWindowSeconds
        let checksRecentSends = request.idempotencyKey == nil && !request.resend && window > 0
        let listedPositions = request.page.map { $0.offset..<($0.offset + $0.limit) }
        return try await store.change(rollingBack: request.dryRun) { _, records in
            var result = Result(counts: DispatchCounts(), listed: listedPositions.map { _ in [] })
            let now = Timestamp.now
            for (position, recipient) in zip(recipients.indices, recipients) {
                let id: CustomerID
                var skipped: DispatchSkip?
                switch recipient {
                case .id(let known): id = known
                case .number(let number):
                    guard let found = try records.customer(numbered: number) else {
                        result.counts.skip(.notFound)
                        if listedPositions?.contains(position) == true { result.listed?.append(.init(customerNo: number, skipped: .notFound)) }
                        continue
                    }
                    id = found
                }
                if checksRecentSends,
                   try records.wasSent(request.template, on: request.channel, to: id, since: now.adding(seconds: -window), otherThan: trigger) {
                    skipped = .recentlySent
                } else {
                    switch try composer.compose(for: id, template: request.template, channel: request.channel, purpose: request.purpose,
                                                about: .recipientsOwnBooking, trigger: trigger, in: records, now: now) {
                    case .queued: result.counts.queued += 1
                    case .alreadyQueued: result.counts.alreadyQueued += 1
                    case .skipped(let reason): skipped = reason
                    }
                }
                if let skipped { result.counts.skip(skipped) }
                if listedPositions?.contains(position) == true {
                    result.listed?.append(.init(customerNo: try records.loadCustomer(id).customerNo, skipped: skipped))
                }
            }
            return result
        }
    }

    /// Large sends report how far they got, chunk by chunk: in the log, and to whoever listens
    /// (`patronctl dispatch send` prints it).
    private func report(_ counts: DispatchCounts, of total: Int, _ request: DispatchRequest, requestID: String?) async {
        guard total > Self.chunkSize else { return }
        let done = counts.queued + counts.alreadyQueued + counts.skipped.values.reduce(0, +)
        logger.info("dispatch send progress", metadata: [
            "template": "\(request.template)", "done": "\(done)", "of": "\(total)", "queued": "\(counts.queued)",
        ])
        await progress(.object([
            "request": requestID.map(JSONValue.string) ?? .null, "template": .string(request.template),
            "channel": .string(request.channel.rawValue), "dry_run": .bool(request.dryRun), "done": .integer(Int64(done)),
            "of": .integer(Int64(total)), "queued": .integer(Int64(counts.queued)),
        ]))
    }
}

/// `dispatch.send` (EVENTS.md) and `dispatch.unsubscribe` (Patron's; docs/asyncapi.yaml).
struct DispatchCommands: Sendable {
    let sender: DispatchSender
    let tokens: UnsubscribeTokens
    let store: any RecordStore
    let phones: any PhoneNormalizer
    let rules: RecordRules

    func register(on server: CommandServer) {
        server.register("dispatch.send", CommandHandler(minimumRole: .operator) { args, context in
            let request = try DispatchRequest.parse(args, phones: phones, rules: rules)
            let result = try await sender.send(request, trigger: "send:\(context.user):\(context.requestID)", requestedBy: context.user,
                                               requestID: context.requestID)
            return result.json(dryRun: request.dryRun)
        })
        server.register("dispatch.unsubscribe", CommandHandler(minimumRole: .operator) { args, context in
            try args.allowOnly(["token"])
            let token = try args.requiredString("token", maximumLength: 400)
            guard let number = tokens.customerNo(in: token) else {
                throw CommandError(.invalidArgument, field: "args.token", "not an unsubscribe token of this Patron")
            }
            var input = CustomerInput()
            input.customerNo = number
            input.newsletter = false
            // Recorded as the customer.updated event a publisher would send, so consent history
            // shows it like any other statement; the token's request id makes a retry a duplicate.
            let envelope = Envelope(id: "unsubscribe-\(context.requestID)", type: .customerUpdated, occurredAt: .now,
                                    source: "unsubscribe:\(context.user)")
            let body = try JSONOutput.encode(JSONValue.object([
                "id": .string(envelope.id), "type": .string("customer.updated"), "occurred_at": .string(envelope.occurredAt.description),
                "source": .string(envelope.source ?? ""),
                "data": .object(["customer": .object(["customer_no": .string(number), "newsletter": .bool(false)])]),
            ]))
            _ = try await store.record([AcceptedEvent(event: DecodedEvent(envelope: envelope, payload: .customerUpdated(input)),
                                                      routingKey: "command", receivedAt: .now, body: [UInt8](body))])
            return .object(["customer_no": .string(number), "newsletter": .bool(false)])
        })
    }
}
