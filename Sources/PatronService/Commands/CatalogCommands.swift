import PatronDomain

/// The Customer Center's lists and their few changes: `groups.create`, `groups.list`,
/// `customers.set_group`, `contacts.create`, `contacts.list`, `titles.list`, `threads.list`,
/// `threads.close`, `carts.list`.
struct CatalogCommands: Sendable {
    let catalog: any CustomerCatalog
    let directory: any CustomerDirectory
    let titles: [String]

    func register(on server: CommandServer) {
        server.register("groups.list", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly([])
            return .object(["groups": .array(try await catalog.groups().map(\.json))])
        })
        server.register("groups.create", CommandHandler(minimumRole: .admin) { args, _ in
            try args.allowOnly(["name", "discount_percent"])
            let name = try args.requiredString("name", maximumLength: 100)
            let discount = try percent(args, "discount_percent")
            guard let group = try await catalog.createGroup(name: name, discountBasisPoints: discount, at: .now) else {
                throw CommandError(.conflict, field: "args.name", "a group of that name exists")
            }
            return group.json
        })
        server.register("customers.set_group", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["customer_no", "group"])
            let customer = try await directory.customer(numberedBy: args, "customer_no")
            let group = try args.requiredString("group", maximumLength: 100)
            guard try await catalog.setGroup(customer, group: group) else {
                throw CommandError(.notFound, field: "args.group", "no group of that name (groups.list shows them)")
            }
            return try await directory.file(customer).json
        })
        server.register("contacts.list", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly([])
            return .object(["contacts": .array(try await catalog.contacts().map(\.json))])
        })
        server.register("contacts.create", CommandHandler(minimumRole: .admin) { args, _ in
            try args.allowOnly(["name", "email"])
            let name = try args.requiredString("name", maximumLength: 100)
            _ = try args.emailKey("email")
            let email = try args.string("email")
            guard let contact = try await catalog.createContact(name: name, email: email, at: .now) else {
                throw CommandError(.conflict, field: "args.name", "a contact of that name exists")
            }
            return contact.json
        })
        server.register("titles.list", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly([])
            return .object(["titles": .array(titles.map(JSONValue.string))])
        })
        server.register("threads.list", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly(["status", "contact", "limit"])
            let open: Bool?
            switch try args.string("status") ?? "open" {
            case "open": open = true
            case "closed": open = false
            case "all": open = nil
            default: throw CommandError(.invalidArgument, field: "args.status", "must be open, closed or all")
            }
            let limit = Int(try args.integer("limit", in: 1...1000, default: 50))
            let threads = try await catalog.threads(open: open, contact: try args.string("contact", maximumLength: 100), limit: limit)
            return .object(["threads": .array(threads.map(\.json))])
        })
        server.register("threads.close", CommandHandler(minimumRole: .operator) { args, _ in
            try args.allowOnly(["thread_id"])
            let thread = try args.requiredString("thread_id", maximumLength: 200)
            guard try await catalog.closeThread(thread) else { throw CommandError(.notFound, field: "args.thread_id", "no such thread") }
            return .object(["thread_id": .string(thread), "open": .bool(false)])
        })
        server.register("carts.list", CommandHandler(minimumRole: .viewer) { args, _ in
            try args.allowOnly(["status", "limit"])
            let text = try args.string("status") ?? "active"
            guard let selection = CartSelection(rawValue: text) else {
                throw CommandError(.invalidArgument, field: "args.status", "must be one of \(CartSelection.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let limit = Int(try args.integer("limit", in: 1...1000, default: 50))
            return .object(["carts": .array(try await catalog.carts(selection, limit: limit).map(\.json))])
        })
    }

    /// A percentage as a number or decimal string, 0–100, at most two decimals; absent is 0.
    private func percent(_ args: CommandArguments, _ name: String) throws -> Int64 {
        guard let text = try args.decimalText(name, expecting: "must be a number from 0 to 100") else { return 0 }
        guard let basisPoints = GroupSummary.basisPoints(text) else {
            throw CommandError(.invalidArgument, field: "args.\(name)", "must be from 0 to 100 with at most two decimals")
        }
        return basisPoints
    }
}
