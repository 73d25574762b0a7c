import Foundation
import PatronDomain
import Synchronization

/// The templates in force; SIGHUP swaps them after they load and check cleanly.
public final class TemplateStore: Sendable {
    private let library: Mutex<TemplateLibrary>

    public init(_ library: TemplateLibrary) {
        self.library = Mutex(library)
    }

    public var current: TemplateLibrary { library.withLock { $0 } }

    func replace(with new: TemplateLibrary) { library.withLock { $0 = new } }
}

/// Makes one recipient's job: consent and suppression, address, language, variables,
/// rendering, SMS measure, quiet hours, and the job id from its trigger. ``prepare`` only reads,
/// so the rules' timers render on a snapshot; ``compose`` prepares and queues in one write
/// transaction (sends).
struct DispatchComposer: Sendable {
    enum Outcome: Equatable {
        case queued
        /// The same trigger queued this job before (a redelivery, another replica).
        case alreadyQueued
        case skipped(DispatchSkip)
    }

    /// A rendered job for a customer, ready to queue, or why there is none.
    enum Preparation: Sendable {
        case job(DispatchJob, customer: CustomerID, trigger: String, notBefore: Timestamp)
        case skipped(DispatchSkip)
    }

    let templates: TemplateStore
    let settings: PatronConfiguration.Dispatch
    let phones: any PhoneNormalizer
    let defaultCountry: String
    let tokens: UnsubscribeTokens

    /// What the message is about; transactional messages must be about one of the recipient's own.
    enum About {
        case booking(BookingRecord)
        case cart(CartRecord)
        case thread(ThreadRecord, reply: ThreadMessage?)
        /// `dispatch.send`: a transactional message is about the customer's next stay (else the
        /// latest booking) among the bookings its template is for; marketing is about nothing in
        /// particular.
        case recipientsOwnBooking
    }

    /// Prepares and queues.
    /// - Parameter trigger: what caused it (`rule:NAME:SUBJECT`, `send:USER:REQUEST`,
    ///   `schedule:NAME:RUN`); with the recipient's customer id, it determines the job id.
    func compose(for customerID: CustomerID, template: String, channel: DispatchChannel, purpose: DispatchPurpose, about: About,
                 trigger: String, in records: any DispatchTransaction, now: Timestamp) throws -> Outcome {
        switch try prepare(for: customerID, template: template, channel: channel, purpose: purpose, about: about, trigger: trigger,
                           in: records, now: now) {
        case .skipped(let reason): .skipped(reason)
        case .job(let job, let customer, let trigger, let notBefore):
            try records.enqueueDispatch(job, customer: customer, trigger: trigger, notBefore: notBefore) ? .queued : .alreadyQueued
        }
    }

    /// Where the customer may be sent a message, or why not (erased, no consent, no address):
    /// the rules of ``DispatchRecipient`` on the records as they stand.
    func address(of customer: CustomerRecord, channel: DispatchChannel, purpose: DispatchPurpose,
                 in records: any DispatchTransaction) throws -> Result<String, DispatchSkip> {
        DispatchRecipient.address(of: customer, erased: try records.isErased(customer.id), channel: channel, purpose: purpose,
                                  phones: phones, defaultRegion: defaultCountry)
    }

