import ArgumentParser
import Foundation
import PatronDomain

extension Patronctl {
    struct Customers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find, show and manage customers (the Customer Center).",
            subcommands: [Search.self, Show.self, Tag.self, Untag.self, Note.self, SetGroup.self, Merge.self, Unmerge.self,
                          Erase.self, Import.self])
    }
}

/// How a customer prints in lists and after a change.
enum CustomerText {
    static func name(_ customer: JSONValue) -> String {
        let parts = [customer["first_name"], customer["last_name"]].compactMap { $0?.stringValue }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// `{"EUR": "412.50"}` → `412.50 EUR`.
    static func money(_ amounts: JSONValue?) -> String {
        guard case .object(let object)? = amounts, !object.members.isEmpty else { return "-" }
        return object.members.sorted { $0.key < $1.key }.map { "\(Output.text($0.value)) \($0.key)" }.joined(separator: ", ")
    }

    static func date(_ value: JSONValue?) -> String { Output.day(value) }

    static func table(_ customers: [JSONValue]) {
        Output.table(["CUSTOMER NO", "NAME", "EMAIL", "PHONE", "CITY", "COUNTRY", "GROUP", "ORDERS", "SPENT", "LAST ORDER"],
                     customers.map { customer in
                         [Output.text(customer["customer_no"]), name(customer), Output.text(customer["email"]), Output.text(customer["phone"]),
                          Output.text(customer["city"]), Output.text(customer["country"]), Output.text(customer["group"]),
                          Output.text(customer["orders"]), money(customer["total_spent"]), date(customer["last_order_at"])]
                     })
    }

    /// The full record as sections: profile, then bookings, payments, carts, each thread with its
    /// messages, notes, consent.
    static func record(_ record: JSONValue) {
        let lines: [(String, String)] = [
            ("customer no", Output.text(record["customer_no"])),
            ("name", [record["title"], record["first_name"], record["last_name"]].compactMap { $0?.stringValue }.joined(separator: " ")),
            ("company", Output.text(record["company"])),
            ("emails", list(record["emails"])), ("phones", list(record["phones"])),
            ("address", [record["address"]?["line1"], record["address"]?["line2"], record["address"]?["zip"], record["address"]?["city"],
                         record["address"]?["country"]].compactMap { $0?.stringValue }.joined(separator: ", ")),
            ("language", Output.text(record["language"])), ("birthday", Output.text(record["birthday"])),
            ("group", Output.text(record["group"])), ("tags", list(record["tags"])),
            ("newsletter", Output.text(record["newsletter"])), ("first contact", Output.time(record["first_contact_at"])),
            ("orders", "\(Output.text(record["orders"])), spent \(money(record["total_spent"])), average \(money(record["average_order"]))"),
            ("no-shows", Output.text(record["no_shows"])),
        ]
        for (label, value) in lines { print("\(label.padding(toLength: 14, withPad: " ", startingAt: 0))\(value.isEmpty ? "-" : value)") }
        section("BOOKINGS", ["REF", "STATUS", "HOTEL", "ARRIVAL", "DEPARTURE", "AMOUNT"], record["bookings"]) {
            [Output.text($0["ref"]), Output.text($0["status"]), Output.text($0["hotel"]), Output.text($0["arrival"]),
             Output.text($0["departure"]), "\(Output.text($0["amount"])) \(Output.text($0["currency"]))"]
        }
        section("PAYMENTS", ["REFERENCE", "BOOKING", "STATUS", "METHOD", "WHEN", "AMOUNT"], record["payments"]) {
            [Output.text($0["reference"]), Output.text($0["booking_ref"]), Output.text($0["status"]), Output.text($0["method"]),
             Output.time($0["occurred_at"]), "\(Output.text($0["amount"])) \(Output.text($0["currency"]))"]
        }
        section("CARTS", ["CART", "STATUS", "UPDATED", "TOTAL"], record["carts"]) {
            [Output.text($0["id"]), Output.text($0["status"]), Output.time($0["updated_at"]), "\(Output.text($0["total"])) \(Output.text($0["currency"]))"]
        }
        for thread in record["threads"]?.arrayValue ?? [] {
            print("\nTHREAD \(Output.text(thread["thread_id"])) (\(thread["open"]?.boolValue == true ? "open" : "closed"))"
                  + " \(Output.text(thread["subject"])), contact \(Output.text(thread["contact"])), booking \(Output.text(thread["booking_ref"]))")
            Output.table(["WHEN", "DIRECTION", "AUTHOR", "MESSAGE"], (thread["messages"]?.arrayValue ?? []).map {
                [Output.time($0["occurred_at"]), Output.text($0["direction"]), Output.text($0["author"]), shortened(Output.text($0["body"]))]
            })
        }
        section("NOTES", ["WHEN", "AUTHOR", "NOTE"], record["notes"]) {
            [Output.time($0["created_at"]), Output.text($0["author"]), Output.text($0["text"])]
        }
        section("CONSENT", ["WHEN", "PURPOSE", "OPTED IN", "SOURCE"], record["consent"]) {
            [Output.time($0["occurred_at"]), Output.text($0["purpose"]), Output.text($0["opted_in"]), Output.text($0["source"])]
        }
    }

    /// A message body on one line, cut after 80 characters (the full text is in `--json`).
    static func shortened(_ body: String) -> String {
        let line = body.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 80 ? String(line.prefix(79)) + "…" : line
    }

    static func list(_ value: JSONValue?) -> String {
        (value?.arrayValue ?? []).map { Output.text($0) }.joined(separator: ", ")
    }

    private static func section(_ title: String, _ header: [String], _ items: JSONValue?, row: (JSONValue) -> [String]) {
        guard let items = items?.arrayValue, !items.isEmpty else { return }
        print("\n\(title)")
        Output.table(header, items.map(row))
    }
}

/// The customer and tag of `customers tag` and `customers untag`.
struct TagChange: ParsableArguments {
    @Argument var customerNo: String
    @Argument var tag: String

