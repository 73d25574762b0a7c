import ArgumentParser
import Foundation
import PatronDomain

extension Patronctl {
    struct Dispatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send email or SMS to customers through the gateways (Send Email, Send SMS).",
            subcommands: [Send.self, Unsubscribe.self])
    }
}

/// What a send is, as `dispatch.send` takes it; shared with scheduled sends.
struct SendOptions: ParsableArguments {
    @Option(help: "email or sms.") var channel = "email"
    @Option(help: "Template name (patrond's dispatch.templates directory).") var template: String
    @Option(help: "marketing (only to opted-in customers) or transactional (about each one's own booking); must be the template's.")
    var purpose: String
    @Flag(help: "Send also to customers sent this template on this channel within patrond's resend window (dispatch.resend_window).")
    var resend = false

    var args: [String: JSONValue] {
        var args: [String: JSONValue] = ["channel": .string(channel), "template": .string(template), "purpose": .string(purpose)]
        if resend { args["resend"] = .bool(true) }
        return args
    }
}

extension Patronctl.Dispatch {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a template for the customers a search finds, or for listed customers (operator).",
            discussion: """
                Without --customer, the filters choose the recipients; with no filter at all, --everyone must say so. \
                --dry-run counts who would be reached and who skipped, lists them a page at a time (--limit, --cursor) \
                and sends nothing. A send is safe to repeat: customers sent the same template on the same channel within \
                patrond's resend window are skipped as recently_sent unless --resend; with --idempotency-key, running the \
                same send again queues nothing and prints the first run's counts. Large sends take a while: raise \
                --timeout (up to 600 s); patrond's log shows their progress.
                Example: patronctl dispatch send --template newsletter --purpose marketing --city Donostia --dry-run
                """)

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup(title: "Filters") var filters: SearchFilters
        @OptionGroup(title: "Message") var send: SendOptions
        @Option(name: .customLong("customer"), help: "A customer number (repeatable); instead of filters.") var customers: [String] = []
        @Flag(help: "Send to every customer (no filter).") var everyone = false
        @Flag(name: .customLong("dry-run"), help: "Count and list who would be sent and who skipped; send nothing.") var dryRun = false
        @Option(help: "With --dry-run: recipients listed per page (1–1000).") var limit: Int?
        @Option(help: "With --dry-run: the page after the one that printed this cursor.") var cursor: String?
        @Option(name: .customLong("idempotency-key"), help: "This send's own name: the same send with the same key again queues nothing.")
        var idempotencyKey: String?

        func validate() throws {
            if !dryRun, limit != nil || cursor != nil { throw ValidationError("--limit and --cursor page a --dry-run's recipients") }
            if !customers.isEmpty, !filters.args.isEmpty || everyone { throw ValidationError("--customer goes without filters and --everyone") }
            if customers.isEmpty, filters.args.isEmpty, !everyone { throw ValidationError("name recipients: filters, --customer or --everyone") }
        }

        func run() async throws {
            var args = send.args
            if customers.isEmpty {
                args["filter"] = .object(JSONObject(filters.args))
            } else {
                args["customer_nos"] = .array(customers.map(JSONValue.string))
            }
            if dryRun { args["dry_run"] = .bool(true) }
            if let limit { args["limit"] = .integer(Int64(limit)) }
            if let cursor { args["cursor"] = .string(cursor) }
            if let idempotencyKey { args["idempotency_key"] = .string(idempotencyKey) }
            let (connection, arguments, dryRun) = (self.connection, args, self.dryRun)
            try await reportingFailures {
                let result = try await connection.withPatron { commands, client, configuration in
                    // Progress of a large send arrives on patron.notifications while we wait.
                    let requestID = UUID().uuidString.lowercased()
                    let queue = "patronctl.progress.\(requestID)"
                    try await client.withManagement { broker in
                        _ = try broker.declareQueue(queue, durable: false, exclusive: true, autoDelete: true)
                        try broker.bindQueue(queue, to: configuration.topology.notificationsExchange, routingKey: "dispatch.progress")
                    }
                    let consumer = client.consume(queue: queue, prefetch: 10)
                    let printer = Task {
                        while !Task.isCancelled {
                            let deliveries = await consumer.next(limit: 10)
                            if deliveries.isEmpty { return }
                            for delivery in deliveries {
                                _ = try? await client.ack(delivery)
                                guard let report = try? JSONValue(parsing: delivery.body), report["request"] == .string(requestID) else { continue }
                                FileHandle.standardError.write(Data("… \(Output.text(report["done"])) of \(Output.text(report["of"])) customers, \(Output.text(report["queued"])) queued\n".utf8))
                            }
                        }
                    }
                    defer {
                        consumer.stopWaiting()
                        printer.cancel()
                    }
                    return try await connection.ask(commands, "dispatch.send", args: arguments, messageID: requestID)
                }
                if connection.json { return Output.json(result) }
                print("\(dryRun ? "would queue" : "queued") \(Output.text(result["queued"]))"
                      + (result["already_queued"] == .integer(0) ? "" : " (\(Output.text(result["already_queued"])) already queued before)"))
                if case .object(let skipped)? = result["skipped"] {
                    let rows = skipped.keys.sorted().compactMap { key in skipped[key] == .integer(0) ? nil : [key, Output.text(skipped[key])] }
                    if !rows.isEmpty { Output.table(["SKIPPED", "CUSTOMERS"], rows) }
                }
                if let listed = result["recipients"]?.arrayValue, !listed.isEmpty {
                    print("")
                    Output.table(["CUSTOMER NO", "WOULD BE", "WHY"], listed.map {
                        [Output.text($0["customer_no"]), Output.text($0["outcome"]), $0["reason"] == .null ? "" : Output.text($0["reason"])]
                    })
                    if let next = result["next_cursor"]?.stringValue { print("more: --cursor \(next)") }
                }
            }
        }
    }

    struct Unsubscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an unsubscribe link's opt-out, as the landing page does (operator).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The token from the link.") var token: String

        func run() async throws {
            let (connection, args) = (self.connection, ["token": JSONValue.string(token)])
            try await reportingFailures {
                try await connection.run("dispatch.unsubscribe", args: args) { result in
                    print("\(Output.text(result["customer_no"])) opted out of the newsletter")
                }
            }
        }
    }
}
