import Logging
import Metrics
import PatronAMQP
import ServiceLifecycle

/// Tells systemd how patrond is doing: `READY=1` once storage is open and both broker connections
/// have declared the topology; `STATUS=` lines (connection, events/s); `WATCHDOG=1` only while
/// the connection threads keep turning and no batch is stuck, so a hung consumer is restarted;
/// `STOPPING=1` when graceful shutdown begins. Also samples the ingest queue depth for metrics.
///
/// It is the last service of the group, so on shutdown it is the first to be told.
final class HealthReporter: Service, Sendable {
    private let patron: Patron
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let queueDepth = Gauge(label: "patron_ingest_queue_messages")
    private let deadDepth = Gauge(label: "patron_dead_queue_messages")

    init(patron: Patron, notifier: SystemdNotifier, logger: Logger) {
        self.patron = patron
        self.notifier = notifier
        self.logger = logger
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await report()
        } onGracefulShutdown: {
            self.notifier.stopping()
        }
    }

    private func report() async {
        notifier.status("starting: connecting to the broker")
        while !(patron.ingestClient.state.isConnected && patron.commandClient.state.isConnected) {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
        }
        notifier.ready(status: statusLine(rate: 0))
        logger.info("patrond ready", metadata: ["version": "\(Patron.version)"])

        let watchdog = notifier.watchdogInterval
        let tick = min(watchdog.map { $0 / 4 } ?? .seconds(1), .seconds(1))
        let stallLimit = watchdog.map { $0 / 2 } ?? .seconds(30)
        var lastStatus = ContinuousClock.now
        var lastAccepted = patron.pipeline.totalsSnapshot.accepted
        var reportedStall = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = ContinuousClock.now
            let stalled = stallReason(now: now, limit: stallLimit)
            if let stalled {
                if !reportedStall { logger.error("withholding watchdog ping", metadata: ["reason": "\(stalled)"]) }
                reportedStall = true
            } else {
                reportedStall = false
                if watchdog != nil { notifier.watchdog() }
            }
            if now - lastStatus >= .seconds(5) {
                let accepted = patron.pipeline.totalsSnapshot.accepted
                notifier.status(statusLine(rate: Double(accepted - lastAccepted) / (now - lastStatus).inSeconds))
                lastAccepted = accepted
                lastStatus = now
                await sampleQueues()
            }
            do { try await Task.sleep(for: tick) } catch { return }
        }
    }

    private func stallReason(now: ContinuousClock.Instant, limit: Duration) -> String? {
        if now - patron.ingestClient.lastProgress > limit { return "ingest connection thread not turning" }
        if now - patron.commandClient.lastProgress > limit { return "command connection thread not turning" }
        if let busy = patron.pipeline.busyFor, busy > limit { return "ingest batch in progress for \(busy)" }
        return nil
    }

    private func statusLine(rate: Double) -> String {
        let totals = patron.pipeline.totalsSnapshot
        let broker = OperationsCommands.describe(patron.ingestClient.state)
        let rateText = String(Int(rate.rounded()))
        return "\(broker); \(rateText) events/s; accepted \(totals.accepted), duplicates \(totals.duplicates), rejected \(totals.rejected)"
    }

    private func sampleQueues() async {
        let topology = patron.configuration.topology
        guard let (ingest, dead) = try? await patron.commandClient.withManagement({ broker in
            (try broker.queueInfo(topology.ingestQueue).messageCount, try broker.queueInfo(topology.deadQueue).messageCount)
        }) else { return }
        queueDepth.record(ingest)
        deadDepth.record(dead)
    }
}
