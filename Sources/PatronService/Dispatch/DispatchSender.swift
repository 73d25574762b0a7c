import Foundation
import Logging
import PatronDomain
import PatronStorage

/// `dispatch.send` and the schedules' `dispatch` action: a template to many customers.
///
/// Recipients go in chunks, each one transaction; a job's id is derived from the send's trigger
/// and the customer, so a send interrupted by a crash and delivered again queues the rest and
/// never a second job for anyone. A dry run runs the same code in transactions that roll back.
struct DispatchSender: Sendable {
    let store: any RecordStore
    let export: any CustomerRowSource
    let composer: DispatchComposer
    let logger: Logger
    /// Hands on a progress report (`dispatch.progress` on `patron.notifications`) after each
    /// chunk of a send longer than one chunk.
    let progress: @Sendable (JSONValue) async -> Void
    static let chunkSize = 500

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

    /// - Parameter requestID: the command request's id, which progress reports carry so the
    ///   client that asked can pick out its own.
    func send(_ request: DispatchRequest, trigger: String, requestID: String? = nil) async throws -> DispatchCounts {
        try check(request)
        let recipients: [Recipient] = switch request.recipients {
        case .filter(_, let search): try await export.customerIDs(matching: search).map(Recipient.id)
        case .customerNumbers(let numbers): numbers.map(Recipient.number)
        }
        let total = recipients.count
        var counts = DispatchCounts()
        for start in stride(from: 0, to: total, by: Self.chunkSize) {
            counts.add(try await compose(request, Array(recipients[start..<min(start + Self.chunkSize, total)]), trigger: trigger))
            await report(counts, of: total, request, requestID: requestID)
        }
        logger.info("dispatch send finished", metadata: [
            "trigger": "\(trigger)", "template": "\(request.template)", "dry_run": "\(request.dryRun)", "recipients": "\(total)",
            "queued": "\(counts.queued)", "already_queued": "\(counts.alreadyQueued)",
            "skipped": "\(counts.skipped.values.reduce(0, +))",
        ])
        return counts
    }

    private enum Recipient: Sendable {
        case id(CustomerID)
        case number(String)
    }

    private func compose(_ request: DispatchRequest, _ recipients: [Recipient], trigger: String) async throws -> DispatchCounts {
        let composer = self.composer
        return try await store.change(rollingBack: request.dryRun) { _, records in
            var counts = DispatchCounts()
            let now = Timestamp.now
            for recipient in recipients {
                let id: CustomerID
                switch recipient {
                case .id(let known): id = known
                case .number(let number):
                    guard let found = try records.customer(numbered: number) else {
                        counts.skip(.notFound)
                        continue
                    }
                    id = found
                }
                switch try composer.compose(for: id, template: request.template, channel: request.channel, purpose: request.purpose,
                                            about: .recipientsOwnBooking, trigger: trigger, in: records, now: now) {
                case .queued: counts.queued += 1
                case .alreadyQueued: counts.alreadyQueued += 1
                case .skipped(let reason): counts.skip(reason)
                }
            }
            return counts
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
            let counts = try await sender.send(request, trigger: "send:\(context.user):\(context.requestID)", requestID: context.requestID)
            return counts.json(dryRun: request.dryRun)
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
