import Foundation
import Logging
import Metrics
import PatronDomain
import PatronStorage
import ServiceLifecycle
import Synchronization

/// The configured rules. An event fires them inside the transaction that applied it, and that
/// transaction records only that they fired: one timer row per firing, due now or later, whose
/// key is unique, so a redelivered event or a second replica cannot fire a rule twice.
/// ``DispatchTimers`` composes the jobs after the commit, from the committed state, with consent,
/// erasure and the booking's status checked again then. Ingest no longer renders templates.
struct DispatchRuleRunner: EventReactor {
    let composer: DispatchComposer
    let rules: [DispatchRule]
    /// Raised when a firing is recorded, so the timers look soon instead of at their next poll.
    let firings: DispatchFiringSignal

    func react(to event: DecodedEvent, customer: CustomerID?, in records: any DispatchTransaction) throws {
        guard !rules.isEmpty else { return }
        var booking: BookingRecord?
        var cart: CartRecord?
        switch event.payload {
        case .booking(_, let input): booking = try records.booking(ref: input.ref)
        case .cart(_, let input): cart = try records.cart(id: input.id)
        case .contactReplied: break
        default: return
        }
        let now = Timestamp.now
        var recorded = false
        for firing in DispatchPlan.firings(of: event, rules: rules, booking: booking, cart: cart, zone: composer.settings.timeZone) {
            if let rule = rules.first(where: { $0.name == firing.rule }),
               DispatchPlan.isPastLateness(firing, rule: rule, now: now, maximumLateness: composer.settings.maximumLatenessSeconds,
                                           zone: composer.settings.timeZone) {
                Self.count(nil, rule: rule.name)
                continue
            }
            try records.setDispatchTimer(firing)
            recorded = true
        }
        if recorded { firings.raise() }
    }

    /// A due firing worked out on a snapshot: counted and dropped, or a rendered job to queue.
    enum Prepared: Sendable {
        /// Skipped for a reason, or too late (nil).
        case dropped(DispatchComposer.Outcome?, rule: String)
        case job(DispatchComposer.Preparation, rule: DispatchRule)
    }

    /// What a firing comes to on the records as they stand: whom it is for and what about, if it sends.
    private enum Decision {
        case dropped(DispatchComposer.Outcome?)
        case send(DispatchComposer.About, customer: CustomerID)
    }

    private func decide(_ firing: RuleFiring, rule: DispatchRule, in records: any DispatchTransaction, now: Timestamp) throws -> Decision {
        var booking: BookingRecord?
        var cart: CartRecord?
        var thread: ThreadRecord?
        var reply: ThreadMessage?
        switch firing.subject {
        case .booking(let ref, _): booking = try records.booking(ref: ref)
        case .cart(let id): cart = try records.cart(id: id)
        case .thread(let id, let replyEventID):
            thread = try records.thread(id: id)
            reply = try records.reply(eventID: replyEventID)
        }
        switch DispatchPlan.decide(firing, rule: rule, booking: booking, cart: cart, threadCustomer: thread?.customerID, now: now,
                                   maximumLateness: composer.settings.maximumLatenessSeconds, zone: composer.settings.timeZone) {
        case .skip(let reason): return .dropped(.skipped(reason))
        case .tooLate: return .dropped(nil)
        case .send:
            if let booking, let customer = booking.customerID { return .send(.booking(booking), customer: customer) }
            if let cart, let customer = cart.customerID { return .send(.cart(cart), customer: customer) }
            if let thread, let customer = thread.customerID { return .send(.thread(thread, reply: reply), customer: customer) }
            return .dropped(.skipped(.noBooking))
        }
    }

    /// Decides and renders the firing's job; reads only, so it runs on a snapshot off the writer.
    func prepare(_ firing: RuleFiring, in records: any DispatchTransaction, now: Timestamp) throws -> Prepared {
        guard let rule = rules.first(where: { $0.name == firing.rule }) else { return .dropped(.skipped(.noLongerApplies), rule: firing.rule) }
        switch try decide(firing, rule: rule, in: records, now: now) {
        case .dropped(let outcome): return .dropped(outcome, rule: rule.name)
        case .send(let about, let customer):
            let preparation = try composer.prepare(for: customer, template: rule.template, channel: rule.channel, purpose: rule.purpose,
                                                   about: about, trigger: "rule:\(firing.key)", in: records, now: now)
            if case .skipped(let reason) = preparation { return .dropped(.skipped(reason), rule: rule.name) }
            return .job(preparation, rule: rule)
        }
    }

    /// Queues what ``prepare(_:in:now:)`` rendered, if it still holds on what is committed now (the
    /// decision and its recipient, and the recipient rules: erasure, a marketing opt-in, an
    /// address), and removes the firing's timer.
    func commit(_ prepared: Prepared, of firing: RuleFiring, in records: any DispatchTransaction, now: Timestamp) throws {
        switch prepared {
        case .dropped(let outcome, let rule):
            Self.count(outcome, rule: rule)
        case .job(.skipped(let reason), let rule):
            Self.count(.skipped(reason), rule: rule.name)
        case .job(.job(let job, let customer, let trigger, let notBefore), let rule):
            let outcome: DispatchComposer.Outcome?
            switch try decide(firing, rule: rule, in: records, now: now) {
            case .dropped(let changed): outcome = changed
            case .send(_, let recipient) where recipient != customer: outcome = .skipped(.noLongerApplies)
            case .send:
                switch try composer.address(of: try records.loadCustomer(customer), channel: rule.channel, purpose: rule.purpose, in: records) {
                case .failure(let skip): outcome = .skipped(skip)
                case .success:
                    outcome = try records.enqueueDispatch(job, customer: customer, trigger: trigger, notBefore: notBefore) ? .queued : .alreadyQueued
                }
            }
            Self.count(outcome, rule: rule.name)
        }
        try records.removeDispatchTimer(key: firing.key)
    }

