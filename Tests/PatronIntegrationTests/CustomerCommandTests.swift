import GRDB
import PatronAMQP
import PatronDomain
import Testing

extension BrokerBacked {
    /// `customers.get`, `customers.unmerge` and `customers.erase` over the broker, on records
    /// built by real events.
    @Suite struct CustomerCommands {
        static func publishAnaAndBen(_ setup: TestSetup, _ broker: TestBroker) async throws {
            let exchange = setup.topology.eventsExchange
            try await broker.publish([
                RecordIngest.message("a1", "booking.created", minute: 1, exchange: exchange,
                                     #"{"customer":\#(RecordIngest.ana),"booking":{"ref":"BK-1","status":"confirmed","amount":"412.50"}}"#),
                RecordIngest.message("b1", "cart.updated", minute: 2, exchange: exchange,
                                     #"{"customer":{"email":"ben@example.com","first_name":"Ben"},"cart":{"id":"CART-1","status":"active"}}"#),
                // The bridge: Ben's email with Ana's mobile merges Ben (P-000002) into Ana.
                RecordIngest.message("m1", "customer.updated", minute: 3, exchange: exchange, #"{"customer":{"email":"ben@example.com","mobile":"+34 600 111 222"}}"#),
            ])
            try await eventually("three events") { try await setup.journalCount() == 3 }
        }

        @Test(arguments: TestEngine.allCases) func getFindsTheRecordByNumberEmailOrPhoneInAnyForm(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                try await Self.publishAnaAndBen(setup, broker)
                try await withCommands(setup) { commands in
                    let byNumber = try await commands.call("customers.get", args: ["customer_no": .string("C-1")])
                    let record = try #require(byNumber["result"])
                    #expect(record["customer_no"] == .string("C-1"))
                    #expect(record["last_name"] == .string("García"))
                    #expect(record["emails"] == .array([.string("Ana@Example.com"), .string("ben@example.com")]))
                    #expect(record["total_spent"] == .object(["EUR": .string("412.50")]))
                    #expect(record["bookings"]?.arrayValue?.count == 1)
                    #expect(record["carts"]?.arrayValue?.first?["id"] == .string("CART-1"))
                    #expect(record["consent"]?.arrayValue?.first?["opted_in"] == .bool(true))
                    for args: [String: JSONValue] in [["email": .string(" ANA@example.com ")], ["phone": .string("600 11 12 22")],
                                                       ["customer_no": .string("P-000002")]] {
                        let other = try await commands.call("customers.get", args: args)
                        #expect(other["result"]?["customer_no"] == .string("C-1"), "\(args)")
                    }
                }
            }
        }

        @Test(arguments: TestEngine.allCases) func searchOverTheBroker(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                try await Self.publishAnaAndBen(setup, broker)
                try await withCommands(setup) { commands in
                    let found = try await commands.call("customers.search", args: ["name": .string("garcia"), "city": .string("donostia")])
                    #expect(found["result"]?["total"] == .integer(1))
                    #expect(found["result"]?["customers"]?.arrayValue?.first?["customer_no"] == .string("C-1"))
                    #expect(found["result"]?["next_cursor"] == .null)
                    let first = try await commands.call("customers.search", args: ["limit": .integer(1), "sort": .string("first_contact")])
                    #expect(first["result"]?["total"] == .integer(1), "Ben was merged into Ana")
                    let bad = try await commands.call("customers.search", args: ["citty": .string("x")])
                    #expect(bad["error"]?["field"] == .string("args.citty"))
                }
            }
        }

        @Test func badLookupsNameTheirField() async throws {
            try await withRunningPatron { setup, broker, _ in
                try await withCommands(setup) { commands in
                    let cases: [([String: JSONValue], String, String)] = [
                        ([:], "invalid_argument", "args.customer_no"),
                        (["customer_no": .string("C-1"), "email": .string("a@example.com")], "invalid_argument", "args.email"),
                        (["email": .string("not-an-address")], "invalid_argument", "args.email"),
                        (["phone": .string("12")], "invalid_argument", "args.phone"),
                        (["customer_no": .integer(5)], "invalid_argument", "args.customer_no"),
                        (["customer_no": .string("C-404")], "not_found", "args.customer_no"),
                        (["nickname": .string("Ana")], "invalid_argument", "args.nickname"),
                    ]
                    for (args, code, field) in cases {
                        let reply = try await commands.call("customers.get", args: args)
                        #expect(reply["error"]?["code"] == .string(code), "\(args)")
                        #expect(reply["error"]?["field"] == .string(field), "\(args)")
                    }
                }
            }
        }

        @Test(arguments: TestEngine.allCases) func unmergeSplitsAndEraseRemovesThroughCommands(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                try await Self.publishAnaAndBen(setup, broker)
                try await withCommands(setup) { commands in
                    let split = try await commands.call("customers.unmerge", args: ["customer_no": .string("P-000002")])
                    #expect(split["result"]?["customer"]?["customer_no"] == .string("C-1"))
                    #expect(split["result"]?["restored"]?["customer_no"] == .string("P-000002"))
                    #expect(split["result"]?["restored"]?["first_name"] == .string("Ben"))
                    #expect(split["result"]?["restored"]?["carts"]?.arrayValue?.count == 1, "Ben's cart goes back with him")
                    let again = try await commands.call("customers.unmerge", args: ["customer_no": .string("P-000002")])
                    #expect(again["error"]?["code"] == .string("conflict"))
                    let unknown = try await commands.call("customers.unmerge", args: ["customer_no": .string("C-404")])
                    #expect(unknown["error"]?["code"] == .string("not_found"))

                    let erased = try await commands.call("customers.erase", args: ["email": .string("ana@example.com")])
                    #expect(erased["result"] == .object(["customer_no": .string("C-1")]))
                    let gone = try await commands.call("customers.get", args: ["customer_no": .string("C-1")])
                    #expect(gone["error"]?["code"] == .string("not_found"))
                    let lastNames = try await setup.texts("SELECT last_name FROM customers WHERE last_name IS NOT NULL")
                    #expect(lastNames.isEmpty)
                }
            }
        }

