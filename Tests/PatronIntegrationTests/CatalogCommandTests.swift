import PatronAMQP
import PatronDomain
import Testing

extension BrokerBacked {
    /// Groups, contacts, titles, threads and carts over the broker, on records built by events.
    @Suite struct CatalogCommands {
        static func expectError(_ reply: JSONValue, _ code: String, _ field: String, _ comment: Comment) {
            #expect(reply["error"]?["code"] == .string(code), comment)
            #expect(reply["error"]?["field"] == .string(field), comment)
        }

        @Test(arguments: TestEngine.allCases) func groupsAreCreatedListedWithMembersAndAssigned(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                let exchange = setup.topology.eventsExchange
                try await broker.publish([
                    RecordIngest.message("a1", "booking.created", minute: 1, exchange: exchange,
                                         #"{"customer":{"customer_no":"C-1","email":"ana@example.com","account":true},"booking":{"ref":"BK-1"}}"#),
                    RecordIngest.message("v1", "cart.updated", minute: 2, exchange: exchange, #"{"customer":{"email":"vic@example.com"},"cart":{"id":"K-1"}}"#),
                ])
                try await eventually("two events") { try await setup.journalCount() == 2 }
                try await withCommands(setup) { commands in
                    let created = try await commands.call("groups.create", args: ["name": .string("Corporate"), "discount_percent": .number("12.5")])
                    #expect(created["result"] == .object(["name": .string("Corporate"), "automatic": .bool(false),
                                                          "discount_percent": .string("12.50"), "members": .integer(0)]))
                    let assigned = try await commands.call("customers.set_group", args: ["customer_no": .string("C-1"), "group": .string("corporate")])
                    #expect(assigned["result"]?["group"] == .string("Corporate"))
                    #expect(assigned["result"]?["automatic_group"] == .string("Customer"))
                    #expect(assigned["result"]?["group_discount_percent"] == .string("12.50"))
                    // Counted in the segment counts on SQLite: the custom group, and with newsletter unset (no).
                    for args: [String: JSONValue] in [["group": .string("corporate")], ["group": .string("Corporate"), "newsletter": .bool(false)]] {
                        let found = try await commands.call("customers.search", args: args)["result"]
                        #expect(found?["total"] == .integer(1), "\(args)")
                        #expect(found?["customers"]?.arrayValue?.first?["customer_no"] == .string("C-1"), "\(args)")
                    }
                    let nobody = try await commands.call("customers.search", args: ["group": .string("Corporate"), "newsletter": .bool(true)])
                    #expect(nobody["result"]?["total"] == .integer(0))
                    let groups = try await commands.call("groups.list")["result"]?["groups"]?.arrayValue ?? []
                    #expect(groups.map { [$0["name"], $0["members"]] } == [
                        [.string("Visitor"), .integer(1)], [.string("Guest"), .integer(0)], [.string("Customer"), .integer(1)],
                        [.string("Corporate"), .integer(1)],
                    ])
                    let down = try await commands.call("customers.set_group", args: ["customer_no": .string("C-1"), "group": .string("Visitor")])
                    #expect(down["result"]?["group"] == .string("Visitor"), "staff may move a customer down by hand")

