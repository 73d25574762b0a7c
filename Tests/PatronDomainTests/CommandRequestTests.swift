import PatronDomain
import Testing

struct CommandRequestTests {
    @Test func parsesCommandAndArguments() throws {
        let request = try CommandRequest.parse(Array(#"{"command":"customers.search","args":{"city":"Donostia","limit":50,"newsletter":true}}"#.utf8)).get()
        #expect(request.command == "customers.search")
        #expect(request.args["city"] == .string("Donostia"))
        #expect(request.args["limit"] == .integer(50))
        #expect(request.args["newsletter"] == .bool(true))
    }

    @Test func argumentsAreOptional() throws {
        #expect(try CommandRequest.parse(Array(#"{"command":"status.get"}"#.utf8)).get().args.isEmpty)
    }

    @Test(arguments: [
        ("nope", "body"), ("[]", "body"), (#"{"args":{}}"#, "command"), (#"{"command":""}"#, "command"),
        (#"{"command":5}"#, "command"), (#"{"command":"x","args":[1]}"#, "args"), (#"{"command":"x","argz":{}}"#, "argz"),
    ])
    func refusesMalformedRequests(_ body: String, _ field: String) {
        guard case .failure(let error) = CommandRequest.parse(Array(body.utf8)) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(error.code == .invalidArgument)
        #expect(error.field == field)
    }

    @Test func argumentCheckingNamesTheArgument() {
        let args = CommandArguments(["limit": .integer(0), "all": .string("yes"), "ids": .array([.integer(1)])])
        #expect(throws: CommandError(.invalidArgument, field: "args.limit", "must be 1–1000")) {
            try args.integer("limit", in: 1...1000, default: 50)
        }
        #expect(throws: CommandError(.invalidArgument, field: "args.all", "must be true or false")) { try args.bool("all") }
        #expect(throws: CommandError(.invalidArgument, field: "args.ids[0]", "must be a string")) { try args.strings("ids") }
        #expect(throws: CommandError(.invalidArgument, field: "args.all", "unknown argument")) { try args.allowOnly(["limit", "ids"]) }
        let fallback = try? CommandArguments([:]).integer("limit", in: 1...1000, default: 50)
        #expect(fallback == 50)
    }
}
