import ArgumentParser
import PatronDomain

extension Patronctl {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The Customer Center's KPIs, over an optional period.")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "First day (YYYY-MM-DD).") var from: String?
        @Option(help: "Last day (YYYY-MM-DD), inclusive.") var to: String?

        func run() async throws {
            var args: [String: JSONValue] = [:]
            if let from { args["from"] = .string(from) }
            if let to { args["to"] = .string(to) }
            let (connection, arguments) = (self.connection, args)
            try await reportingFailures {
                try await connection.run("stats.get", args: arguments) { stats in
                    let customers = stats["customers"], carts = stats["carts"], threads = stats["threads"]
                    let lines: [(String, String)] = [
                        ("period", "\(Output.text(stats["from"])) – \(Output.text(stats["to"]))"),
                        ("customers", "\(Output.text(customers?["total"])) total, \(Output.text(customers?["new"])) new, \(Output.text(customers?["returning"])) returning, \(Output.text(customers?["with_order"])) with an order"),
                        ("newsletter", "\(Output.text(customers?["newsletter_opt_ins"])) opted in"),
                        ("orders", "\(Output.text(stats["orders"])); revenue \(CustomerText.money(stats["revenue"])); average \(CustomerText.money(stats["average_order"]))"),
                        ("carts", "\(Output.text(carts?["active"])) active, \(Output.text(carts?["abandoned"])) abandoned, \(Output.text(carts?["visitor"])) visitor; conversion \(Output.text(carts?["conversion_rate"]))"),
                        ("threads", "\(Output.text(threads?["open"])) open; first response \(Output.text(threads?["average_first_response_seconds"])) s on average"),
                        ("no-show rate", Output.text(stats["no_show_rate"])),
                        ("busiest", "\(Output.text(stats["busiest_weekday"])), hour \(Output.text(stats["busiest_hour"]))"),
                    ]
                    for (label, value) in lines { print("\(label.padding(toLength: 14, withPad: " ", startingAt: 0))\(value)") }
                    let top = stats["top_customers"]?.arrayValue ?? []
                    if !top.isEmpty {
                        print("\nTOP CUSTOMERS")
                        Output.table(["CUSTOMER NO", "NAME", "SPENT"], top.map {
                            [Output.text($0["customer_no"]), Output.text($0["name"]), "\(Output.text($0["total_spent"])) \(Output.text($0["currency"]))"]
                        })
                    }
                    let methods = stats["payment_methods"]?.arrayValue ?? []
                    if !methods.isEmpty {
                        print("\nPAYMENT METHODS")
                        Output.table(["METHOD", "PAYMENTS", "AMOUNT"], methods.map { [Output.text($0["method"]), Output.text($0["payments"]), CustomerText.money($0["amount"])] })
                    }
                }
            }
        }
    }

    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Customer groups: Visitor, Guest, Customer and custom groups with discounts.",
                                                        subcommands: [List.self, Create.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List groups with their members.")
            @OptionGroup var connection: ConnectionOptions

            func run() async throws {
                let connection = self.connection
                try await reportingFailures {
                    try await connection.run("groups.list") { result in
                        Output.table(["GROUP", "KIND", "DISCOUNT %", "MEMBERS"], (result["groups"]?.arrayValue ?? []).map {
                            [Output.text($0["name"]), $0["automatic"]?.boolValue == true ? "automatic" : "custom",
                             Output.text($0["discount_percent"]), Output.text($0["members"])]
                        })
                    }
                }
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a custom group (admin).")
            @OptionGroup var connection: ConnectionOptions
            @Argument var name: String
            @Option(help: "Discount percentage, 0–100, at most two decimals.") var discount = "0"

            func run() async throws {
                let (connection, args) = (self.connection, ["name": JSONValue.string(name), "discount_percent": .string(discount)])
                try await reportingFailures {
                    try await connection.run("groups.create", args: args) { print("created group \(Output.text($0["name"])) (\(Output.text($0["discount_percent"])) % discount)") }
                }
            }
        }
    }

    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Contacts: the departments customer-service threads go to.",
                                                        subcommands: [List.self, Create.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List contacts with their open threads.")
            @OptionGroup var connection: ConnectionOptions

            func run() async throws {
                let connection = self.connection
                try await reportingFailures {
                    try await connection.run("contacts.list") { result in
                        Output.table(["CONTACT", "EMAIL", "OPEN THREADS"], (result["contacts"]?.arrayValue ?? []).map {
                            [Output.text($0["name"]), Output.text($0["email"]), Output.text($0["open_threads"])]
                        })
                    }
                }
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a contact (admin).")
            @OptionGroup var connection: ConnectionOptions
            @Argument var name: String
            @Option var email: String?

            func run() async throws {
                var args: [String: JSONValue] = ["name": .string(name)]
                if let email { args["email"] = .string(email) }
                let (connection, arguments) = (self.connection, args)
                try await reportingFailures {
                    try await connection.run("contacts.create", args: arguments) { print("created contact \(Output.text($0["name"]))") }
                }
            }
        }
    }

    struct Titles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the configured titles.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let connection = self.connection
            try await reportingFailures {
                try await connection.run("titles.list") { result in
                    for title in result["titles"]?.arrayValue ?? [] { print(Output.text(title)) }
                }
            }
        }
    }

    struct Threads: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Customer-service threads.",
                                                        subcommands: [List.self, Close.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List threads, open by default.")
            @OptionGroup var connection: ConnectionOptions
            @Option(help: "open, closed or all.") var status = "open"
            @Option(help: "Only threads to this contact.") var contact: String?
            @Option(help: "1–1000.") var limit = 50

            func run() async throws {
                var args: [String: JSONValue] = ["status": .string(status), "limit": .integer(Int64(limit))]
                if let contact { args["contact"] = .string(contact) }
                let (connection, arguments) = (self.connection, args)
                try await reportingFailures {
                    try await connection.run("threads.list", args: arguments) { result in
                        Output.table(["THREAD", "CUSTOMER NO", "CONTACT", "SUBJECT", "OPEN", "OPENED", "MESSAGES"], (result["threads"]?.arrayValue ?? []).map {
                            [Output.text($0["thread_id"]), Output.text($0["customer_no"]), Output.text($0["contact"]), Output.text($0["subject"]),
                             Output.text($0["open"]), CustomerText.date($0["opened_at"]), Output.text($0["messages"])]
                        })
                    }
                }
            }
        }

        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Close a thread (operator).")
            @OptionGroup var connection: ConnectionOptions
            @Argument var threadID: String

            func run() async throws {
                let (connection, args) = (self.connection, ["thread_id": JSONValue.string(threadID)])
                try await reportingFailures {
                    try await connection.run("threads.close", args: args) { print("closed \(Output.text($0["thread_id"]))") }
                }
            }
        }
    }

    struct Carts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shopping carts.", subcommands: [List.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List carts: active, abandoned, ordered, or visitor (no known customer).")
            @OptionGroup var connection: ConnectionOptions
            @Option(help: "active, abandoned, ordered or visitor.") var status = "active"
            @Option(help: "1–1000.") var limit = 50

            func run() async throws {
                let (connection, args) = (self.connection, ["status": JSONValue.string(status), "limit": .integer(Int64(limit))])
                try await reportingFailures {
                    try await connection.run("carts.list", args: args) { result in
                        Output.table(["CART", "CUSTOMER NO", "STATUS", "TOTAL", "UPDATED"], (result["carts"]?.arrayValue ?? []).map {
                            [Output.text($0["id"]), Output.text($0["customer_no"]), Output.text($0["status"]),
                             "\(Output.text($0["total"])) \(Output.text($0["currency"]))", Output.time($0["updated_at"])]
                        })
                    }
                }
            }
        }
    }
}