    func send(_ command: String, _ connection: ConnectionOptions) async throws {
        let args = ["customer_no": JSONValue.string(customerNo), "tag": .string(tag)]
        try await reportingFailures {
            try await connection.run(command, args: args) { print("tags of \(Output.text($0["customer_no"])): \(CustomerText.list($0["tags"]))") }
        }
    }
}

/// Names one customer: by number (the argument), or `--email`, or `--phone`.
struct CustomerReference: ParsableArguments {
    @Argument(help: "The customer number (e.g. C-20931).")
    var customerNo: String?

    @Option(help: "Name the customer by email instead.")
    var email: String?

    @Option(help: "Name the customer by phone instead (any form).")
    var phone: String?

    func validate() throws {
        guard [customerNo, email, phone].compactMap({ $0 }).count == 1 else {
            throw ValidationError("name the customer by number, --email or --phone (one of them)")
        }
    }

    var args: [String: JSONValue] {
        if let email { return ["email": .string(email)] }
        if let phone { return ["phone": .string(phone)] }
        return ["customer_no": .string(customerNo ?? "")]
    }
}

extension Patronctl.Customers {
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find customers by any of their fields and bookings; filters combine (AND).",
            discussion: """
                Examples: patronctl customers search garcía
                          patronctl customers search 600 111 222 --city Donostia
                          patronctl customers search --city Donostia --newsletter yes
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "What you would type in a search box: words of a name, an email, a phone or a customer number.")
        var text: [String] = []
        @OptionGroup(title: "Filters") var filters: SearchFilters

        @Option(help: "name, last_order, total_spent or first_contact.") var sort: String?
        @Option(help: "Customers per page (1–1000).") var limit = 50
        @Option(help: "The next page: the cursor a previous search printed.") var cursor: String?

        func run() async throws {
            var args = filters.args
            if !text.isEmpty {
                let typed = TypedSearch.filter(for: text.joined(separator: " "))
                guard args[typed.name] == nil else {
                    throw ValidationError("the text reads as --\(typed.name.replacingOccurrences(of: "_", with: "-")), which is also given")
                }
                args[typed.name] = .string(typed.value)
            }
            args["limit"] = .integer(Int64(limit))
            if let sort { args["sort"] = .string(sort) }
            if let cursor { args["cursor"] = .string(cursor) }
            let (connection, arguments) = (self.connection, args)
            try await reportingFailures {
                try await connection.run("customers.search", args: arguments) { result in
                    let customers = result["customers"]?.arrayValue ?? []
                    CustomerText.table(customers)
                    print("\(customers.count) shown of \(Output.text(result["total"]))")
                    if let next = result["next_cursor"]?.stringValue { print("next page: --cursor \(next)") }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show everything about one customer.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var customer: CustomerReference

        func run() async throws {
            let (connection, args) = (self.connection, customer.args)
            try await reportingFailures {
                try await connection.run("customers.get", args: args, render: CustomerText.record)
            }
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a tag (at most 9 per customer; operator).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var change: TagChange

        func run() async throws { try await change.send("customers.tag", connection) }
    }

    struct Untag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a tag (operator).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var change: TagChange

        func run() async throws { try await change.send("customers.untag", connection) }
    }

    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an internal note, signed with your broker user (operator).")

        @OptionGroup var connection: ConnectionOptions
        @Argument var customerNo: String
        @Argument var text: String

        func run() async throws {
            let (connection, args) = (self.connection, ["customer_no": JSONValue.string(customerNo), "text": .string(text)])
            try await reportingFailures {
                try await connection.run("customers.note", args: args) { print("\(Output.text($0["customer_no"])) has \($0["notes"]?.arrayValue?.count ?? 0) notes") }
            }
        }
    }

    struct SetGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-group", abstract: "Put the customer in a group (operator).")

        @OptionGroup var connection: ConnectionOptions
        @Argument var customerNo: String
        @Argument(help: "A custom group, or Visitor, Guest or Customer.") var group: String

        func run() async throws {
            let (connection, args) = (self.connection, ["customer_no": JSONValue.string(customerNo), "group": .string(group)])
            try await reportingFailures {
                try await connection.run("customers.set_group", args: args) { print("\(Output.text($0["customer_no"])) is in \(Output.text($0["group"]))") }
            }
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge one customer into another (admin); customers unmerge undoes it.")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The customer that stays.") var into: String
        @Option(help: "The customer merged away.") var from: String

        func run() async throws {
            let (connection, args) = (self.connection, ["into": JSONValue.string(into), "from": .string(from)])
            try await reportingFailures {
                try await connection.run("customers.merge", args: args, render: CustomerText.record)
            }
        }
    }

    struct Unmerge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split a merged customer back out (admin); the pair is never merged automatically again.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The customer number that was merged away.") var customerNo: String

        func run() async throws {
            let (connection, args) = (self.connection, ["customer_no": JSONValue.string(customerNo)])
            try await reportingFailures {
                try await connection.run("customers.unmerge", args: args) {
                    CustomerText.table([$0["customer"] ?? .null, $0["restored"] ?? .null])
                }
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a customer's personal data for good (admin).",
            discussion: "Irreversible: personal fields, identifiers, notes and messages are removed; figures stay anonymous. Needs --yes.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var customer: CustomerReference
        @Flag(help: "Confirm the erasure.") var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("erasure cannot be undone: add --yes to confirm") }
        }

        func run() async throws {
            let (connection, args) = (self.connection, customer.args)
            try await reportingFailures {
                try await connection.run("customers.erase", args: args) { print("erased \(Output.text($0["customer_no"]))") }
            }
        }
    }
}
