import CPatronShims
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// A reconnecting AMQP 0-9-1 connection that owns one dedicated thread.
///
/// rabbitmq-c is blocking and not thread-safe, so every call into it happens on this client's own
/// thread, never on the Swift concurrency pool; the API here is async and `Sendable`, and hands
/// work to that thread through a mailbox woken by an eventfd. The thread sleeps in poll(2) on the
/// socket and the eventfd and wakes at least once a second, so that rabbitmq-c sends heartbeats
/// and notices a silent broker (two missed heartbeats) even when nothing else happens.
///
/// On any connection failure (broker restart, network cut, missed heartbeats, a channel or
/// connection close) it fails what was in flight, drops the buffered deliveries (their tags are
/// void; the broker redelivers them), waits with exponential backoff and jitter, reconnects to the
/// next URL, reruns the on-connect hooks (topology) and restarts its consumers.
///
/// ## Topics
/// - ``run()``
/// - ``consume(queue:prefetch:)``
/// - ``publish(_:)``
/// - ``ack(_:multiple:)``
/// - ``withManagement(_:)``
public final class AMQPClient: Service, Sendable {
    public struct TLSOptions: Sendable, Equatable {
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        public var verifyPeer: Bool
        public var verifyHostname: Bool

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                    verifyPeer: Bool = true, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }

    public struct Configuration: Sendable, Equatable {
        /// Tried in turn: after a failure the client moves on to the next URL.
        public var urls: [AMQPURL]
        public var tls: TLSOptions
        public var heartbeatSeconds: Int
        public var connectTimeout: Duration
        public var rpcTimeout: Duration
        public var confirmTimeout: Duration
        public var reconnectInitialDelay: Duration
        public var reconnectMaximumDelay: Duration
        /// Shown by the broker (management UI, `rabbitmqctl list_connections`).
        public var connectionName: String

        public init(urls: [AMQPURL], tls: TLSOptions = TLSOptions(), heartbeatSeconds: Int = 30,
                    connectTimeout: Duration = .seconds(10), rpcTimeout: Duration = .seconds(30),
                    confirmTimeout: Duration = .seconds(30), reconnectInitialDelay: Duration = .milliseconds(250),
                    reconnectMaximumDelay: Duration = .seconds(30), connectionName: String) {
            self.urls = urls
            self.tls = tls
            self.heartbeatSeconds = heartbeatSeconds
            self.connectTimeout = connectTimeout
            self.rpcTimeout = rpcTimeout
            self.confirmTimeout = confirmTimeout
            self.reconnectInitialDelay = reconnectInitialDelay
            self.reconnectMaximumDelay = reconnectMaximumDelay
            self.connectionName = connectionName
        }
    }

    public enum ConnectionState: Sendable, Equatable {
        case idle
        case connected(url: String)
        case blocked(reason: String)
        case reconnecting(reason: String, delay: Duration)
        case closed

        public var isConnected: Bool {
            if case .connected = self { return true }
            if case .blocked = self { return true }
            return false
        }
    }

    public typealias ConnectHook = @Sendable (AMQPManagement) throws -> Void
    typealias Operation = @Sendable (ConnectionWorker) -> Void

    struct Shared {
        var configuration: Configuration
        var operations: [Operation] = []
        var stopRequested = false
        var finished = false
        var state: ConnectionState = .idle
        var connectHooks: [ConnectHook] = []
        var stateHandlers: [@Sendable (ConnectionState) -> Void] = []
        var nextConsumerChannel: UInt16 = AMQPSession.firstConsumerChannel
    }

    let logger: Logger
    let shared: Mutex<Shared>
    let wakeDescriptor: Int32
    /// Monotonic nanoseconds of the connection thread's last loop turn, for the watchdog.
    private let lastTurn = Atomic<UInt64>(0)
    /// Generation of the open connection (0 while disconnected).
    let openGeneration = Atomic<UInt64>(0)
    let reconnects: Counter
    /// 1 while the connection is open (blocked or not), else 0; and 1 while the broker blocks it
    /// (a resource alarm): what an alert on a dropped or stalled connection reads.
    private let connectedGauge: Gauge
    private let blockedGauge: Gauge

