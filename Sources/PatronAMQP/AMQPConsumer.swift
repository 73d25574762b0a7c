import Synchronization

/// The deliveries of one consumer, buffered between the connection thread and the task that
/// processes them. The buffer is bounded by the consumer's prefetch, so it needs no limit here.
public final class AMQPConsumer: Sendable {
    public let queue: String
    private let prefetchValue: Atomic<UInt16>
    let channel: UInt16
    let tag: String

    private struct State {
        var buffer: [AMQPDelivery] = []
        var waiter: (continuation: CheckedContinuation<[AMQPDelivery], Never>, limit: Int)?
        var stopped = false
    }

    private let state = Mutex(State())

    init(queue: String, prefetch: UInt16, channel: UInt16, tag: String) {
        self.queue = queue
        self.prefetchValue = Atomic(prefetch)
        self.channel = channel
        self.tag = tag
    }

    /// How many unacknowledged deliveries the broker may send; a change applies from the next
    /// (re)connect.
    public var prefetch: UInt16 {
        get { prefetchValue.load(ordering: .relaxed) }
        set { prefetchValue.store(newValue, ordering: .relaxed) }
    }

    /// Waits for at least one delivery and returns up to `limit` of those already received.
    ///
    /// Returns an empty array once ``stopWaiting()`` was called or the task is cancelled, so a
    /// processing loop can end between batches and never in the middle of one. What is buffered
    /// then stays unacknowledged, and the broker redelivers it when the connection closes.
    public func next(limit: Int) async -> [AMQPDelivery] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: [AMQPDelivery]? = state.withLock { state in
                    if state.stopped || Task.isCancelled { return [] }
                    if !state.buffer.isEmpty {
                        return Self.take(&state.buffer, limit)
                    }
                    state.waiter = (continuation, limit)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            stopWaiting()
        }
    }

    /// Makes the current and every later ``next(limit:)`` return at once with nothing. Used on
    /// graceful shutdown: while the broker keeps refilling the prefetch window, returning the
    /// buffer kept a slow consumer busy until its grace period ran out and its last batch,
    /// committed, was abandoned unacknowledged (a lifecycle test caught it).
    public func stopWaiting() {
        let waiter = state.withLock { state -> CheckedContinuation<[AMQPDelivery], Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: [])
    }

    func push(_ delivery: AMQPDelivery) {
        let resumed = state.withLock { state -> (CheckedContinuation<[AMQPDelivery], Never>, [AMQPDelivery])? in
            state.buffer.append(delivery)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter.continuation, Self.take(&state.buffer, waiter.limit))
        }
        if let (continuation, batch) = resumed { continuation.resume(returning: batch) }
    }

    /// Drops deliveries of an older connection: their tags are void and the broker redelivers them.
    func discardDeliveries(before generation: UInt64) {
        state.withLock { $0.buffer.removeAll { $0.generation < generation } }
    }

    private static func take(_ buffer: inout [AMQPDelivery], _ limit: Int) -> [AMQPDelivery] {
        if buffer.count <= limit {
            // Hand over the storage itself: copying deliveries costs a retain per field.
            defer { buffer = [] }
            return buffer
        }
        let count = limit
        let batch = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        return batch
    }
}