    /// The job, rendered, or why there is none; reads only.
    func prepare(for customerID: CustomerID, template: String, channel: DispatchChannel, purpose: DispatchPurpose, about: About,
                 trigger: String, in records: any DispatchTransaction, now: Timestamp) throws -> Preparation {
        let customer = try records.loadCustomer(customerID)
        let address: String
        switch try self.address(of: customer, channel: channel, purpose: purpose, in: records) {
        case .success(let found): address = found
        case .failure(let skip): return .skipped(skip)
        }
        let library = templates.current
        // A template about a booking is true only of bookings in the statuses it declares.
        let statuses = library.bookingStatuses(of: template)
        func qualifies(_ booking: BookingRecord) -> Bool {
            statuses.map { statuses in booking.bookingStatus.map(statuses.contains) ?? false } ?? true
        }
        var variables = DispatchVariables()
        variables.set("hotel", settings.hotel)
        switch about {
        case .booking(let booking):
            guard booking.customerID == customerID else { return .skipped(.noBooking) }
            guard qualifies(booking) else { return .skipped(.bookingStatus) }
            variables.setBooking(booking)
        case .cart(let cart):
            guard cart.customerID == customerID else { return .skipped(.noBooking) }
            variables.setCart(cart)
        case .thread(let thread, let reply):
            guard thread.customerID == customerID else { return .skipped(.noBooking) }
            variables.setThread(thread, reply: reply)
        case .recipientsOwnBooking where purpose == .transactional:
            let bookings = try records.bookings(of: customerID)
            guard let booking = DispatchPlan.relevantBooking(bookings.filter(qualifies), now: now, zone: settings.timeZone) else {
                return .skipped(bookings.isEmpty ? .noBooking : .bookingStatus)
            }
            variables.setBooking(booking)
        case .recipientsOwnBooking:
            break
        }
        let language = customer.fields[.language]?.value ?? library.defaultLanguage
        var unsubscribeURL: String?
        if purpose == .marketing, channel == .email, let base = settings.unsubscribeURL {
            unsubscribeURL = base.replacingOccurrences(of: "{token}", with: tokens.token(for: customer.customerNo))
            variables.values["unsubscribe_url"] = unsubscribeURL
        }
        variables.setCustomer(customer, language: language)
        guard var message = library.render(template, language: language, channel: channel, variables: variables) else {
            throw CommandError(.invalidArgument, field: "args.template", "no template named '\(template)'")
        }
        if purpose == .marketing, channel == .sms { message.text += " " + settings.smsOptOut }
        let job = DispatchJob(jobID: DispatchJobID.make(trigger: trigger, customer: customerID), channel: channel, to: address,
                              customerNo: customer.customerNo, language: message.language, template: template,
                              subject: message.subject, body: message.text, html: message.html, purpose: purpose, createdAt: now,
                              segmentation: channel == .sms ? SMSSegmentation(measuring: message.text) : nil,
                              unsubscribeURL: unsubscribeURL)
        var notBefore = now
        if purpose == .marketing, channel == .sms, let quiet = settings.quietHours {
            notBefore = quiet.firstAllowed(at: now, in: settings.timeZone)
        }
        return .job(job, customer: customerID, trigger: trigger, notBefore: notBefore)
    }
}

/// Job ids: a name-based UUID (version 8, RFC 9562) of the trigger and the recipient, so the same
/// trigger for the same customer always yields the same id.
enum DispatchJobID {
    private static let digest = HMACIdentityHasher(key: "patron dispatch job id v1")

    static func make(trigger: String, customer: CustomerID) -> String { make(trigger: trigger, recipient: "\(customer)") }

    /// A job to an address rather than a customer (a schedule's file to staff).
    static func make(trigger: String, address: String) -> String { make(trigger: trigger, recipient: "to:" + address.lowercased()) }

    private static func make(trigger: String, recipient: String) -> String {
        var hex = Array(digest.hash("\(trigger)\u{0}\(recipient)").prefix(32))
        hex[12] = "8"
        hex[16] = ["8", "9", "a", "b"][Int(String(hex[16]), radix: 16)! & 3]
        let text = String(hex)
        func part(_ from: Int, _ to: Int) -> Substring { text.dropFirst(from).prefix(to - from) }
        return "\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }
}

/// Unsubscribe tokens: the customer number and a keyed MAC of it, so the link maps back to the
/// customer without a lookup table and cannot be forged for another customer.
public struct UnsubscribeTokens: Sendable {
    private let mac: HMACIdentityHasher

    public init(secret: String) {
        mac = HMACIdentityHasher(key: "unsubscribe\u{0}" + secret)
    }

    public func token(for customerNo: String) -> String {
        let encoded = Data(customerNo.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return encoded + "." + mac.hash(customerNo).prefix(32)
    }

    /// The customer number a token was made for, or nil when it was not made by this key.
    public func customerNo(in token: String) -> String? {
        let parts = token.split(separator: ".")
        guard parts.count == 2 else { return nil }
        var base64 = parts[0].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let number = String(data: data, encoding: .utf8),
              token == self.token(for: number) else { return nil }
        return number
    }
}