    /// `patron_dispatch_rule_total{rule, outcome}`; outcome `too_late` when `outcome` is nil.
    private static func count(_ outcome: DispatchComposer.Outcome?, rule: String) {
        let label: String = switch outcome {
        case .queued?: "queued"
        case .alreadyQueued?: "already_queued"
        case .skipped(let reason)?: reason.rawValue
        case nil: "too_late"
        }
        Counter(label: "patron_dispatch_rule_total", dimensions: [("rule", rule), ("outcome", label)]).increment()
    }
}

/// Says that ingest recorded firings: the timers poll at once and then often while firings keep
/// coming, since the raise happens before the firing's transaction commits.
final class DispatchFiringSignal: Sendable {
    private let raised = Atomic<Bool>(false)

    init() {}

    func raise() { raised.store(true, ordering: .releasing) }

    /// Whether it was raised since the last call.
    func take() -> Bool { raised.exchange(false, ordering: .acquiringAndReleasing) }
}

/// Turns due timers into jobs: the rules that fired during ingest (due now) and the ones due
/// later (pre-arrival, post-stay, abandoned cart). Up to `chunkSize` timers are composed and
/// removed in one transaction (one commit's fsync for the lot); if one of them cannot be
/// composed, the chunk is done again a timer per transaction, and that timer stays to be tried
/// again. Timers live in the database, so they survive restarts and kill -9; two replicas firing
/// the same timer derive the same job id, and the outbox keeps one.
final class DispatchTimers: Service, Sendable {
    private let outbox: any DispatchOutbox
    private let store: any RecordStore
    private let runner: DispatchRuleRunner
    private let logger: Logger
    private let pollInterval: Duration
    static let chunkSize = 200
    /// How long after a raise the loop keeps polling every ``burstInterval``.
    private static let burstLength = Duration.seconds(1)
    private static let burstInterval = Duration.milliseconds(50)

    init(outbox: any DispatchOutbox, store: any RecordStore, runner: DispatchRuleRunner, logger: Logger, pollInterval: Duration = .seconds(5)) {
        self.outbox = outbox
        self.store = store
        self.runner = runner
        self.logger = logger
        self.pollInterval = pollInterval
    }

    func run() async throws {
        let clock = ContinuousClock()
        var burstUntil = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if runner.firings.take() { burstUntil = clock.now + Self.burstLength }
            var wait = pollInterval
            do {
                try await fireDue(now: .now)
                if let next = try await outbox.earliestTimer() {
                    wait = min(wait, max(.microseconds(next.microseconds - Timestamp.now.microseconds), .milliseconds(20)))
                }
            } catch {
                logger.warning("dispatch timers could not be read; retrying", metadata: ["error": "\(error)"])
            }
            // Sleeps in short steps, so that a raise ends the wait.
            let deadline = clock.now + (clock.now < burstUntil ? min(wait, Self.burstInterval) : wait)
            while clock.now < deadline, !Task.isCancelled, !Task.isShuttingDownGracefully {
                if runner.firings.take() {
                    burstUntil = clock.now + Self.burstLength
                    break
                }
                let step = min(Self.burstInterval, deadline - clock.now)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: step) }
            }
        }
    }

    /// Composes the timers due at `now`: each chunk rendered on a snapshot, then queued in one
    /// short write transaction.
    func fireDue(now: Timestamp) async throws {
        let runner = self.runner
        while true {
            let due = try await outbox.dueTimers(at: now, limit: Self.chunkSize)
            guard !due.isEmpty else { return }
            let prepared = try await store.read { records in
                due.map { firing in Result { try runner.prepare(firing, in: records, now: now) } }
            }
            var ready: [(RuleFiring, DispatchRuleRunner.Prepared)] = []
            for (firing, result) in zip(due, prepared) {
                switch result {
                case .success(let preparation): ready.append((firing, preparation))
                case .failure(let error): logFailure(firing, error)
                }
            }
            let chunk = ready
            do {
                try await store.change { _, records in
                    for (firing, preparation) in chunk { try runner.commit(preparation, of: firing, in: records, now: now) }
                }
            } catch {
                var failed = 0
                for (firing, preparation) in ready {
                    do {
                        try await store.change { _, records in try runner.commit(preparation, of: firing, in: records, now: now) }
                    } catch {
                        failed += 1
                        logFailure(firing, error)
                    }
                }
                // Every one failing is the database's fault rather than a timer's: the caller retries.
                if failed == ready.count { throw error }
            }
            // A timer that failed stays; the next round tries it again.
            if ready.count < due.count || due.count < Self.chunkSize { return }
        }
    }

    private func logFailure(_ firing: RuleFiring, _ error: any Error) {
        logger.error("a dispatch rule's job could not be composed; it is tried again", metadata: [
            "rule": "\(firing.rule)", "timer": "\(firing.key)", "error": "\(error)",
        ])
    }
}
