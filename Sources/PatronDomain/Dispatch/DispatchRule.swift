import Foundation

/// A configured rule (`dispatch.rules`): on what a message goes out, through which channel and
/// template, for which purpose, and how long after (or, for arrival, before) its moment.
public struct DispatchRule: Sendable, Equatable {
    public enum Trigger: String, Sendable, CaseIterable {
        /// A booking is confirmed (`booking.created` or `booking.updated` with status confirmed).
        case bookingConfirmed = "booking_confirmed"
        case bookingCancelled = "booking_cancelled"
        /// `delay` whole days before the arrival date, at `send_at` in the hotel's zone.
        case beforeArrival = "before_arrival"
        /// `delay` whole days after the departure date, at `send_at` in the hotel's zone.
        case afterDeparture = "after_departure"
        /// `delay` after a cart was reported abandoned, if it still is then.
        case cartAbandoned = "cart_abandoned"
        /// A staff reply to a customer-service thread (`contact.replied`).
        case threadReply = "thread_reply"

        /// Triggers whose delay counts calendar days from a booking date.
        public var countsDays: Bool { self == .beforeArrival || self == .afterDeparture }
    }

    public var name: String
    public var trigger: Trigger
    public var channel: DispatchChannel
    public var template: String
    public var purpose: DispatchPurpose
    /// Seconds (whole days for the date triggers).
    public var delaySeconds: Int64
    /// Minutes after local midnight, for the date triggers.
    public var sendAt: Int

    public init(name: String, trigger: Trigger, channel: DispatchChannel, template: String, purpose: DispatchPurpose,
                delaySeconds: Int64 = 0, sendAt: Int = 10 * 60) {
        self.name = name
        self.trigger = trigger
        self.channel = channel
        self.template = template
        self.purpose = purpose
        self.delaySeconds = delaySeconds
        self.sendAt = sendAt
    }
}

/// What a fired rule is about: the message's variables come from it, and whether it still
/// applies is checked against it when its time comes.
public enum DispatchSubject: Sendable, Equatable {
    /// `date` is the arrival or departure the rule was timed from, for the date triggers.
    case booking(ref: String, date: String?)
    case cart(id: String)
    case thread(id: String, replyEventID: String)
}

/// A rule fired by an event: a message due at `due`, identified by `key` (rule and subject), so
/// the same booking, cart or reply never yields a second message for the same rule, whichever
/// event or replica fired it.
public struct RuleFiring: Sendable, Equatable {
    public var rule: String
    public var subject: DispatchSubject
    public var due: Timestamp
    public var key: String

    public init(rule: String, subject: DispatchSubject, due: Timestamp, key: String) {
        self.rule = rule
        self.subject = subject
        self.due = due
        self.key = key
    }
}

/// When rules fire and whether, at their time, they still apply. Pure: the records are read by
/// the caller, inside the transaction that applied the event.
public enum DispatchPlan {
    /// The rules an applied event fires, with the booking or cart as it now stands (after the
    /// event, so an event older than the booking's latest status fires nothing new).
    public static func firings(of event: DecodedEvent, rules: [DispatchRule], booking: BookingRecord?, cart: CartRecord?,
                               zone: TimeZone) -> [RuleFiring] {
        var firings: [RuleFiring] = []
        for rule in rules {
            switch (rule.trigger, event.payload) {
            case (.bookingConfirmed, .booking), (.bookingCancelled, .booking), (.beforeArrival, .booking), (.afterDeparture, .booking):
                guard let booking, let firing = firing(rule, booking: booking, at: event.envelope.occurredAt, zone: zone) else { continue }
                firings.append(firing)
            case (.cartAbandoned, .cart):
                guard let cart, cart.status == .abandoned else { continue }
                firings.append(RuleFiring(rule: rule.name, subject: .cart(id: cart.id),
                                          due: event.envelope.occurredAt.adding(seconds: rule.delaySeconds), key: "\(rule.name):\(cart.id)"))
            case (.threadReply, .contactReplied(let message)):
                guard let thread = message.threadID else { continue }
                firings.append(RuleFiring(rule: rule.name, subject: .thread(id: thread, replyEventID: event.envelope.id),
                                          due: event.envelope.occurredAt.adding(seconds: rule.delaySeconds),
                                          key: "\(rule.name):\(event.envelope.id)"))
            default:
                continue
            }
        }
        return firings
    }