    public init(configuration: Configuration, logger: Logger) {
        precondition(!configuration.urls.isEmpty, "AMQPClient needs at least one URL")
        self.shared = Mutex(Shared(configuration: configuration))
        // Every line says which of the process's connections it is about (ingest, commands, dispatch).
        var logger = logger
        logger[metadataKey: "connection"] = "\(configuration.connectionName)"
        self.logger = logger
        let descriptor = patron_wakeup_create()
        precondition(descriptor >= 0, "eventfd failed: \(-descriptor)")
        wakeDescriptor = descriptor
        reconnects = Counter(label: "patron_amqp_reconnects_total", dimensions: [("connection", configuration.connectionName)])
        connectedGauge = Gauge(label: "patron_amqp_connected", dimensions: [("connection", configuration.connectionName)])
        blockedGauge = Gauge(label: "patron_amqp_blocked", dimensions: [("connection", configuration.connectionName)])
        connectedGauge.record(0)
        blockedGauge.record(0)
    }

    deinit {
        close(wakeDescriptor)
    }

    /// Registers work to run on every (re)connect before consumers start, e.g. declaring the
    /// topology. A hook that throws fails that connection attempt, which is retried with backoff.
    public func onConnect(_ hook: @escaping ConnectHook) {
        shared.withLock { $0.connectHooks.append(hook) }
    }

    /// Registers a handler called (on the connection thread; keep it short) at each state change.
    public func onStateChange(_ handler: @escaping @Sendable (ConnectionState) -> Void) {
        shared.withLock { $0.stateHandlers.append(handler) }
    }

    public var state: ConnectionState { shared.withLock { $0.state } }

    public var configuration: Configuration { shared.withLock { $0.configuration } }

    /// Adopts new settings. When they differ from the current ones (or `forceReconnect`), the
    /// connection is closed cleanly and reopened with them; otherwise nothing happens.
    public func reconfigure(_ newConfiguration: Configuration, forceReconnect: Bool = false) {
        precondition(!newConfiguration.urls.isEmpty, "AMQPClient needs at least one URL")
        let changed = shared.withLock { state -> Bool in
            defer { state.configuration = newConfiguration }
            return state.configuration != newConfiguration
        }
        guard changed || forceReconnect else { return }
        enqueue { worker in worker.reconnectNow(reason: "configuration changed") }
    }

    /// When the connection thread last completed a loop turn; stalls here mean a hung thread.
    public var lastProgress: ContinuousClock.Instant {
        let nanoseconds = lastTurn.load(ordering: .relaxed)
        return ContinuousClock.now - .nanoseconds(Int64(Self.monotonicNanoseconds()) - Int64(nanoseconds))
    }

