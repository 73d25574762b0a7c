import ArgumentParser
import PatronService

/// patronctl: the operator's command line. It talks to patrond over the broker (like every
/// integrator), so it is subject to the same roles and appears in the same audit log.
@main
struct Patronctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patronctl",
        abstract: "Inspect and operate a running patrond over RabbitMQ.",
        discussion: """
            Exit codes: 0 success; 64 usage; 65 invalid argument (migrate-storage: a table differs); 66 not found; 69 broker or patrond unreachable; \
            70 internal error in patrond; 75 conflict; 77 forbidden (the broker user has no role for this); \
            78 configuration error.
            """,
        version: Patron.version,
        subcommands: [Status.self, Customers.self, Stats.self, Groups.self, Contacts.self, Titles.self, Threads.self, Carts.self, Exports.self, Reports.self, Schedules.self, Dispatch.self, Dead.self, MigrateStorage.self])
}