                    Self.expectError(try await commands.call("groups.create", args: ["name": .string("CORPORATE")]), "conflict", "args.name", "duplicate")
                    Self.expectError(try await commands.call("groups.create", args: ["name": .string("guest")]), "conflict", "args.name", "automatic")
                    Self.expectError(try await commands.call("groups.create", args: ["name": .string("X"), "discount_percent": .integer(101)]),
                                     "invalid_argument", "args.discount_percent", "over 100")
                    Self.expectError(try await commands.call("groups.create", args: ["name": .string("X"), "discount_percent": .string("1.234")]),
                                     "invalid_argument", "args.discount_percent", "three decimals")
                    Self.expectError(try await commands.call("customers.set_group", args: ["customer_no": .string("C-1"), "group": .string("Gold")]),
                                     "not_found", "args.group", "unknown group")
                }
            }
        }

        @Test(arguments: TestEngine.allCases) func contactsTitlesThreadsAndCarts(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                let exchange = setup.topology.eventsExchange
                try await broker.publish([
                    RecordIngest.message("s1", "contact.submitted", minute: 1, exchange: exchange,
                                         #"{"customer":{"customer_no":"C-1","email":"ana@example.com"},"message":{"thread_id":"T-1","contact":"customer-service","body":"Hi"}}"#),
                    RecordIngest.message("s2", "contact.submitted", minute: 2, exchange: exchange,
                                         #"{"customer":{"customer_no":"C-1"},"message":{"thread_id":"T-2","contact":"groups","body":"We are 20"}}"#),
                    RecordIngest.message("k1", "cart.updated", minute: 3, exchange: exchange, #"{"cart":{"id":"K-visitor","status":"active","total":"10"}}"#),
                    RecordIngest.message("k2", "cart.updated", minute: 4, exchange: exchange,
                                         #"{"customer":{"customer_no":"C-1"},"cart":{"id":"K-ana","status":"abandoned"}}"#),
                ])
                try await eventually("four events") { try await setup.journalCount() == 4 }
                try await withCommands(setup) { commands in
                    let contact = try await commands.call("contacts.create", args: ["name": .string("Customer-Service"), "email": .string("cs@hotel.example")])
                    #expect(contact["result"]?["open_threads"] == .integer(1))
                    let contacts = try await commands.call("contacts.list")
                    #expect(contacts["result"]?["contacts"]?.arrayValue?.count == 1)
                    Self.expectError(try await commands.call("contacts.create", args: ["name": .string("customer-service")]), "conflict", "args.name", "duplicate")
                    Self.expectError(try await commands.call("contacts.create", args: ["name": .string("x"), "email": .string("nope")]),
                                     "invalid_argument", "args.email", "bad email")

                    let titles = try await commands.call("titles.list")
                    #expect(titles["result"]?["titles"] == .array(["Mr.", "Mrs.", "Ms.", "Dr."].map(JSONValue.string)))

                    let open = try await commands.call("threads.list", args: ["contact": .string("customer-service")])
                    #expect(open["result"]?["threads"]?.arrayValue?.map { $0["thread_id"] } == [.string("T-1")])
                    #expect(open["result"]?["threads"]?.arrayValue?.first?["customer_no"] == .string("C-1"))
                    let closed = try await commands.call("threads.close", args: ["thread_id": .string("T-1")])
                    #expect(closed["result"]?["open"] == .bool(false))
                    let stillOpen = try await commands.call("threads.list")
                    #expect(stillOpen["result"]?["threads"]?.arrayValue?.map { $0["thread_id"] } == [.string("T-2")])
                    let closedList = try await commands.call("threads.list", args: ["status": .string("closed")])
                    #expect(closedList["result"]?["threads"]?.arrayValue?.map { $0["thread_id"] } == [.string("T-1")])
                    Self.expectError(try await commands.call("threads.close", args: ["thread_id": .string("T-404")]), "not_found", "args.thread_id", "unknown")
                    Self.expectError(try await commands.call("threads.list", args: ["status": .string("pending")]), "invalid_argument", "args.status", "status")

                    let visitors = try await commands.call("carts.list", args: ["status": .string("visitor")])
                    #expect(visitors["result"]?["carts"]?.arrayValue?.map { $0["id"] } == [.string("K-visitor")])
                    let abandoned = try await commands.call("carts.list", args: ["status": .string("abandoned")])
                    #expect(abandoned["result"]?["carts"]?.arrayValue?.first?["customer_no"] == .string("C-1"))
                    Self.expectError(try await commands.call("carts.list", args: ["status": .string("lost")]), "invalid_argument", "args.status", "status")
                }
            }
        }

        @Test func viewersListButDoNotChange() async throws {
            try await withRunningPatron(try TestSetup(roles: ["patron": "viewer"])) { setup, broker, _ in
                try await withCommands(setup) { commands in
                    for command in ["groups.list", "contacts.list", "titles.list", "threads.list", "carts.list"] {
                        let reply = try await commands.call(command)
                        #expect(reply["ok"] == .bool(true), "\(command)")
                    }
                    for (command, args) in [("groups.create", ["name": JSONValue.string("X")]), ("contacts.create", ["name": .string("X")]),
                                            ("threads.close", ["thread_id": .string("T")]),
                                            ("customers.set_group", ["customer_no": .string("C-1"), "group": .string("Guest")])] {
                        let reply = try await commands.call(command, args: args)
                        #expect(reply["error"]?["code"] == .string("forbidden"), "\(command)")
                    }
                }
            }
        }
    }
}