    /// Runs the connection thread until graceful shutdown, cancellation or ``shutdown()``.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    let thread = Thread { [self] in
                        threadMain()
                        finished.resume()
                    }
                    thread.name = "amqp-\(configuration.connectionName)"
                    thread.start()
                }
            } onCancel: {
                self.shutdown()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Asks the connection thread to finish queued work, close the connection cleanly and end.
    public func shutdown() {
        shared.withLock { $0.stopRequested = true }
        _ = patron_wakeup_signal(wakeDescriptor)
    }

    /// Waits until the client is connected, or throws ``AMQPError/Kind/unreachable(_:)`` after
    /// `timeout`; with `failingFast`, as soon as an attempt has failed (a one-shot tool such as
    /// patronctl, for which a refused connection will not heal while it waits).
    public func waitUntilConnected(timeout: Duration, failingFast: Bool = false) async throws {
        let deadline = ContinuousClock.now + timeout
        while !state.isConnected {
            if failingFast, case .reconnecting(let reason, _) = state {
                throw AMQPError(.unreachable(reason), operation: "connect")
            }
            if ContinuousClock.now >= deadline {
                let reason: String
                if case .reconnecting(let why, _) = state { reason = why } else { reason = "no answer within \(timeout)" }
                throw AMQPError(.unreachable(reason), operation: "connect")
            }
            if state == .closed { throw AMQPError(.closed, operation: "connect") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Consuming

    /// Starts consuming `queue` with manual acknowledgements, on every connection from now on.
    public func consume(queue: String, prefetch: UInt16) -> AMQPConsumer {
        let channel = shared.withLock { state -> UInt16 in
            defer { state.nextConsumerChannel += 1 }
            return state.nextConsumerChannel
        }
        let consumer = AMQPConsumer(queue: queue, prefetch: prefetch, channel: channel,
                                    tag: "\(configuration.connectionName)-\(channel)")
        enqueue { worker in worker.addConsumer(consumer) }
        return consumer
    }

    /// Acknowledges a delivery (with `multiple`, every earlier unacknowledged one on its channel).
    ///
    /// - Returns: false if the delivery came from a connection that is gone: its tag is void and
    ///   the broker will redeliver it, so the caller must rely on idempotent processing.
    @discardableResult
    public func ack(_ delivery: AMQPDelivery, multiple: Bool = false) async throws -> Bool {
        try await perform { worker in
            guard let session = worker.session, session.generation == delivery.generation else { return false }
            try worker.guarded { try session.acknowledge(channel: delivery.channel, tag: delivery.deliveryTag, multiple: multiple) }
            return true
        }
    }

    /// Rejects a delivery; with `requeue` the broker delivers it again.
    @discardableResult
    public func reject(_ delivery: AMQPDelivery, requeue: Bool) async throws -> Bool {
        try await perform { worker in
            guard let session = worker.session, session.generation == delivery.generation else { return false }
            try worker.guarded { try session.reject(channel: delivery.channel, tag: delivery.deliveryTag, requeue: requeue) }
            return true
        }
    }

    /// Whether `delivery` belongs to the connection that is open now, i.e. can still be acked.
    public func isCurrent(_ delivery: AMQPDelivery) -> Bool {
        openGeneration.load(ordering: .relaxed) == delivery.generation
    }

    // MARK: Publishing

    /// Publishes messages in order and returns once the broker has confirmed all of them.
    ///
    /// - Throws: `.notConnected` or `.blocked`-style errors at once when nothing was sent;
    ///   `.connectionLost`, `.nacked` or `.confirmTimeout` when the outcome is unknown or refused:
    ///   the caller republishes, so consumers must treat duplicates as one.
    public func publish(_ messages: [AMQPOutgoingMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(orFail: continuation) { worker in
                worker.publish(messages, completion: continuation)
            }
        }
    }

    public func publish(_ message: AMQPOutgoingMessage) async throws {
        try await publish([message])
    }

    // MARK: Management

    /// Runs `body` on the connection thread with the management channel of the open connection.
    public func withManagement<Result: Sendable>(
        _ body: @escaping @Sendable (AMQPManagement) throws -> Result
    ) async throws -> Result {
        try await perform { worker in
            guard let session = worker.session else {
                throw AMQPError(.notConnected, operation: "management request")
            }
            return try worker.guarded { try body(AMQPManagement(session: session)) }
        }
    }

    // MARK: Mailbox

    private func perform<Result: Sendable>(
        _ body: @escaping @Sendable (ConnectionWorker) throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            enqueue(orFail: continuation) { worker in
                continuation.resume(with: Swift.Result { try body(worker) })
            }
        }
    }

    private func enqueue<T>(orFail continuation: CheckedContinuation<T, any Error>, _ operation: @escaping Operation) {
        if !enqueue(operation) {
            continuation.resume(throwing: AMQPError(.closed, operation: "submit to connection thread"))
        }
    }

    @discardableResult
    private func enqueue(_ operation: @escaping Operation) -> Bool {
        let accepted = shared.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.operations.append(operation)
            return true
        }
        if accepted { _ = patron_wakeup_signal(wakeDescriptor) }
        return accepted
    }

    func setState(_ newState: ConnectionState) {
        let handlers = shared.withLock { state -> [@Sendable (ConnectionState) -> Void] in
            state.state = newState
            return state.stateHandlers
        }
        connectedGauge.record(newState.isConnected ? 1 : 0)
        if case .blocked = newState { blockedGauge.record(1) } else { blockedGauge.record(0) }
        for handler in handlers { handler(newState) }
    }

    var connectHooks: [ConnectHook] { shared.withLock { $0.connectHooks } }

    // MARK: The connection thread

    private func threadMain() {
        let worker = ConnectionWorker(client: self)
        while true {
            lastTurn.store(Self.monotonicNanoseconds(), ordering: .relaxed)
            let (operations, stopRequested) = shared.withLock { state in
                defer { state.operations.removeAll(keepingCapacity: true) }
                return (state.operations, state.stopRequested)
            }
            for operation in operations { operation(worker) }
            if stopRequested && operations.isEmpty { break }
            if !operations.isEmpty { continue }
            worker.turn()
        }
        worker.finish()
        let leftovers = shared.withLock { state in
            state.finished = true
            defer { state.operations.removeAll() }
            return state.operations
        }
        for operation in leftovers { operation(worker) }
        setState(.closed)
    }

    static func monotonicNanoseconds() -> UInt64 { patron_monotonic_usec() * 1000 }
}
