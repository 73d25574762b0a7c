import Foundation
import Logging
import PatronAMQP
import PatronDomain
import PatronPhone
import PatronStorage
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// One running Patron: storage, two broker connections (ingest; commands), the ingest pipeline,
/// the command server, metrics and systemd integration, run as one ServiceGroup.
///
/// `patrond` and the integration tests build it the same way, so what is tested is what runs.
///
/// ## Topics
/// - ``init(configuration:configurationPath:logger:notifier:metricsRegistry:handleSignals:)``
/// - ``run()``
/// - ``shutdown()``
public final class Patron: Sendable {
    public static let version = "0.1.0"

    public let configuration: PatronConfiguration
    public let configurationPath: String?
    public let storage: Storage
    public let store: any RecordStore
    public let ingestClient: AMQPClient
    public let commandClient: AMQPClient
    /// Its own connection, so a bulk send's publishing never waits behind command replies.
    public let dispatchClient: AMQPClient
    public let pipeline: IngestPipeline
    let announcements: AnnouncementRelay
    let exportRetention: ExportRetention
    let scheduler: Scheduler
    let dispatchRelay: DispatchRelay
    /// The jobs and the rules' timers (the bench waits for the timers that ingest set).
    public let dispatchOutbox: any DispatchOutbox
    let dispatchTimers: DispatchTimers
    let templates: TemplateStore
    public let commands: CommandServer
    public let metricsServer: MetricsServer?
    public let startedAt = Timestamp.now
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let handleSignals: Bool
    private let runningGroup = Mutex<(group: ServiceGroup?, shutdownRequested: Bool)>((nil, false))
    /// Settings in force after reloads (the reloadable part of the configuration).
    private let active: Mutex<PatronConfiguration>

