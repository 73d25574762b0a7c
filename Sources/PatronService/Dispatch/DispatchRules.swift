import Foundation
import Logging
import Metrics
import PatronDomain
import PatronStorage
import ServiceLifecycle

/// The configured rules, fired by events inside the transaction that applied them: a rule due now
/// queues its job there; one due later sets a timer, which ``DispatchTimers`` turns into a job.
struct DispatchRuleRunner: EventReactor {
    let composer: DispatchComposer
    let rules: [DispatchRule]

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
        for firing in DispatchPlan.firings(of: event, rules: rules, booking: booking, cart: cart, zone: composer.settings.timeZone) {
            if firing.due > now {
                try records.setDispatchTimer(firing)
            } else {
                try fire(firing, in: records, now: now)
            }
        }
    }

    /// Decides and, if it still applies, composes the firing's job.
    func fire(_ firing: RuleFiring, in records: any DispatchTransaction, now: Timestamp) throws {
        guard let rule = rules.first(where: { $0.name == firing.rule }) else {
            Self.count(.skipped(.noLongerApplies), rule: firing.rule)
            return
        }
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
        let decision = DispatchPlan.decide(firing, rule: rule, booking: booking, cart: cart, threadCustomer: thread?.customerID, now: now,
                                           maximumLateness: composer.settings.maximumLatenessSeconds, zone: composer.settings.timeZone)
        switch decision {
        case .skip(let reason):
            Self.count(.skipped(reason), rule: rule.name)
        case .tooLate:
            Self.count(nil, rule: rule.name)
        case .send:
            let about: DispatchComposer.About
            let customer: CustomerID?
            if let booking {
                (about, customer) = (.booking(booking), booking.customerID)
            } else if let cart {
                (about, customer) = (.cart(cart), cart.customerID)
            } else if let thread {
                (about, customer) = (.thread(thread, reply: reply), thread.customerID)
            } else {
                return
            }
            guard let customer else { return }
            let outcome = try composer.compose(for: customer, template: rule.template, channel: rule.channel, purpose: rule.purpose,
                                               about: about, trigger: "rule:\(firing.key)", in: records, now: now)
            Self.count(outcome, rule: rule.name)
        }
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

/// Turns due timers into jobs (pre-arrival, post-stay, abandoned cart), each in one transaction
/// with the timer's removal. Timers live in the database, so they survive restarts; two replicas
/// firing the same timer derive the same job id, and the outbox keeps one.
final class DispatchTimers: Service, Sendable {
    private let outbox: any DispatchOutbox
    private let store: any RecordStore
    private let runner: DispatchRuleRunner
    private let logger: Logger
    private let pollInterval: Duration

    init(outbox: any DispatchOutbox, store: any RecordStore, runner: DispatchRuleRunner, logger: Logger, pollInterval: Duration = .seconds(5)) {
        self.outbox = outbox
        self.store = store
        self.runner = runner
        self.logger = logger
        self.pollInterval = pollInterval
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = pollInterval
            do {
                try await fireDue(now: .now)
                if let next = try await outbox.earliestTimer() {
                    wait = min(wait, max(.microseconds(next.microseconds - Timestamp.now.microseconds), .milliseconds(20)))
                }
            } catch {
                logger.warning("dispatch timers could not be read; retrying", metadata: ["error": "\(error)"])
            }
            let pause = wait
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    func fireDue(now: Timestamp) async throws {
        while true {
            let due = try await outbox.dueTimers(at: now, limit: 200)
            for firing in due {
                let runner = self.runner
                try await store.change { _, records in
                    try runner.fire(firing, in: records, now: now)
                    try records.removeDispatchTimer(key: firing.key)
                }
            }
            if due.count < 200 { return }
        }
    }
}