        @Test(arguments: TestEngine.allCases) func staffTagNoteAndMergeThroughCommands(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                try await Self.publishAnaAndBen(setup, broker)
                try await broker.publish([RecordIngest.message("c2", "customer.updated", minute: 5, exchange: setup.topology.eventsExchange,
                                                               #"{"customer":{"customer_no":"C-2","email":"ana.g@example.com"}}"#)])
                try await eventually("four events") { try await setup.journalCount() == 4 }
                try await withCommands(setup) { commands in
                    let tagged = try await commands.call("customers.tag", args: ["customer_no": .string("C-1"), "tag": .string("vip")])
                    #expect(tagged["result"]?["tags"] == .array([.string("VIP")]))
                    let untagged = try await commands.call("customers.untag", args: ["customer_no": .string("C-1"), "tag": .string("VIP")])
                    #expect(untagged["result"]?["tags"] == .array([]))
                    let noted = try await commands.call("customers.note", args: ["customer_no": .string("C-1"), "text": .string("Late check-in")])
                    #expect(noted["result"]?["notes"]?.arrayValue?.first?["text"] == .string("Late check-in"))
                    #expect(noted["result"]?["notes"]?.arrayValue?.first?["author"] == .string("patron"))
                    let merged = try await commands.call("customers.merge", args: ["into": .string("C-1"), "from": .string("C-2")])
                    #expect(merged["result"]?["customer_no"] == .string("C-1"))
                    #expect(merged["result"]?["emails"]?.arrayValue?.contains(.string("ana.g@example.com")) == true)

                    for index in 1...9 {
                        _ = try await commands.call("customers.tag", args: ["customer_no": .string("C-1"), "tag": .string("t\(index)")])
                    }
                    let cases: [(String, [String: JSONValue], String, String)] = [
                        ("customers.tag", ["customer_no": .string("C-1"), "tag": .string("t10")], "conflict", "args.tag"),
                        ("customers.tag", ["customer_no": .string("C-1")], "invalid_argument", "args.tag"),
                        ("customers.tag", ["customer_no": .string("C-404"), "tag": .string("x")], "not_found", "args.customer_no"),
                        ("customers.note", ["customer_no": .string("C-1"), "text": .string("  ")], "invalid_argument", "args.text"),
                        ("customers.merge", ["into": .string("C-1"), "from": .string("C-2")], "conflict", "args.from"),
                        ("customers.merge", ["into": .string("C-1")], "invalid_argument", "args.from"),
                    ]
                    for (command, args, code, field) in cases {
                        let reply = try await commands.call(command, args: args)
                        #expect(reply["error"]?["code"] == .string(code), "\(command) \(args)")
                        #expect(reply["error"]?["field"] == .string(field), "\(command) \(args)")
                    }
                }
            }
        }

        @Test func onlyAdminsMergeUnmergeAndErase() async throws {
            try await withRunningPatron(try TestSetup(roles: ["patron": "operator"])) { setup, broker, _ in
                try await Self.publishAnaAndBen(setup, broker)
                try await withCommands(setup) { commands in
                    #expect(try await commands.call("customers.get", args: ["customer_no": .string("C-1")])["ok"] == .bool(true))
                    let tagged = try await commands.call("customers.tag", args: ["customer_no": .string("C-1"), "tag": .string("VIP")])
                    #expect(tagged["ok"] == .bool(true), "operators tag")
                    for command in ["customers.unmerge", "customers.erase", "customers.merge"] {
                        let reply = try await commands.call(command, args: ["customer_no": .string("C-1")])
                        #expect(reply["error"]?["code"] == .string("forbidden"), "\(command)")
                    }
                }
            }
        }
    }
}
