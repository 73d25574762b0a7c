import Foundation
import PatronDomain
import PatronStorage

/// The Customer Center's commands on customers (EVENTS.md, "Commands"): `customers.search`, `customers.get`,
/// `customers.tag`, `customers.untag`, `customers.note`, `customers.merge`, `customers.unmerge`,
/// `customers.erase`.
struct CustomerCommands: Sendable {
    let store: any RecordStore
    let directory: any CustomerDirectory
    let search: any CustomerSearchSource
    let stats: any CustomerStatsSource
    let phones: any PhoneNormalizer
    let rules: RecordRules

    func register(on server: CommandServer) {
        server.register("stats.get", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly(["from", "to"])
            return try await stats.stats(try CustomerStats.Period.parse(args, in: rules.businessZone), currency: rules.defaultCurrency).json
        })
        server.register("customers.search", CommandHandler(minimumRole: .viewer) { args, _ in
            let request = try CustomerSearch.parse(args, phones: phones, rules: rules)
            do {
                return try await search.search(request).json
            } catch is CustomerSearch.InvalidCursor {
                throw CommandError(.invalidArgument, field: "args.cursor", "not a cursor of this search's sort; pass next_cursor as returned")
            }
        })
        server.register("customers.get", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly(["customer_no", "email", "phone"])
            return try await directory.file(try await customer(args)).json
        })
        server.register("customers.tag", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["customer_no", "tag"])
            let (customer, tag) = (try await directory.customer(numberedBy: args, "customer_no"), try args.requiredString("tag", maximumLength: 60))
            do {
                try await store.change { applier, records in try applier.tag(customer, tag, store: records) }
            } catch RecordApplier.StaffEditError.tagLimit(let limit) {
                throw CommandError(.conflict, field: "args.tag", "the customer has \(limit) tags already; remove one first")
            }
            return try await directory.file(customer).json
        })
        server.register("customers.untag", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["customer_no", "tag"])
            let (customer, tag) = (try await directory.customer(numberedBy: args, "customer_no"), try args.requiredString("tag", maximumLength: 60))
            try await store.change { applier, records in try applier.untag(customer, tag, store: records) }
            return try await directory.file(customer).json
        })
        server.register("customers.note", CommandHandler(minimumRole: .operator) { args, context in
            try args.allowOnly(["customer_no", "text"])
            let (customer, text) = (try await directory.customer(numberedBy: args, "customer_no"), try args.requiredString("text", maximumLength: 5000))
            try await store.change { applier, records in
                try applier.addNote(customer, text: text, author: context.user, at: .now, store: records)
            }
            return try await directory.file(customer).json
        })
        server.register("customers.merge", CommandHandler(minimumRole: .admin) { args, _ in
            try args.allowOnly(["into", "from"])
            let (survivor, loser) = (try await directory.customer(numberedBy: args, "into"), try await directory.customer(numberedBy: args, "from"))
            guard survivor != loser else { throw CommandError(.conflict, field: "args.from", "the same customer as into") }
            let merged = try await store.change { applier, records in
                try applier.mergeByHand(into: survivor, from: loser, at: .now, store: records)
            }
            return try await directory.file(merged.id).json
        })
        server.register("customers.unmerge", CommandHandler(minimumRole: .admin) { args, _ in
            try args.allowOnly(["customer_no"])
            guard let number = try args.string("customer_no") else {
                throw CommandError(.invalidArgument, field: "args.customer_no", "required: the customer number that was merged away")
            }
            let split: (survivor: CustomerRecord, restored: CustomerRecord)
            do {
                split = try await store.unmerge(customerNo: number, at: .now)
            } catch RecordApplier.UnmergeError.unknownCustomer {
                throw CommandError(.notFound, field: "args.customer_no", "no customer has this number")
            } catch RecordApplier.UnmergeError.notMerged {
                throw CommandError(.conflict, field: "args.customer_no", "this number was not merged into another customer")
            }
            return .object([
                "customer": try await directory.file(split.survivor.id).json,
                "restored": try await directory.file(split.restored.id).json,
            ])
        })
        server.register("customers.erase", CommandHandler(minimumRole: .admin) { args, context in
            try args.allowOnly(["customer_no", "email", "phone"])
            let number = try await directory.file(try await customer(args)).record.customerNo
            var input = CustomerInput()
            input.customerNo = number
            // Through the ingest path, so the command has exactly the event's effect: journaled
            // without payload, hashes kept, WAL checkpointed, `customer.erased` announced.
            let envelope = Envelope(id: "command-erase-\(UUID().uuidString.lowercased())", type: .customerErasureRequested,
                                    occurredAt: .now, source: "command:\(context.user)")
            _ = try await store.record([AcceptedEvent(event: DecodedEvent(envelope: envelope, payload: .erasureRequested(input)),
                                                      routingKey: "command", receivedAt: .now, body: [])])
            return .object(["customer_no": .string(number)])
        })
    }

    /// The one live customer the arguments name.
    private func customer(_ args: CommandArguments) async throws -> CustomerID {
        let lookup = try CustomerLookup.parse(args, phones: phones, defaultCountry: rules.defaultCountry)
        let field: String
        switch lookup {
        case .number: field = "args.customer_no"
        case .identifier(let identifier): field = identifier.kind == .email ? "args.email" : "args.phone"
        }
        let matches = try await directory.customers(lookup)
        guard let first = matches.first else { throw CommandError(.notFound, field: field, "no customer found") }
        guard matches.count == 1 else {
            let numbers = try await matches.asyncMap { try await directory.file($0).record.customerNo }
            throw CommandError(.conflict, field: field, "\(matches.count) customers match (\(numbers.joined(separator: ", "))); ask by customer_no")
        }
        return first
    }
}

private extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