    private static func firing(_ rule: DispatchRule, booking: BookingRecord, at time: Timestamp, zone: TimeZone) -> RuleFiring? {
        let status = booking.bookingStatus
        switch rule.trigger {
        case .bookingConfirmed:
            guard status == .confirmed else { return nil }
            return RuleFiring(rule: rule.name, subject: .booking(ref: booking.ref, date: nil), due: time.adding(seconds: rule.delaySeconds),
                              key: "\(rule.name):\(booking.ref)")
        case .bookingCancelled:
            guard status == .cancelled else { return nil }
            return RuleFiring(rule: rule.name, subject: .booking(ref: booking.ref, date: nil), due: time.adding(seconds: rule.delaySeconds),
                              key: "\(rule.name):\(booking.ref)")
        case .beforeArrival, .afterDeparture:
            guard status == .confirmed || (rule.trigger == .afterDeparture && status == .completed),
                  let date = booking.fields[rule.trigger == .beforeArrival ? .arrival : .departure]?.value,
                  let due = dateDue(rule, date: date, zone: zone)
            else { return nil }
            // The date is part of the key: a stay moved to other dates is reminded of again.
            return RuleFiring(rule: rule.name, subject: .booking(ref: booking.ref, date: date), due: due,
                              key: "\(rule.name):\(booking.ref):\(date)")
        case .cartAbandoned, .threadReply:
            return nil
        }
    }

    /// `delay` days before the arrival or after the departure, at the rule's local time.
    static func dateDue(_ rule: DispatchRule, date: String, zone: TimeZone) -> Timestamp? {
        guard let day = CalendarDate.dayNumber(date) else { return nil }
        let days = rule.delaySeconds / 86_400
        let target = rule.trigger == .beforeArrival ? day - days : day + days
        return Timestamp(microseconds: WallClock.firstInstant(of: target * 86_400 + Int64(rule.sendAt) * 60, in: zone) * 1_000_000)
    }

    /// What to do with a firing when its time has come (or at once, when it fired due).
    public enum Decision: Sendable, Equatable {
        case send
        case skip(DispatchSkip)
        /// Too late to be useful (an old event replayed, a backlog after a long stop).
        case tooLate
    }

    /// Whether a firing can only be too late, whatever its subject's state when it is composed:
    /// recording it would be work for nothing (a replay of last year's bookings). A pre-arrival
    /// reminder is too late once its arrival day has begun (until then it goes out late: a
    /// booking made the day before arrival); another rule's moment, once it passed more than
    /// `maximumLateness` seconds ago (as ``decide(_:rule:booking:cart:threadCustomer:now:maximumLateness:zone:)`` says).
    public static func isPastLateness(_ firing: RuleFiring, rule: DispatchRule, now: Timestamp, maximumLateness: Int64, zone: TimeZone) -> Bool {
        guard rule.trigger == .beforeArrival else { return now.microseconds - firing.due.microseconds > maximumLateness * 1_000_000 }
        guard case .booking(_, let date?) = firing.subject, let day = CalendarDate.dayNumber(date) else { return false }
        return now.microseconds >= WallClock.firstInstant(of: day * 86_400, in: zone) * 1_000_000
    }

    /// Whether a firing still applies, given its subject as it stands now.
    ///
    /// A rule's moment that passed more than `maximumLateness` ago is dropped (a replay of last
    /// year's bookings must not confirm them again); a pre-arrival reminder whose time passed goes
    /// out while the arrival day has not begun (a booking made the day before arrival).
    public static func decide(_ firing: RuleFiring, rule: DispatchRule, booking: BookingRecord?, cart: CartRecord?,
                              threadCustomer: CustomerID?, now: Timestamp, maximumLateness: Int64, zone: TimeZone) -> Decision {
        let late = now.microseconds - firing.due.microseconds > maximumLateness * 1_000_000
        switch firing.subject {
        case .booking(_, let date):
            guard let booking, booking.customerID != nil else { return .skip(.noBooking) }
            let status = booking.bookingStatus
            switch rule.trigger {
            case .bookingConfirmed:
                guard status == .confirmed || status == .completed else { return .skip(.noLongerApplies) }
            case .bookingCancelled:
                guard status == .cancelled else { return .skip(.noLongerApplies) }
            case .beforeArrival:
                guard status == .confirmed, let date, booking.fields[.arrival]?.value == date else { return .skip(.noLongerApplies) }
                guard let day = CalendarDate.dayNumber(date) else { return .skip(.noLongerApplies) }
                let arrivalStarts = Timestamp(microseconds: WallClock.firstInstant(of: day * 86_400, in: zone) * 1_000_000)
                return now < arrivalStarts ? .send : .tooLate
            case .afterDeparture:
                guard status == .confirmed || status == .completed, let date, booking.fields[.departure]?.value == date else {
                    return .skip(.noLongerApplies)
                }
            case .cartAbandoned, .threadReply:
                return .skip(.noLongerApplies)
            }
        case .cart:
            guard rule.trigger == .cartAbandoned, let cart, cart.customerID != nil else { return .skip(.noBooking) }
            guard cart.status == .abandoned else { return .skip(.noLongerApplies) }
        case .thread:
            guard rule.trigger == .threadReply, threadCustomer != nil else { return .skip(.noBooking) }
        }
        return late ? .tooLate : .send
    }
}

