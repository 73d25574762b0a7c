import ArgumentParser
import PatronAMQP
import PatronDomain
import PatronService

extension Patronctl {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show patrond's connection, queue depths, last event time and counts.",
            discussion: "Queue depths come from the broker itself, so they show even when patrond is down.")

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reportingFailures {
                let connection = self.connection
                let report = try await connection.withPatron { commands, client, configuration -> JSONValue in
                    let names = configuration.topology
                    let queues = try await client.withManagement { broker -> JSONValue in
                        var result: [String: JSONValue] = [:]
                        for (label, name) in names.watchedQueues {
                            if let info = try? broker.queueInfo(name) {
                                result[label] = .object(["name": .string(name), "messages": .integer(Int64(info.messageCount)),
                                                         "consumers": .integer(Int64(info.consumerCount))])
                            } else {
                                result[label] = .object(["name": .string(name), "missing": .bool(true)])
                            }
                        }
                        return .object(JSONObject(result))
                    }
                    let daemon: JSONValue
                    do {
                        daemon = try await connection.ask(commands, "status.get")
                    } catch let failure as CLIFailure where failure.code == 69 {
                        daemon = .object(["unreachable": .string(failure.message)])
                    }
                    return .object(["queues": queues, "patrond": daemon])
                }
                if connection.json {
                    Output.json(report)
                    return
                }
                let daemon = report["patrond"]
                if let unreachable = daemon?["unreachable"]?.stringValue {
                    print("patrond       NOT ANSWERING (\(unreachable))")
                } else {
                    print("patrond       \(Output.text(daemon?["version"])), up since \(Output.time(daemon?["started_at"]))")
                    print("broker        \(Output.text(daemon?["broker"]))")
                    print("last event    received \(Output.time(daemon?["journal"]?["last_received_at"])), occurred \(Output.time(daemon?["journal"]?["last_occurred_at"]))")
                    let journal = daemon?["journal"]
                    print("journal       \(Output.text(journal?["events"])) events, \(Output.text(journal?["duplicates"])) duplicates ignored, "
                          + "\(Output.text(journal?["suppressed"])) dropped as older than an erasure")
                    let since = daemon?["since_start"]
                    print("since start   \(Output.text(since?["accepted"])) accepted, \(Output.text(since?["duplicates"])) duplicates, \(Output.text(since?["rejected"])) rejected, "
                          + "\(Output.text(since?["suppressed"])) dropped as older than an erasure")
                    let outbox = daemon?["dispatch_unpublished"]
                    print("dispatch      \(Output.text(outbox?["email"])) email and \(Output.text(outbox?["sms"])) SMS jobs not yet published")
                }
                print("")
                var rows: [[String]] = []
                for label in try connection.loadConfiguration().topology.watchedQueues.map(\.label) {
                    let queue = report["queues"]?[label]
                    if queue?["missing"]?.boolValue == true {
                        rows.append([label, Output.text(queue?["name"]), "missing", "-"])
                    } else {
                        rows.append([label, Output.text(queue?["name"]), Output.text(queue?["messages"]), Output.text(queue?["consumers"])])
                    }
                }
                Output.table(["QUEUE", "NAME", "MESSAGES", "CONSUMERS"], rows)
                if daemon?["unreachable"] != nil { throw CLIFailure(code: 69, message: "patrond is not answering") }
            }
        }
    }
}
