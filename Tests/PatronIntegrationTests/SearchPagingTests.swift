import PatronAMQP
import PatronDomain
import Testing

extension BrokerBacked {
    /// Paging `customers.search` over the broker while events keep adding and renaming
    /// customers: every customer present before paging began is listed exactly once.
    @Suite struct SearchPaging {
        static func profile(_ index: Int, name: String, minute: Int, exchange: String) -> AMQPOutgoingMessage {
            RecordIngest.message("p\(index)-\(minute)", "customer.updated", minute: minute, exchange: exchange,
                                 #"{"customer":{"customer_no":"C-\#(index)","last_name":"\#(name)","email":"c\#(index)@example.com"}}"#)
        }

        @Test(arguments: TestEngine.allCases, ["name", "first_contact"])
        func pagesNeitherSkipNorRepeatWhileIngestRuns(engine: TestEngine, _ sort: String) async throws {
            try await withRunningPatron(try await .on(engine)) { setup, broker, _ in
                let exchange = setup.topology.eventsExchange
                let names = ["García", "Núñez", "Agirre", "Zubizarreta", "López", "Müller", "Pérez", "Øster", "Castaño", "Ibáñez"]
                try await broker.publish((0..<60).map { Self.profile($0, name: names[$0 % names.count], minute: 1, exchange: exchange) })
                try await eventually("60 customers") { try await setup.journalCount() == 60 }
                try await withCommands(setup) { commands in
                    var seen: [String] = []
                    var cursor: JSONValue?
                    var page = 0
                    repeat {
                        // Meanwhile: new customers with names all over the alphabet, and renames
                        // of customers already listed (their sort key moves behind the cursor).
                        try await broker.publish([
                            Self.profile(1000 + page, name: names[(page * 3) % names.count], minute: 2, exchange: exchange),
                            Self.profile(page, name: "Aaberg", minute: 3, exchange: exchange),
                        ])
                        var args: [String: JSONValue] = ["sort": .string(sort), "limit": .integer(7)]
                        if let cursor { args["cursor"] = cursor }
                        let reply = try await commands.call("customers.search", args: args)
                        let result = try #require(reply["result"], "\(reply)")
                        seen += (result["customers"]?.arrayValue ?? []).compactMap { $0["customer_no"]?.stringValue }
                        cursor = result["next_cursor"] == .null ? nil : result["next_cursor"]
                        page += 1
                    } while cursor != nil && page < 100
                    let original = Set((0..<60).map { "C-\($0)" })
                    #expect(seen.count == Set(seen).count, "a customer was listed twice")
                    if sort == "first_contact" {
                        // Renames do not move a customer in this order: every one is listed.
                        #expect(original.isSubset(of: Set(seen)))
                    } else {
                        // Renamed customers moved before the cursor; all others are listed.
                        let renamed = Set((0..<page).map { "C-\($0)" })
                        #expect(original.subtracting(renamed).isSubset(of: Set(seen)))
                    }
                }
            }
        }
    }
}
