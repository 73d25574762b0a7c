import ArgumentParser
import Foundation
import Logging
import Metrics
import PatronService
import Prometheus

/// The Patron daemon. Configuration errors exit with 78 (EX_CONFIG), which the systemd unit
/// lists in `RestartPreventExitStatus=` so a broken file does not cause a restart loop.
@main
struct Patrond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patrond",
        abstract: "Patron's customer-record daemon: consumes events from RabbitMQ and keeps customer records current.",
        discussion: """
            Environment overrides: \(ConfigurationLoader.environmentOverrides.joined(separator: ", ")).
            Signals: SIGTERM/SIGINT stop gracefully (the batch in hand is committed and acknowledged); SIGHUP reloads the configuration.
            """,
        version: Patron.version)

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config = "/etc/patron/patrond.yaml"

    @Flag(name: .long, help: "Validate the configuration and exit (0 if valid, 78 if not).")
    var checkConfig = false

    func run() async throws {
        let configuration: PatronConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("patrond: configuration error: \(error)\n".utf8))
            throw ExitCode(ConfigurationError.exitCode)
        }
        // Templates are configuration too: a broken one stops the start, naming its file, and
        // exit code 78 keeps systemd from restarting into the same error.
        do {
            _ = try Patron.loadTemplates(configuration)
        } catch {
            FileHandle.standardError.write(Data("patrond: dispatch templates: \(error)\n".utf8))
            throw ExitCode(ConfigurationError.exitCode)
        }
        if checkConfig {
            print("patrond: configuration \(config) is valid")
            return
        }
        PatronLogging.bootstrap(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "patrond")
        let patron: Patron
        do {
            patron = try await Patron(configuration: configuration, configurationPath: config, logger: logger,
                                metricsRegistry: registry)
        } catch {
            logger.critical("cannot open storage", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        logger.info("patrond starting", metadata: [
            "version": "\(Patron.version)", "broker": "\(configuration.broker.urls.map(\.description).joined(separator: ","))",
            "database": "\(patron.storage.description)",
        ])
        try await patron.run()
        logger.info("patrond stopped")
    }
}