    /// Opens and migrates the database and prepares (does not start) every service.
    ///
    /// - Throws: storage errors (unwritable data directory, unreachable PostgreSQL, schema newer
    ///   than this binary), and a dispatch template that does not load
    ///   (``TemplateLibrary/LoadError`` names the file).
    public init(configuration: PatronConfiguration, configurationPath: String?, logger: Logger,
                notifier: SystemdNotifier = SystemdNotifier(), metricsRegistry: PrometheusCollectorRegistry? = nil,
                handleSignals: Bool = true) async throws {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.notifier = notifier
        self.logger = logger
        self.active = Mutex(configuration)
        self.handleSignals = handleSignals
        // Everything that may fail comes before the database opens, which then needs closing.
        templates = TemplateStore(try Self.loadTemplates(configuration))
        let location = try configuration.storage.location()
        storage = try await notifier.extendingStartTimeout(status: "opening the database (a migration may take minutes)") {
            try await Storage.open(location, logger: logger)
        }
        let stores = try storage.stores()
        // Before READY, so that search answers from the first command.
        try await notifier.extendingStartTimeout(status: "loading the search index") { [storage] in try await storage.updateSearchIndex() }
        let phones = LibPhoneNumberNormalizer()
        let hasher = HMACIdentityHasher(key: configuration.erasureHashKey)
        let applier = RecordApplier(rules: configuration.records, hasher: hasher)
        let dispatch = configuration.dispatch
        let tokens = UnsubscribeTokens(secret: configuration.erasureHashKey)
        let composer = DispatchComposer(templates: templates, settings: dispatch, phones: phones,
                                        defaultCountry: configuration.records.defaultCountry, tokens: tokens)
        let ruleRunner = DispatchRuleRunner(composer: composer, rules: dispatch.rules, firings: DispatchFiringSignal())
        let records = storage.records(applier: applier, reactor: dispatch.rules.isEmpty ? nil : ruleRunner)
        store = records
        let names = configuration.topology
        ingestClient = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "patrond-ingest"),
                                  logger: logger)
        commandClient = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "patrond-commands"),
                                   logger: logger)
        dispatchClient = AMQPClient(configuration: configuration.clientConfiguration(connectionName: "patrond-dispatch"),
                                    logger: logger)
        for client in [ingestClient, commandClient, dispatchClient] {
            client.onConnect { broker in try Topology.declare(names, on: broker) }
        }
        pipeline = IngestPipeline(client: ingestClient, store: store,
                                  decoder: EventDecoder(rules: configuration.records, phones: phones), topology: names,
                                  prefetch: configuration.broker.prefetch,
                                  batchSize: configuration.ingest.batchSize, logger: logger)
        announcements = AnnouncementRelay(outbox: stores.announcements, client: commandClient,
                                          exchange: names.notificationsExchange, logger: logger)
        let exportLog = stores.exportLog
        exportRetention = ExportRetention(log: exportLog, directory: configuration.exportsDirectory,
                                          retentionDays: configuration.exports.retentionDays, logger: logger)
        let exporter = CustomerExporter(stores: stores, directory: configuration.exportsDirectory, currency: configuration.records.defaultCurrency,
                                        pdfFont: configuration.exports.pdfFont, zone: configuration.records.businessZone)
        dispatchOutbox = stores.dispatchOutbox
        dispatchRelay = DispatchRelay(outbox: dispatchOutbox, client: dispatchClient, exchange: names.dispatchExchange,
                                      rateLimits: dispatch.rateLimits, logger: logger)
        dispatchTimers = DispatchTimers(outbox: dispatchOutbox, store: records, runner: ruleRunner, logger: logger)
        let progressClient = dispatchClient
        let sender = DispatchSender(store: records, export: stores.customerRows, composer: composer, logger: logger) { report in
            // Progress is for whoever watches now: not persistent, and a lost one is harmless.
            var properties = AMQPProperties(contentType: "application/json")
            properties.type = "dispatch.progress"
            try? await progressClient.publish(AMQPOutgoingMessage(exchange: names.notificationsExchange, routingKey: "dispatch.progress",
                                                                  properties: properties, body: CommandServer.encode(report)))
        }
        let scheduleActions = ScheduleActions(exporter: exporter, phones: phones, rules: configuration.records,
                                              defaultLanguage: configuration.defaultLanguage, sender: sender, outbox: stores.fileDeliveries)
        let schedules = stores.schedules
        scheduler = Scheduler(store: schedules, actions: scheduleActions, catchUpMissed: configuration.schedules.catchUpMissed, logger: logger,
                              sharedStorage: storage.isShared)
        commands = CommandServer(client: commandClient, queue: names.commandsQueue, deadExchange: names.deadExchange,
                                 roles: configuration.roles, audit: stores.audit, logger: logger)
        if let registry = metricsRegistry, let host = configuration.metrics.listenHost {
            metricsServer = MetricsServer(host: host, port: configuration.metrics.listenPort, registry: registry, logger: logger)
        } else {
            metricsServer = nil
        }

        OperationsCommands.register(on: commands, patron: self)
        let directory = stores.directory
        CustomerCommands(store: records, directory: directory, search: stores.search, stats: stores.stats,
                         phones: phones, rules: configuration.records).register(on: commands)
        let catalog = stores.catalog
        CatalogCommands(catalog: catalog, directory: directory, titles: configuration.records.titles).register(on: commands)
        let importer = CustomerImport(rules: configuration.records, phones: phones, hasher: hasher)
        ImportCommands(loader: CustomerListLoader(store: records, importer: importer), catalog: catalog).register(on: commands)
        ExportCommands(exporter: exporter, log: exportLog, phones: phones, rules: configuration.records,
                       defaultLanguage: configuration.defaultLanguage).register(on: commands)
        ScheduleCommands(store: schedules, scheduler: scheduler, actions: scheduleActions).register(on: commands)
        DispatchCommands(sender: sender, tokens: tokens, store: records, phones: phones, rules: configuration.records).register(on: commands)
    }

    /// The configured templates, checked against the rules that use them.
    public static func loadTemplates(_ configuration: PatronConfiguration) throws -> TemplateLibrary {
        let dispatch = configuration.dispatch
        guard let directory = dispatch.templatesDirectory else { return .empty }
        let library = try TemplateLibrary.load(directory: directory, defaultLanguage: configuration.defaultLanguage)
        for rule in dispatch.rules {
            guard let purpose = library.purpose(of: rule.template) else {
                throw ConfigurationError(key: "dispatch.rules.\(rule.name).template", reason: "no template '\(rule.template)' in \(directory)")
            }
            guard purpose == rule.purpose else {
                throw ConfigurationError(key: "dispatch.rules.\(rule.name).purpose",
                                         reason: "template '\(rule.template)' is \(purpose.rawValue), the rule says \(rule.purpose.rawValue)")
            }
        }
        if dispatch.unsubscribeURL == nil, let marketing = library.names.first(where: { library.purpose(of: $0) == .marketing }) {
            throw ConfigurationError(key: "dispatch.unsubscribe_url",
                                     reason: "required: template '\(marketing)' is marketing, and marketing email must carry an unsubscribe link")
        }
        return library
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT, or ``shutdown()``), then returns.
    public func run() async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ingestClient), .init(service: commandClient), .init(service: dispatchClient), .init(service: pipeline),
            .init(service: commands), .init(service: announcements), .init(service: dispatchRelay), .init(service: dispatchTimers),
            .init(service: exportRetention), .init(service: scheduler), .init(service: SearchIndexFollower(update: storage.updateSearchIndex, logger: logger)),
        ]
        if let metricsServer { services.append(.init(service: metricsServer)) }
        if handleSignals, configurationPath != nil {
            services.append(.init(service: ConfigurationReloader(patron: self)))
        }
        // Last, so that it is the first told of a shutdown and says STOPPING=1 at once.
        services.append(.init(service: HealthReporter(patron: self, notifier: notifier, logger: logger)))
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfiguration.gracefulShutdownSignals = handleSignals ? [UnixSignal.sigterm, UnixSignal.sigint] : []
        groupConfiguration.maximumGracefulShutdownDuration = Duration.seconds(configuration.shutdownGraceSeconds)
        let group = ServiceGroup(configuration: groupConfiguration)
        let alreadyRequested = runningGroup.withLock { state -> Bool in
            state.group = group
            return state.shutdownRequested
        }
        if alreadyRequested { await group.triggerGracefulShutdown() }
        do {
            try await group.run()
        } catch {
            await storage.close()
            throw error
        }
        await storage.close()
    }

    /// Starts graceful shutdown, as SIGTERM does; safe to call before or during ``run()``.
    public func shutdown() async {
        let group = runningGroup.withLock { state -> ServiceGroup? in
            state.shutdownRequested = true
            return state.group
        }
        await group?.triggerGracefulShutdown()
    }

    /// Rereads the configuration file (SIGHUP). Broker settings that changed reconnect both
    /// connections; unchanged ones keep them. Log level, batch size and roles apply at once;
    /// topology, storage and metrics need a restart and say so.
    func reload() async {
        guard let configurationPath else { return }
        notifier.reloading()
        let new: PatronConfiguration
        do {
            new = try ConfigurationLoader.load(path: configurationPath)
        } catch {
            logger.error("reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
            notifier.ready(status: "reload failed (\(error)); running with the previous configuration")
            return
        }
        do {
            templates.replace(with: try Self.loadTemplates(new))
        } catch {
            logger.error("reload failed: templates did not load; keeping the running configuration and templates",
                         metadata: ["error": "\(error)"])
            notifier.ready(status: "reload failed (\(error)); running with the previous configuration")
            return
        }
        let old = active.withLock { $0 }
        PatronLogging.currentLevel = Logger.Level(rawValue: new.logLevel) ?? .info
        pipeline.updateBatchSize(min(new.ingest.batchSize, Int(new.broker.prefetch)))
        commands.updateRoles(new.roles)
        if new.broker != old.broker {
            pipeline.updatePrefetch(new.broker.prefetch)
            ingestClient.reconfigure(new.clientConfiguration(connectionName: "patrond-ingest"), forceReconnect: true)
            commandClient.reconfigure(new.clientConfiguration(connectionName: "patrond-commands"), forceReconnect: true)
            dispatchClient.reconfigure(new.clientConfiguration(connectionName: "patrond-dispatch"), forceReconnect: true)
            logger.info("broker settings changed; reconnecting")
        }
        for (name, changed) in [("topology", new.topology != old.topology), ("storage", new.storage != old.storage),
                                ("metrics", new.metrics != old.metrics), ("dispatch", new.dispatch != old.dispatch), ("shutdown", new.shutdownGraceSeconds != old.shutdownGraceSeconds),
                                ("records", new.records != old.records || new.erasureHashKey != old.erasureHashKey
                                    || new.defaultLanguage != old.defaultLanguage)] where changed {
            logger.warning("configuration section changed but applies only after a restart", metadata: ["section": "\(name)"])
        }
        active.withLock { current in
            current.broker = new.broker
            current.ingest = new.ingest
            current.roles = new.roles
            current.logLevel = new.logLevel
        }
        logger.info("configuration reloaded")
        notifier.ready(status: "configuration reloaded")
    }
}

/// Turns SIGHUP into ``Patron/reload()``.
final class ConfigurationReloader: Service, Sendable {
    private let patron: Patron

    init(patron: Patron) {
        self.patron = patron
    }

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await patron.reload()
        }
    }
}
