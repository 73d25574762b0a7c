import ArgumentParser
import Foundation
import Logging
import PatronAMQP
import PatronDomain
import PatronService
import Synchronization

/// Options every subcommand shares: where the broker is and how to print.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "patrond's configuration file, read for the broker URL and object names (default: \(Self.defaultConfig)).")
    var config: String?

    @Option(name: .long, help: "Broker URL with patronctl's own user (default: $PATRON_AMQP_URL, else the configuration's).")
    var url: String?

    @Option(name: .long, help: "Seconds to wait for the broker and for patrond's reply.")
    var timeout = 10

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (1...600).contains(timeout) else { throw ValidationError("--timeout must be 1–600 seconds") }
    }

    static let defaultConfig = "/etc/patron/patrond.yaml"

    /// Reads the configuration for topology names and the default URL, as a client: the
    /// daemon's secrets are neither needed nor read. A file named with `--config` must exist; the
    /// default one may be absent only when the broker is named otherwise (`--url`,
    /// `$PATRON_AMQP_URL`), as on a workstation with no copy of the daemon's file.
    func loadConfiguration() throws -> PatronConfiguration {
        var environment = ProcessInfo.processInfo.environment
        environment["PATRON_ERASURE_HASH_KEY"] = nil
        if let url { environment["PATRON_AMQP_URL"] = url }
        let brokerNamed = !(environment["PATRON_AMQP_URL"] ?? "").isEmpty
        do {
            if config == nil, brokerNamed, !FileManager.default.fileExists(atPath: Self.defaultConfig) {
                return try ConfigurationLoader.parse(yaml: "{}", environment: environment, reader: .client)
            }
            return try ConfigurationLoader.load(path: config ?? Self.defaultConfig, environment: environment, reader: .client)
        } catch let error as ConfigurationError {
            throw CLIFailure(code: ConfigurationError.exitCode, message: "configuration error: \(error)")
        }
    }

    /// Connects, runs `body` with a command client, and always closes the connection.
    func withPatron<T: Sendable>(_ body: @Sendable (CommandClient, AMQPClient, PatronConfiguration) async throws -> T) async throws -> T {
        let configuration = try loadConfiguration()
        Output.businessZone.withLock { $0 = configuration.records.businessZone }
        var logger = Logger(label: "patronctl")
        logger.logLevel = .critical
        let client = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "patronctl"), logger: logger)
        let commands = CommandClient(client: client, exchange: configuration.topology.commandsExchange,
                                     routingKey: configuration.topology.commandsQueue)
        let runner = Task { try await client.run() }
        defer {
            commands.stop()
            client.shutdown()
            runner.cancel()
        }
        do {
            try await client.waitUntilConnected(timeout: .seconds(timeout), failingFast: true)
        } catch let error as AMQPError {
            let urls = configuration.broker.urls.map(\.description).joined(separator: ", ")
            throw CLIFailure(code: 69, message: "cannot reach the broker (\(urls)): \(error.summary)")
        }
        commands.start()
        let result = try await body(commands, client, configuration)
        client.shutdown()
        _ = await runner.result
        return result
    }

    /// Sends a command and returns its `result`, or throws with the exit code its error maps to.
    func ask(_ commands: CommandClient, _ command: String, args: [String: JSONValue] = [:], messageID: String? = nil) async throws -> JSONValue {
        let reply: JSONValue
        do {
            reply = try await commands.call(command, args: args, timeout: .seconds(timeout), messageID: messageID)
        } catch {
            throw CLIFailure(code: 69, message: "\(error)")
        }
        if reply["ok"]?.boolValue == true { return reply["result"] ?? .null }
        let code = reply["error"]?["code"]?.stringValue ?? "internal"
        let field = reply["error"]?["field"]?.stringValue.map { "\($0): " } ?? ""
        let message = reply["error"]?["message"]?.stringValue ?? "no message"
        let exit: Int32 = ["invalid_argument": 65, "not_found": 66, "conflict": 75, "forbidden": 77][code] ?? 70
        throw CLIFailure(code: exit, message: "\(code): \(field)\(message)", reply: reply["error"])
    }
}

/// A failure with its exit code; printed as `patronctl: message` on standard error, or with
/// `--json` as a JSON object on standard output.
struct CLIFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    /// patrond's error reply (`code`, `field`, `message`), when the failure is one.
    var reply: JSONValue?
    var description: String { message }

    /// `{"error": {"message", "exit_code", and patrond's code and field when it answered}}`.
    var json: JSONValue {
        var error: [String: JSONValue] = ["message": .string(message), "exit_code": .integer(Int64(code))]
        if let code = reply?["code"] { error["code"] = code }
        if let field = reply?["field"] { error["field"] = field }
        return .object(["error": .object(JSONObject(error))])
    }
}

/// Runs `body`, turning a ``CLIFailure`` into its message and exit code. With `--json` (an
/// option of every subcommand that talks to patrond) the failure is JSON too, so a script that
/// parses the output reads the error the same way.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CLIFailure {
        if CommandLine.arguments.dropFirst().contains("--json") {
            Output.json(failure.json)
        } else {
            FileHandle.standardError.write(Data("patronctl: \(failure.message)\n".utf8))
        }
        throw ExitCode(failure.code)
    }
}

/// Plain-text output: aligned columns, cut to the terminal width.
enum Output {
    /// The business's zone (`dispatch.timezone` in the configuration read), on whose clock times
    /// are shown to people (EVENTS.md, "Definitions"); `--json` keeps the wire's RFC 3339.
    static let businessZone = Mutex(TimeZone(identifier: "UTC")!)

    /// An RFC 3339 time on the business's clock with its offset (`2026-11-20 11:15:00 +01:00`);
    /// other values as ``text(_:)``.
    static func time(_ value: JSONValue?) -> String {
        guard let local = local(value) else { return text(value) }
        let seconds = local.prefix(19).replacingOccurrences(of: "T", with: " ")
        let offset = local.hasSuffix("Z") ? "+00:00" : String(local.suffix(6))
        return "\(seconds) \(offset)"
    }

    /// The day of an RFC 3339 time on the business's clock.
    static func day(_ value: JSONValue?) -> String {
        local(value).map { String($0.prefix(10)) } ?? text(value)
    }

    /// An RFC 3339 time given as text, again in RFC 3339 on the business's clock; nil for anything else.
    private static func local(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, let time = Timestamp(rfc3339: text) else { return nil }
        return time.rfc3339(in: businessZone.withLock { $0 })
    }

    static func json(_ value: JSONValue) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
    }

    /// The terminal's width, to cut lines at; none when the output is piped or redirected, where
    /// a cut line would lose data (`COLUMNS` still applies when set).
    static var terminalWidth: Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? Int.max
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        let width = terminalWidth
        func line(_ cells: [String]) -> String {
            let text = cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            return text.count > width ? String(text.prefix(max(width - 1, 10))) + "…" : text
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: return text
        case .integer(let number)?: return String(number)
        case .number(let literal)?: return literal
        case .bool(let flag)?: return flag ? "yes" : "no"
        case nil, .null?: return "-"
        default: return "…"
        }
    }
}

extension ConnectionOptions {
    /// Sends one command and prints its result: as JSON with `--json`, else through `render`.
    func run(_ command: String, args: [String: JSONValue] = [:], render: (JSONValue) throws -> Void) async throws {
        let result = try await withPatron { commands, _, _ in try await ask(commands, command, args: args) }
        if json { Output.json(result) } else { try render(result) }
    }
}
