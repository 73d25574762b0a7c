import PatronDomain
import Testing

extension BrokerBacked {
    /// Every command of the command server against every role: refused exactly below its
    /// minimum role (EVENTS.md: viewer reads; operator tags, notes and more; admin erases, merges,
    /// unmerges and imports).
    @Suite struct AuthorizationMatrix {
        static let minimumRoles: [String: String] = [
            "status.get": "viewer", "customers.search": "viewer", "customers.get": "viewer", "stats.get": "viewer",
            "groups.list": "viewer", "contacts.list": "viewer", "titles.list": "viewer", "threads.list": "viewer",
            "carts.list": "viewer", "schedules.list": "viewer",
            "dead.list": "operator", "customers.tag": "operator", "customers.untag": "operator", "customers.note": "operator",
            "customers.set_group": "operator", "threads.close": "operator", "exports.run": "operator", "exports.log": "operator", "exports.fetch": "operator", "reports.run": "operator",
            "schedules.create": "operator", "schedules.delete": "operator", "schedules.run_now": "operator",
            "dispatch.send": "operator", "dispatch.unsubscribe": "operator",
            "customers.merge": "admin", "customers.unmerge": "admin", "customers.erase": "admin", "customers.import": "admin",
            "groups.create": "admin", "contacts.create": "admin", "dead.replay": "admin",
        ]
        static let ranks = ["viewer": 0, "operator": 1, "admin": 2]

        @Test(arguments: ["viewer", "operator", "admin"], TestEngine.allCases)
        func everyCommandIsRefusedBelowItsRoleAndOnlyThere(_ role: String, engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine, roles: ["patron": role])) { setup, _, _ in
                try await withCommands(setup) { commands in
                    for (command, minimum) in Self.minimumRoles.sorted(by: { $0.key < $1.key }) {
                        // No arguments: a permitted command then fails on them (or answers), never as forbidden.
                        let reply = try await commands.call(command)
                        let refused = reply["error"]?["code"] == .string("forbidden")
                        #expect(refused == (Self.ranks[role]! < Self.ranks[minimum]!), "\(role) × \(command): \(reply)")
                        #expect(reply["error"]?["code"] != .string("invalid_argument") || reply["error"]?["field"] != .string("command"),
                                "\(command) is not a command patrond knows")
                    }
                }
            }
        }
    }
}
