import Foundation
import PatronDomain
import Testing

/// Dispatch's pure rules: SMS encoding and segments, quiet hours, consent and suppression, rule
/// timing, `dispatch.send` arguments, and the job's shape.
struct DispatchTests {
    static let madrid = TimeZone(identifier: "Europe/Madrid")!

    // MARK: SMS

    @Test(arguments: [
        ("Hola", SMSEncoding.gsm7, 1), (String(repeating: "a", count: 160), .gsm7, 1), (String(repeating: "a", count: 161), .gsm7, 2),
        (String(repeating: "a", count: 306), .gsm7, 2), (String(repeating: "a", count: 307), .gsm7, 3),
        // € is an extension character: two septets, so 80 of them fill one message and 81 do not.
        (String(repeating: "€", count: 80), .gsm7, 1), (String(repeating: "€", count: 81), .gsm7, 2),
        // 152 plain + € does not fit the first segment's 153: the escape pair moves whole.
        (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 10), .gsm7, 2),
        ("Añoranza: ¿mañana? Ñ ü ß É", .gsm7, 1),
        ("Reserva en Çeşme", .ucs2, 1), ("Bon séjour à Besançon", .ucs2, 1),
        (String(repeating: "ç", count: 70), .ucs2, 1), (String(repeating: "ç", count: 71), .ucs2, 2),
        (String(repeating: "ç", count: 134), .ucs2, 2), (String(repeating: "ç", count: 135), .ucs2, 3),
        // An emoji is a surrogate pair: two UCS-2 units.
        (String(repeating: "🙂", count: 35), .ucs2, 1), (String(repeating: "🙂", count: 36), .ucs2, 2),
        ("Καλημέρα", .ucs2, 1), ("ΔΦΓΛΩΠΨΣΘΞ", .gsm7, 1),
    ])
    func smsBodiesAreMeasuredAsHandsetsSendThem(_ text: String, _ encoding: SMSEncoding, _ segments: Int) {
        let measured = SMSSegmentation(measuring: text)
        #expect(measured == SMSSegmentation(encoding: encoding, segments: segments), "\(text.prefix(20))… (\(text.count) characters)")
    }

    // MARK: Quiet hours

    static let quiet = QuietHours(start: 21 * 60, end: 9 * 60)

    @Test(arguments: [
        // Evening: waits for tomorrow 09:00 (winter, +01:00).
        ("2026-11-24T22:30:00+01:00", "2026-11-25T09:00:00+01:00"),
        ("2026-11-24T21:00:00+01:00", "2026-11-25T09:00:00+01:00"),
        // After midnight: waits for 09:00 the same day.
        ("2026-11-25T03:00:00+01:00", "2026-11-25T09:00:00+01:00"),
        // Outside the window: at once.
        ("2026-11-25T09:00:00+01:00", "2026-11-25T09:00:00+01:00"),
        ("2026-11-25T20:59:00+01:00", "2026-11-25T20:59:00+01:00"),
        // Across the spring-forward night: 09:00 is then +02:00.
        ("2026-03-28T23:00:00+01:00", "2026-03-29T09:00:00+02:00"),
        // New Year's Eve crosses the year too.
        ("2026-12-31T23:59:00+01:00", "2027-01-01T09:00:00+01:00"),
    ])
    func marketingSMSWaitsForTheEndOfQuietHours(_ at: String, _ allowed: String) {
        let instant = Timestamp(rfc3339: at)!
        #expect(Self.quiet.firstAllowed(at: instant, in: Self.madrid).rfc3339(in: Self.madrid) == allowed)
    }

    @Test func aWindowWithinOneDayAndAnEmptyOneAreRespected() {
        let lunch = QuietHours(start: 14 * 60, end: 16 * 60)
        #expect(lunch.firstAllowed(at: Timestamp(rfc3339: "2026-11-25T15:00:00+01:00")!, in: Self.madrid).rfc3339(in: Self.madrid)
            == "2026-11-25T16:00:00+01:00")
        #expect(lunch.isQuiet(minuteOfDay: 13 * 60 + 59) == false && lunch.isQuiet(minuteOfDay: 16 * 60) == false)
        #expect(QuietHours(start: 600, end: 600).isQuiet(minuteOfDay: 600) == false)
        #expect(QuietHours.minutes("21:00") == 1260 && QuietHours.minutes("24:00") == nil && QuietHours.minutes("9:00") == nil)
    }

    // MARK: Consent and suppression

    enum Consent: String, CaseIterable { case optIn, optOut, none }

    static func customer(_ consent: Consent, email: String? = "Ana.Garcia@Example.com", mobile: String? = "600 111 222") -> CustomerRecord {
        var fields = StampedFields<ProfileField>()
        let at = Timestamp(rfc3339: "2026-11-20T10:00:00Z")!
        var values: [ProfileField: String] = [.firstName: "Ana"]
        if let email { values[.email] = email }
        if let mobile { values[.mobile] = mobile }
        _ = fields.apply(values, at: at)
        let newsletter: Stamped? = switch consent {
        case .optIn: Stamped("true", at: at)
        case .optOut: Stamped("false", at: at)
        case .none: nil
        }
        return CustomerRecord(id: 1, customerNo: "C-1", numberAssigned: false, fields: fields, newsletter: newsletter, firstContactAt: at)
    }

    @Test(arguments: Consent.allCases, [false, true])
    func marketingNeedsAnOptInAndNothingGoesToTheErased(_ consent: Consent, _ erased: Bool) {
        for channel in DispatchChannel.allCases {
            for purpose in DispatchPurpose.allCases {
                let result = DispatchRecipient.address(of: Self.customer(consent), erased: erased, channel: channel, purpose: purpose,
                                                       phones: FakePhones(), defaultRegion: "ES")
                let expected: Result<String, DispatchSkip> = if erased {
                    .failure(.erased)
                } else if purpose == .marketing && consent != .optIn {
                    .failure(.noConsent)
                } else {
                    .success(channel == .email ? "ana.garcia@example.com" : "+34600111222")
                }
                #expect(result == expected, "\(consent) erased=\(erased) \(channel) \(purpose)")
            }
        }
    }

    @Test func missingAndInvalidAddressesAreSkippedWithTheirReason() {
        let phones = FakePhones()
        #expect(DispatchRecipient.address(of: Self.customer(.optIn, email: nil), erased: false, channel: .email, purpose: .transactional,
                                          phones: phones, defaultRegion: "ES") == .failure(.noAddress))
        #expect(DispatchRecipient.address(of: Self.customer(.optIn, email: "not an address"), erased: false, channel: .email,
                                          purpose: .transactional, phones: phones, defaultRegion: "ES") == .failure(.noAddress))
        #expect(DispatchRecipient.address(of: Self.customer(.optIn, mobile: nil), erased: false, channel: .sms, purpose: .transactional,
                                          phones: phones, defaultRegion: "ES") == .failure(.noAddress))
        #expect(DispatchRecipient.address(of: Self.customer(.optIn, mobile: "12 34"), erased: false, channel: .sms, purpose: .transactional,
                                          phones: phones, defaultRegion: "ES") == .failure(.invalidPhone))
    }

    // MARK: Rules

    static func booking(_ status: BookingStatus, arrival: String = "2026-12-10", departure: String = "2026-12-12") -> BookingRecord {
        var fields = StampedFields<BookingField>()
        let at = Timestamp(rfc3339: "2026-11-20T10:00:00Z")!
        _ = fields.apply([.arrival: arrival, .departure: departure, .hotel: "Hotel Donostia"], at: at)
        return BookingRecord(ref: "BK-1", customerID: 7, status: Stamped(status.rawValue, at: at), fields: fields, firstSeenAt: at)
    }

    static func bookingEvent(at time: String = "2026-11-20T10:15:00+01:00") -> DecodedEvent {
        DecodedEvent(envelope: Envelope(id: "e1", type: .bookingCreated, occurredAt: Timestamp(rfc3339: time)!, source: nil),
                     payload: .booking(customer: nil, booking: BookingInput(ref: "BK-1")))
    }

    static let rules = [
        DispatchRule(name: "confirm", trigger: .bookingConfirmed, channel: .email, template: "booking_confirmation", purpose: .transactional),
        DispatchRule(name: "cancel", trigger: .bookingCancelled, channel: .email, template: "booking_cancelled", purpose: .transactional),
        DispatchRule(name: "pre", trigger: .beforeArrival, channel: .sms, template: "pre_arrival", purpose: .transactional,
                     delaySeconds: 3 * 86_400, sendAt: 10 * 60),
        DispatchRule(name: "post", trigger: .afterDeparture, channel: .email, template: "post_stay", purpose: .transactional,
                     delaySeconds: 2 * 86_400, sendAt: 11 * 60),
    ]

    /// Ingest records no firing that could only be too late when composed (a replay): a
    /// confirmation over the lateness limit, a pre-arrival reminder once its arrival day began.
    @Test func aFiringThatCanOnlyBeTooLateIsNotRecorded() {
        let firings = DispatchPlan.firings(of: Self.bookingEvent(), rules: Self.rules, booking: Self.booking(.confirmed), cart: nil, zone: Self.madrid)
        func late(_ index: Int, at time: String) -> Bool {
            DispatchPlan.isPastLateness(firings[index], rule: Self.rules.first { $0.name == firings[index].rule }!,
                                        now: Timestamp(rfc3339: time)!, maximumLateness: 48 * 3600, zone: Self.madrid)
        }
        #expect(!late(0, at: "2026-11-22T10:15:00+01:00") && late(0, at: "2026-11-22T10:15:01+01:00"))
        // Due 2026-12-07 10:00; arrival 2026-12-10: late, but still before the arrival day.
        #expect(!late(1, at: "2026-12-09T23:59:59+01:00") && late(1, at: "2026-12-10T00:00:00+01:00"))
    }

    @Test func aConfirmedBookingFiresItsConfirmationNowAndItsRemindersOnTheHotelsClock() {
        let firings = DispatchPlan.firings(of: Self.bookingEvent(), rules: Self.rules, booking: Self.booking(.confirmed), cart: nil, zone: Self.madrid)
        #expect(firings.map(\.rule) == ["confirm", "pre", "post"])
        #expect(firings[0].key == "confirm:BK-1" && firings[0].due == Timestamp(rfc3339: "2026-11-20T10:15:00+01:00"))
        #expect(firings[1].due.rfc3339(in: Self.madrid) == "2026-12-07T10:00:00+01:00" && firings[1].key == "pre:BK-1:2026-12-10")
        #expect(firings[2].due.rfc3339(in: Self.madrid) == "2026-12-14T11:00:00+01:00")
        let cancelled = DispatchPlan.firings(of: Self.bookingEvent(), rules: Self.rules, booking: Self.booking(.cancelled), cart: nil, zone: Self.madrid)
        #expect(cancelled.map(\.rule) == ["cancel"])
        #expect(DispatchPlan.firings(of: Self.bookingEvent(), rules: Self.rules, booking: Self.booking(.pending), cart: nil, zone: Self.madrid).isEmpty)
    }

    @Test func aReminderStillAppliesOnlyToTheStayItWasTimedFor() {
        let rule = Self.rules[2]
        let firing = DispatchPlan.firings(of: Self.bookingEvent(), rules: [rule], booking: Self.booking(.confirmed), cart: nil, zone: Self.madrid)[0]
        func decide(_ booking: BookingRecord, at now: String) -> DispatchPlan.Decision {
            DispatchPlan.decide(firing, rule: rule, booking: booking, cart: nil, threadCustomer: nil, now: Timestamp(rfc3339: now)!,
                                maximumLateness: 48 * 3600, zone: Self.madrid)
        }
        #expect(decide(Self.booking(.confirmed), at: "2026-12-07T10:00:00+01:00") == .send)
        #expect(decide(Self.booking(.cancelled), at: "2026-12-07T10:00:00+01:00") == .skip(.noLongerApplies))
        #expect(decide(Self.booking(.confirmed, arrival: "2026-12-20"), at: "2026-12-07T10:00:00+01:00") == .skip(.noLongerApplies))
        // Booked the evening before arrival: the reminder's time passed, the stay has not begun.
        #expect(decide(Self.booking(.confirmed), at: "2026-12-09T20:00:00+01:00") == .send)
        #expect(decide(Self.booking(.confirmed), at: "2026-12-10T00:00:00+01:00") == .tooLate)
    }

    @Test func aReplayOfOldEventsConfirmsNothingAgain() {
        let rule = Self.rules[0]
        let firing = DispatchPlan.firings(of: Self.bookingEvent(at: "2025-01-10T10:00:00Z"), rules: [rule], booking: Self.booking(.confirmed),
                                          cart: nil, zone: Self.madrid)[0]
        let decision = DispatchPlan.decide(firing, rule: rule, booking: Self.booking(.confirmed), cart: nil, threadCustomer: nil,
                                           now: Timestamp(rfc3339: "2026-11-24T10:00:00Z")!, maximumLateness: 48 * 3600, zone: Self.madrid)
        #expect(decision == .tooLate)
    }

    @Test func anAbandonedCartAndAStaffReplyFireTheirRules() {
        let cartRule = DispatchRule(name: "cart", trigger: .cartAbandoned, channel: .email, template: "abandoned_cart", purpose: .marketing,
                                    delaySeconds: 4 * 3600)
        let replyRule = DispatchRule(name: "reply", trigger: .threadReply, channel: .email, template: "thread_reply", purpose: .transactional)
        let at = Timestamp(rfc3339: "2026-11-20T10:00:00Z")!
        let cart = CartRecord(id: "CART-1", customerID: 7, status: .abandoned, items: nil, total: nil, updatedAt: at, firstSeenAt: at)
        let cartEvent = DecodedEvent(envelope: Envelope(id: "c1", type: .cartUpdated, occurredAt: at, source: nil),
                                     payload: .cart(customer: nil, cart: CartInput(id: "CART-1", status: .abandoned, items: nil, total: nil)))
        let fired = DispatchPlan.firings(of: cartEvent, rules: [cartRule, replyRule], booking: nil, cart: cart, zone: Self.madrid)
        #expect(fired == [RuleFiring(rule: "cart", subject: .cart(id: "CART-1"), due: at.adding(seconds: 4 * 3600), key: "cart:CART-1")])
        var ordered = cart
        ordered.status = .ordered
        #expect(DispatchPlan.decide(fired[0], rule: cartRule, booking: nil, cart: ordered, threadCustomer: nil, now: fired[0].due,
                                    maximumLateness: 3600, zone: Self.madrid) == .skip(.noLongerApplies))
        var message = MessageInput()
        message.threadID = "T-1"
        let reply = DecodedEvent(envelope: Envelope(id: "r1", type: .contactReplied, occurredAt: at, source: nil), payload: .contactReplied(message: message))
        let replyFired = DispatchPlan.firings(of: reply, rules: [cartRule, replyRule], booking: nil, cart: nil, zone: Self.madrid)
        #expect(replyFired.map(\.key) == ["reply:r1"])
        #expect(DispatchPlan.decide(replyFired[0], rule: replyRule, booking: nil, cart: nil, threadCustomer: nil, now: at,
                                    maximumLateness: 3600, zone: Self.madrid) == .skip(.noBooking))
    }

    @Test func aTransactionalSendIsAboutTheNextStayElseTheLatestBooking() {
        let now = Timestamp(rfc3339: "2026-12-05T10:00:00Z")!
        var past = Self.booking(.completed, arrival: "2026-01-01", departure: "2026-01-03")
        past.ref = "OLD"
        var later = Self.booking(.confirmed, arrival: "2027-02-01", departure: "2027-02-03")
        later.ref = "LATER"
        var next = Self.booking(.confirmed, arrival: "2026-12-10", departure: "2026-12-12")
        next.ref = "NEXT"
        #expect(DispatchPlan.relevantBooking([past, later, next], now: now, zone: Self.madrid)?.ref == "NEXT")
        #expect(DispatchPlan.relevantBooking([past], now: now, zone: Self.madrid)?.ref == "OLD")
        #expect(DispatchPlan.relevantBooking([], now: now, zone: Self.madrid) == nil)
    }

    // MARK: dispatch.send arguments

    static let send: [String: JSONValue] = [
        "channel": .string("email"), "template": .string("newsletter"), "purpose": .string("marketing"),
        "filter": .object(["city": .string("Donostia")]),
    ]

    @Test(arguments: [
        ("channel", JSONValue.string("fax"), "args.channel"), ("channel", .null, "args.channel"), ("template", .null, "args.template"),
        ("purpose", .string("promo"), "args.purpose"), ("filter", .null, "args.filter"), ("filter", .string("all"), "args.filter"),
        ("filter", .object(["citty": .string("x")]), "args.filter.citty"), ("customer_nos", .array([.string("C-1")]), "args.customer_nos"),
        ("dry_run", .string("yes"), "args.dry_run"), ("limit", .integer(5), "args.limit"),
    ])
    func badSendArgumentsNameTheirField(_ key: String, _ value: JSONValue, _ field: String) {
        var args = Self.send
        args[key] = value == .null ? nil : value
        #expect(throws: CommandError.self) {
            do {
                _ = try DispatchRequest.parse(CommandArguments(args), phones: FakePhones(), rules: RecordRules())
            } catch let error as CommandError {
                #expect(error.field == field, "\(error)")
                throw error
            }
        }
    }

    @Test func aSendNamesAListOrAFilterAndAnEmptyFilterMeansEveryone() throws {
        var args = Self.send
        args["filter"] = nil
        args["customer_nos"] = .array([.string("C-1"), .string("C-2"), .string("C-1")])
        args["dry_run"] = .bool(true)
        let list = try DispatchRequest.parse(CommandArguments(args), phones: FakePhones(), rules: RecordRules())
        #expect(list.recipients == .customerNumbers(["C-1", "C-2"]) && list.dryRun)
        args["customer_nos"] = .array([])
        #expect(throws: CommandError.self) { try DispatchRequest.parse(CommandArguments(args), phones: FakePhones(), rules: RecordRules()) }
        args["customer_nos"] = nil
        args["filter"] = .object([:])
        let everyone = try DispatchRequest.parse(CommandArguments(args), phones: FakePhones(), rules: RecordRules())
        guard case .filter(let arguments, let search) = everyone.recipients else { Issue.record("not a filter"); return }
        #expect(arguments.isEmpty && search.conditions.isEmpty)
    }

    @Test func countsListEveryReasonSoScriptsNeedNotGuess() {
        var counts = DispatchCounts()
        counts.queued = 3
        counts.skip(.noConsent)
        let json = counts.json(dryRun: true)
        #expect(json["queued"] == .integer(3) && json["dry_run"] == .bool(true))
        #expect(json["skipped"]?["no_consent"] == .integer(1) && json["skipped"]?["erased"] == .integer(0))
        #expect(json["skipped"].map { if case .object(let object) = $0 { object.keys.count } else { 0 } } == DispatchSkip.allCases.count)
    }

    // MARK: The job

    @Test func aJobHasTheContractsShape() throws {
        let job = DispatchJob(jobID: "j", channel: .email, to: "ana.garcia@example.com", customerNo: "C-20931", language: "es",
                              template: "booking_confirmation", subject: "S", body: "B", html: nil, purpose: .transactional,
                              createdAt: Timestamp(rfc3339: "2026-11-20T10:15:01Z")!, segmentation: nil, unsubscribeURL: nil)
        guard case .object(let object) = job.json else { Issue.record("not an object"); return }
        #expect(Set(object.keys) == ["job_id", "channel", "to", "customer_no", "language", "template", "subject", "body", "purpose", "created_at"])
        #expect(object["created_at"] == .string("2026-11-20T10:15:01Z"))
        var sms = job
        sms.channel = .sms
        sms.subject = nil
        sms.segmentation = SMSSegmentation(encoding: .gsm7, segments: 1)
        #expect(sms.json["encoding"] == .string("GSM-7") && sms.json["segments"] == .integer(1) && sms.json["subject"] == nil)
    }

    @Test func templatesMayNameOnlyKnownVariables() {
        for name in ["customer.first_name", "booking", "arrival", "unsubscribe_url", "hotel.url", "."] {
            #expect(DispatchVariables.isKnown(name), "\(name)")
        }
        for name in ["customer.frist_name", "booking.price", "password", "customer.first_name.x"] {
            #expect(!DispatchVariables.isKnown(name), "\(name)")
        }
    }
}