extension DispatchPlan {
    /// What a transactional `dispatch.send` is about for a recipient: the next confirmed stay not
    /// yet over (earliest arrival), else the booking told of last.
    public static func relevantBooking(_ bookings: [BookingRecord], now: Timestamp, zone: TimeZone) -> BookingRecord? {
        let today = WallClock.localDay(of: now, in: zone)
        var next: (arrival: String, booking: BookingRecord)?
        for booking in bookings where booking.bookingStatus == .confirmed {
            guard let departure = booking.fields[.departure]?.value, let day = CalendarDate.dayNumber(departure), day >= today else { continue }
            let arrival = booking.fields[.arrival]?.value ?? departure
            if next == nil || arrival < next!.arrival { next = (arrival, booking) }
        }
        return next?.booking ?? bookings.max { $0.firstSeenAt < $1.firstSeenAt }
    }
}

extension Timestamp {
    public func adding(seconds: Int64) -> Timestamp { Timestamp(microseconds: microseconds + seconds * 1_000_000) }
}

/// What dispatch needs from storage inside a write transaction, beside the records.
public protocol DispatchTransaction: RecordTransaction {
    func isErased(_ customer: CustomerID) throws -> Bool
    /// A staff reply kept in a thread, by the event that brought it.
    func reply(eventID: String) throws -> ThreadMessage?
    /// Queues a job unless its `job_id` is taken (queued or published before); says whether it was queued.
    func enqueueDispatch(_ job: DispatchJob, customer: CustomerID, trigger: String, notBefore: Timestamp) throws -> Bool
    /// Whether a job of this template on this channel was queued for the customer at or after
    /// `since` by another trigger than `trigger` (whose own jobs are already queued, not sent before).
    func wasSent(_ template: String, on channel: DispatchChannel, to customer: CustomerID, since: Timestamp, otherThan trigger: String) throws -> Bool
    /// The send completed under an `idempotency_key`, if any.
    func completedSend(idempotencyKey: String) throws -> CompletedSend?
    /// Keeps a completed send's answer for its key; a key kept already keeps its first answer.
    func recordCompletedSend(_ send: CompletedSend) throws
    /// Sets (or moves) the timer of a firing due later.
    func setDispatchTimer(_ firing: RuleFiring) throws
    func removeDispatchTimer(key: String) throws
}

/// A `dispatch.send` done under an `idempotency_key`: what identifies the send (a digest, so no
/// filter value or customer number is kept) and the answer its first call gave.
public struct CompletedSend: Sendable, Equatable {
    public let idempotencyKey: String
    public let requestDigest: String
    public let requestedBy: String
    public let result: JSONValue
    public let completedAt: Timestamp

    public init(idempotencyKey: String, requestDigest: String, requestedBy: String, result: JSONValue, completedAt: Timestamp) {
        self.idempotencyKey = idempotencyKey
        self.requestDigest = requestDigest
        self.requestedBy = requestedBy
        self.result = result
        self.completedAt = completedAt
    }
}

/// Reacts to each applied event inside the transaction that applied it (dispatch rules), so what
/// it writes commits or rolls back with the event's effects.
public protocol EventReactor: Sendable {
    func react(to event: DecodedEvent, customer: CustomerID?, in records: any DispatchTransaction) throws
}

/// A job waiting in the outbox for the relay.
public struct PendingDispatch: Sendable, Equatable {
    public let sequence: Int64
    public let jobID: String
    public let channel: DispatchChannel
    public let body: [UInt8]

    public init(sequence: Int64, jobID: String, channel: DispatchChannel, body: [UInt8]) {
        self.sequence = sequence
        self.jobID = jobID
        self.channel = channel
        self.body = body
    }
}

/// The dispatch outbox and timers as the relay and the timer loop read them.
public protocol DispatchOutbox: Sendable {
    /// Jobs of a channel not yet published whose quiet hours are over, oldest first, after
    /// `sequence` (the relay reads on while the previous batch is being marked).
    func pending(channel: DispatchChannel, readyAt: Timestamp, after sequence: Int64, limit: Int) async throws -> [PendingDispatch]
    /// After the broker confirmed them: the row stays (its job id stays taken), its body goes.
    func markPublished(_ sequences: [Int64], at time: Timestamp) async throws
    /// Timers due at `time`, earliest first.
    func dueTimers(at time: Timestamp, limit: Int) async throws -> [RuleFiring]
    func earliestTimer() async throws -> Timestamp?
    /// Jobs not yet published, by channel (`patronctl status`, metrics).
    func backlog() async throws -> [DispatchChannel: Int]
}

/// Where jobs that are about no customer are queued (a schedule's file to staff,
/// ``FileDelivery``), beside the customers' in the same outbox.
public protocol FileDeliveryQueue: Sendable {
    /// A job whose id is queued already is left as it is. Answers how many were new.
    func enqueue(_ jobs: [DispatchJob], trigger: String, at time: Timestamp) async throws -> Int
}
