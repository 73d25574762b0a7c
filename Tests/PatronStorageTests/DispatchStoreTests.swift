import Foundation
import PatronDomain
@testable import PatronService
@testable import PatronStorage
import Testing

/// Dispatch on a real database (both engines): rules queue jobs in the event's transaction and set timers
/// for later ones; the same trigger never yields a second job; consent, erasure and quiet hours
/// decide who gets what; a dry run counts exactly what a send does.
struct DispatchStoreTests {
    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/templates").path

    static func settings() throws -> PatronConfiguration.Dispatch {
        var settings = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:]).dispatch
        settings.templatesDirectory = templates
        return settings
    }

    /// A day `days` from today, as booking dates are written.
    static func day(_ days: Int) -> String {
        String(Timestamp(microseconds: Timestamp.now.microseconds + Int64(days) * 86_400_000_000).description.prefix(10))
    }

    static func event(_ id: String, _ type: String, secondsAgo: Int64 = 0, _ data: String) -> String {
        let at = Timestamp(microseconds: Timestamp.now.microseconds - secondsAgo * 1_000_000)
        return #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(at.description)","source":"test","data":\#(data)}"#
    }

    static func booking(_ id: String, ref: String = "BK-1", status: String = "confirmed", customer: String = #"{"customer_no":"C-1","first_name":"Ana","email":"Ana@Example.com","mobile":"600111222","language":"en"}"#,
                        arrival: Int = 10, secondsAgo: Int64 = 0, type: String = "booking.created") -> String {
        event(id, type, secondsAgo: secondsAgo, #"{"customer":\#(customer),"booking":{"ref":"\#(ref)","status":"\#(status)","hotel":"Hotel Donostia","arrival":"\#(day(arrival))","departure":"\#(day(arrival + 2))","amount":"412.50","currency":"EUR"}}"#)
    }

    static func jobs(_ fixture: RecordsFixture) async throws -> [(jobID: String, trigger: String, body: JSONValue, notBefore: Int64)] {
        try await fixture.rows("SELECT job_id, trigger, body, not_before FROM dispatch_outbox ORDER BY id").map { row in
            guard case .blob(let body) = row["body"] else { throw TestSetupError("dispatch_outbox.body is not a blob") }
            return (row.text("job_id") ?? "", row.text("trigger") ?? "", try JSONValue(parsing: body), row["not_before"]?.integerValue ?? 0)
        }
    }

    static func timers(_ fixture: RecordsFixture) async throws -> [String] {
        try await fixture.texts("SELECT key FROM dispatch_timers ORDER BY key")
    }

    @Test(arguments: Engine.allCases) func aConfirmedBookingQueuesItsConfirmationOnceAndTimesItsReminders(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        try await fixture.ingest(Self.booking("e1"))
        // The ingest's transaction recorded the firing; composing comes after its commit.
        let (firings, composed) = (try await Self.timers(fixture), try await Self.jobs(fixture))
        #expect(composed.isEmpty && firings.contains("booking_confirmation:BK-1"))
        try await fixture.fireDueRules()
        // The publisher sends the booking again under a new event id: still one confirmation.
        try await fixture.ingest(Self.booking("e2", type: "booking.updated"))
        try await fixture.fireDueRules()
        let jobs = try await Self.jobs(fixture)
        #expect(jobs.count == 1 && jobs[0].trigger == "rule:booking_confirmation:BK-1")
        let job = jobs[0].body
        #expect(job["channel"] == .string("email") && job["to"] == .string("ana@example.com") && job["customer_no"] == .string("C-1"))
        #expect(job["language"] == .string("en") && job["template"] == .string("booking_confirmation") && job["purpose"] == .string("transactional"))
        #expect(job["subject"] == .string("Your booking BK-1 at Hotel Donostia is confirmed"))
        #expect(job["body"]?.stringValue?.contains("Total: 412.50 EUR\n\nSee you soon,\nHotel Donostia") == true && job["html"] != nil && job["unsubscribe_url"] == nil)
        #expect(try await Self.timers(fixture) == [
            "post_stay:BK-1:\(Self.day(12))", "pre_arrival:BK-1:\(Self.day(10))", "pre_arrival_sms:BK-1:\(Self.day(10))",
        ])
    }

    @Test(arguments: Engine.allCases) func dueTimersBecomeJobsUnlessTheStayChangedOrTheCustomerWasErased(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        try await fixture.ingest(Self.booking("e1", arrival: 10), Self.booking("e2", ref: "BK-2", customer: #"{"customer_no":"C-2","email":"luis@example.com","mobile":"600222333"}"#, arrival: 10),
                                 Self.booking("e3", ref: "BK-3", customer: #"{"customer_no":"C-3","email":"zoe@example.com"}"#, arrival: 10))
        try await fixture.fireDueRules()
        try await fixture.ingest(Self.event("e4", "booking.cancelled", #"{"booking":{"ref":"BK-2"}}"#))
        try await fixture.fireDueRules()
        try await fixture.ingest(Self.event("e5", "customer.erasure_requested", #"{"customer":{"customer_no":"C-3"}}"#))
        // C-2 was confirmed, then cancelled; C-3's confirmation, not yet published, went with the erasure.
        #expect(try await Self.jobs(fixture).map(\.trigger) == ["rule:booking_confirmation:BK-1", "rule:booking_confirmation:BK-2",
                                                                "rule:cancellation_notice:BK-2"])
        let timers = DispatchTimers(outbox: fixture.stores.dispatchOutbox, store: fixture.store, runner: fixture.ruleRunner,
                                    logger: .init(label: "test"))
        // Seven days on, at 10:00 Madrid: the email reminder (3 days before) is due, the SMS one (1 day before) not yet.
        let dueDay = CalendarDate.dayNumber(Self.day(7))!
        let sevenDaysOn = Timestamp(microseconds: (WallClock.firstInstant(of: dueDay * 86_400 + 10 * 3600 + 60, in: TimeZone(identifier: "Europe/Madrid")!)) * 1_000_000)
        try await timers.fireDue(now: sevenDaysOn)
        let jobs = try await Self.jobs(fixture)
        #expect(jobs.map(\.trigger).last == "rule:pre_arrival:BK-1:\(Self.day(10))" && jobs.count == 4)
        #expect(jobs.last?.body["body"]?.stringValue?.contains("we look forward to welcoming you on \(Self.day(10))") == true)
        // The cancelled and the erased customers' reminders were dropped with their timers; the later ones wait.
        let left = try await Self.timers(fixture)
        #expect(left.allSatisfy { !$0.hasPrefix("pre_arrival:") } && left.contains("pre_arrival_sms:BK-1:\(Self.day(10))"), "\(left)")
    }

    @Test(arguments: Engine.allCases) func aStaffReplyIsMailedAtOnceAndAnAbandonedCartRemindedLaterIfStillAbandoned(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        let ana = #"{"customer_no":"C-1","first_name":"Ana","email":"ana@example.com","newsletter":true}"#
        try await fixture.ingest(
            Self.event("q1", "contact.submitted", secondsAgo: 60, #"{"customer":\#(ana),"message":{"thread_id":"T-1","subject":"Late arrival","body":"We land at 23:00"}}"#),
            Self.event("r1", "contact.replied", #"{"message":{"thread_id":"T-1","body":"The night porter will have your key.","author":"maria"}}"#),
            Self.event("c1", "cart.updated", #"{"customer":\#(ana),"cart":{"id":"CART-1","status":"abandoned","total":"137.50","currency":"EUR"}}"#),
            Self.event("c2", "cart.updated", #"{"customer":{"customer_no":"C-2","email":"luis@example.com","newsletter":true},"cart":{"id":"CART-2","status":"abandoned"}}"#))
        try await fixture.fireDueRules()
        let reply = try #require(try await Self.jobs(fixture).first)
        #expect(reply.trigger == "rule:thread_reply:r1" && reply.body["subject"] == .string("Re: Late arrival"))
        #expect(reply.body["body"]?.stringValue?.contains("The night porter will have your key.") == true)
        #expect(try await Self.timers(fixture) == ["abandoned_cart:CART-1", "abandoned_cart:CART-2"])
        // Luis books his cart before the reminder's time; Ana does not.
        try await fixture.ingest(Self.event("c3", "cart.updated", #"{"cart":{"id":"CART-2","status":"ordered"}}"#))
        let timers = DispatchTimers(outbox: fixture.stores.dispatchOutbox, store: fixture.store, runner: fixture.ruleRunner,
                                    logger: .init(label: "test"))
        try await timers.fireDue(now: Timestamp.now.adding(seconds: 4 * 3600 + 60))
        let jobs = try await Self.jobs(fixture)
        #expect(jobs.map(\.trigger) == ["rule:thread_reply:r1", "rule:abandoned_cart:CART-1"])
        #expect(jobs.last?.body["purpose"] == .string("marketing") && jobs.last?.body["body"]?.stringValue?.contains("137.50 EUR") == true)
        #expect(try await Self.timers(fixture).isEmpty)
    }

    @Test(arguments: Engine.allCases) func aScheduledSendIsCheckedWhenCreated(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        let exporter = CustomerExporter(stores: fixture.stores, directory: fixture.directory.appendingPathComponent("exports").path, currency: "EUR", zone: .utc)
        let actions = ScheduleActions(exporter: exporter, phones: RecordsFixture.phones, rules: RecordRules(), defaultLanguage: "es",
                                      sender: fixture.dispatchSender(), outbox: fixture.stores.fileDeliveries)
        let zone = TimeZone(identifier: "Europe/Madrid")!
        let good: [String: JSONValue] = ["channel": .string("email"), "template": .string("newsletter"), "purpose": .string("marketing"),
                                         "filter": .object(["newsletter": .bool(true)])]
        try actions.check(.dispatch, CommandArguments(good), zone)
        for (key, value, field) in [("dry_run", JSONValue.bool(true), "args.dry_run"), ("template", .string("nope"), "args.template"),
                                    ("purpose", .string("transactional"), "args.purpose"), ("channel", .string("fax"), "args.channel"),
                                    ("idempotency_key", .string("monthly"), "args.idempotency_key")] {
            var args = good
            args[key] = value
            #expect(throws: CommandError.self) {
                do {
                    try actions.check(.dispatch, CommandArguments(args), zone)
                } catch let error as CommandError {
                    #expect(error.field == field, "\(error)")
                    throw error
                }
            }
        }
    }

    @Test(arguments: Engine.allCases) func aReplayOfOldBookingsQueuesNothing(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        try await fixture.ingest(Self.booking("old", arrival: -30, secondsAgo: 40 * 86_400))
        let jobs = try await Self.jobs(fixture)
        let timers = try await Self.timers(fixture)
        #expect(jobs.isEmpty && timers.isEmpty)
    }

    /// Consent statements arriving out of order: the latest by occurred_at decides.
    static func consentFixture(_ engine: Engine = .sqlite) async throws -> RecordsFixture {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        func profile(_ id: String, _ number: String, secondsAgo: Int64, _ fields: String) -> String {
            event(id, "customer.updated", secondsAgo: secondsAgo, #"{"customer":{"customer_no":"\#(number)",\#(fields)}}"#)
        }
        try await fixture.ingest(
            // C-1: opted in yesterday; an older opt-out arrives after it.
            profile("a1", "C-1", secondsAgo: 86_400, #""email":"one@example.com","mobile":"600111111","newsletter":true,"address":{"city":"Donostia"}"#),
            profile("a2", "C-1", secondsAgo: 2 * 86_400, #""newsletter":false"#),
            // C-2: opted in, then out.
            profile("b1", "C-2", secondsAgo: 2 * 86_400, #""email":"two@example.com","newsletter":true,"address":{"city":"Donostia"}"#),
            profile("b2", "C-2", secondsAgo: 86_400, #""newsletter":false"#),
            // C-3: never said; C-4: opted in without an email; C-5: opted in with a number that is no number.
            profile("c1", "C-3", secondsAgo: 86_400, #""email":"three@example.com","address":{"city":"Donostia"}"#),
            profile("d1", "C-4", secondsAgo: 86_400, #""mobile":"600444444","newsletter":true,"address":{"city":"Donostia"}"#),
            profile("e1", "C-5", secondsAgo: 86_400, #""email":"five@example.com","mobile":"12345","newsletter":true,"address":{"city":"Donostia"}"#))
        return fixture
    }

    static func request(_ channel: DispatchChannel, _ template: String, _ purpose: DispatchPurpose, dryRun: Bool = false,
                        numbers: [String]? = nil, more: [String: JSONValue] = [:]) throws -> DispatchRequest {
        var args: [String: JSONValue] = ["channel": .string(channel.rawValue), "template": .string(template), "purpose": .string(purpose.rawValue),
                                         "dry_run": .bool(dryRun)].merging(more) { $1 }
        if let numbers { args["customer_nos"] = .array(numbers.map(JSONValue.string)) } else { args["filter"] = .object(["city": .string("donostia"), "orders_max": .integer(0)]) }
        return try DispatchRequest.parse(CommandArguments(args), phones: RecordsFixture.phones, rules: RecordRules())
    }

    @Test func marketingReachesOnlyTheOptedInAndADryRunCountsExactlyWhatTheSendDoes() async throws {
        let fixture = try await Self.consentFixture()
        let sender = fixture.dispatchSender()
        let preview = try await sender.send(try Self.request(.email, "newsletter", .marketing, dryRun: true), trigger: "send:test:1", requestedBy: "test").counts
        #expect(try await Self.jobs(fixture).isEmpty)
        let sent = try await sender.send(try Self.request(.email, "newsletter", .marketing), trigger: "send:test:1", requestedBy: "test").counts
        #expect(sent == preview, "\(sent)")
        #expect(sent.queued == 2 && sent.skipped == [.noConsent: 2, .noAddress: 1], "\(sent)")
        let jobs = try await Self.jobs(fixture)
        #expect(Set(jobs.compactMap { $0.body["to"]?.stringValue }) == ["one@example.com", "five@example.com"])
        let link = try #require(jobs.first?.body["unsubscribe_url"]?.stringValue)
        #expect(link.hasPrefix("https://hotel-donostia.example/baja?token=") && jobs[0].body["body"]?.stringValue?.contains(link) == true)
        #expect(UnsubscribeTokens(secret: RecordsFixture.hashKey).customerNo(in: String(link.split(separator: "=").last!)) != nil)
        // The same send delivered again: the same ids, nothing new.
        let again = try await sender.send(try Self.request(.email, "newsletter", .marketing), trigger: "send:test:1", requestedBy: "test").counts
        let total = try await Self.jobs(fixture).count
        #expect(again.queued == 0 && again.alreadyQueued == 2 && total == 2)
    }

    @Test func marketingSMSCarriesTheOptOutAndWaitsOutQuietHours() async throws {
        let fixture = try await Self.consentFixture()
        let sent = try await fixture.dispatchSender().send(try Self.request(.sms, "newsletter", .marketing), trigger: "send:test:sms", requestedBy: "test").counts
        #expect(sent.queued == 2 && sent.skipped == [.noConsent: 2, .invalidPhone: 1], "\(sent)")
        // Composed directly at 23:30 Madrid: held until 09:00.
        let night = Timestamp(rfc3339: "2026-11-24T23:30:00+01:00")!
        let composer = fixture.composer
        let outcome = try await fixture.store.change { _, records in
            try composer.compose(for: try records.customer(numbered: "C-4")!, template: "newsletter", channel: .sms, purpose: .marketing,
                                 about: .recipientsOwnBooking, trigger: "send:test:night", in: records, now: night)
        }
        #expect(outcome == .queued)
        let job = try #require(try await Self.jobs(fixture).last)
        #expect(job.notBefore == Timestamp(rfc3339: "2026-11-25T09:00:00+01:00")!.microseconds)
        #expect(job.body["to"] == .string("+34600444444") && job.body["encoding"] == .string("GSM-7") && job.body["segments"] == .integer(1))
        #expect(job.body["body"]?.stringValue?.hasSuffix(" Baja: responde STOP") == true && job.body["subject"] == nil)
    }

    @Test(arguments: Engine.allCases) func transactionalSendsAreAboutTheRecipientsOwnBookingAndUnknownNumbersAreCounted(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        try await fixture.ingest(Self.booking("e1"), Self.event("p", "customer.updated", #"{"customer":{"customer_no":"C-9","email":"nine@example.com"}}"#))
        let sent = try await fixture.dispatchSender().send(try Self.request(.email, "pre_arrival", .transactional, numbers: ["C-1", "C-9", "C-404"]),
                                                           trigger: "send:test:t", requestedBy: "test").counts
        #expect(sent.queued == 1 && sent.skipped == [.noBooking: 1, .notFound: 1])
        #expect(try await Self.jobs(fixture).last?.body["body"]?.stringValue?.contains("BK-1") == true)
        // A marketing template cannot be sent as transactional to get round consent.
        await #expect(throws: CommandError.self) {
            try await fixture.dispatchSender().send(try Self.request(.email, "newsletter", .transactional, numbers: ["C-9"]), trigger: "send:test:x", requestedBy: "test").counts
        }
    }

    /// A confirmation is only sent about a confirmed booking: "your booking is confirmed" to a
    /// customer whose only booking is pending would be false.
    @Test(arguments: Engine.allCases) func aTemplateIsSentOnlyAboutBookingsInTheStatusesItDeclares(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        try await fixture.ingest(Self.booking("pending", status: "pending"),
                                 Self.booking("other", ref: "BK-2", customer: #"{"customer_no":"C-2","email":"two@example.com"}"#),
                                 Self.event("p", "customer.updated", #"{"customer":{"customer_no":"C-9","email":"nine@example.com"}}"#))
        try await fixture.fireDueRules()
        let sender = fixture.dispatchSender()
        let before = try await Self.jobs(fixture).count
        // resend: C-2's confirmation rule has just sent it the same template.
        let sent = try await sender.send(try Self.request(.email, "booking_confirmation", .transactional, numbers: ["C-1", "C-2", "C-9"],
                                                          more: ["resend": .bool(true)]),
                                         trigger: "send:test:confirm", requestedBy: "test").counts
        #expect(sent.queued == 1 && sent.skipped == [.bookingStatus: 1, .noBooking: 1], "\(sent)")
        let jobs = try await Self.jobs(fixture).dropFirst(before)
        #expect(jobs.map { $0.body["customer_no"] } == [.string("C-2")])
        // Once confirmed, the same customer qualifies; a cancellation notice does not, until cancelled.
        try await fixture.ingest(Self.booking("confirmed", status: "confirmed", type: "booking.updated"))
        let now = try await sender.send(try Self.request(.email, "booking_confirmation", .transactional, numbers: ["C-1"], more: ["resend": .bool(true)]),
                                        trigger: "send:test:again", requestedBy: "test").counts
        #expect(now.queued == 1, "\(now)")
        let cancelled = try await sender.send(try Self.request(.email, "booking_cancelled", .transactional, numbers: ["C-1"]), trigger: "send:test:c", requestedBy: "test").counts
        #expect(cancelled.queued == 0 && cancelled.skipped == [.bookingStatus: 1], "\(cancelled)")
    }

    /// EVENTS.md: a send is safe to repeat. The same send again (a new request) skips everyone
    /// it reached as `recently_sent` unless `resend`; under an `idempotency_key` a second call
    /// queues nothing and answers the first call's counts, and the key cannot be reused for
    /// another send.
    @Test(arguments: Engine.allCases) func aRepeatedSendQueuesNothingTwice(engine: Engine) async throws {
        let fixture = try await Self.consentFixture(engine)
        let sender = fixture.dispatchSender()
        let newsletter = try Self.request(.email, "newsletter", .marketing)
        let first = try await sender.send(newsletter, trigger: "send:maria:request-1", requestedBy: "maria").counts
        #expect(first.queued == 2 && first.skipped == [.noConsent: 2, .noAddress: 1], "\(first)")
        let rerun = try await sender.send(newsletter, trigger: "send:maria:request-2", requestedBy: "maria").counts
        #expect(rerun.queued == 0 && rerun.skipped == [.recentlySent: 2, .noConsent: 2, .noAddress: 1], "\(rerun)")
        // A redelivery of the first request is its own jobs, already queued, not a recent send.
        let redelivered = try await sender.send(newsletter, trigger: "send:maria:request-1", requestedBy: "maria").counts
        #expect(redelivered.alreadyQueued == 2 && redelivered.skipped[.recentlySent] == nil, "\(redelivered)")
        let resent = try await sender.send(try Self.request(.email, "newsletter", .marketing, more: ["resend": .bool(true)]),
                                           trigger: "send:maria:request-3", requestedBy: "maria").counts
        #expect(resent.queued == 2, "\(resent)")
        #expect(try await Self.jobs(fixture).count == 4)

        let keyed = try Self.request(.email, "newsletter", .marketing, more: ["idempotency_key": .string("december-newsletter")])
        let once = try await sender.send(keyed, trigger: "send:maria:request-4", requestedBy: "maria").counts
        #expect(once.queued == 2, "\(once)")
        let twice = try await sender.send(keyed, trigger: "send:luis:request-5", requestedBy: "luis").counts
        #expect(twice == once, "the first call's counts")
        #expect(try await Self.jobs(fixture).count == 6)
        let otherSend = try Self.request(.email, "newsletter", .marketing, numbers: ["C-1"], more: ["idempotency_key": .string("december-newsletter")])
        await #expect(throws: CommandError.self) {
            do {
                _ = try await sender.send(otherSend, trigger: "send:maria:request-6", requestedBy: "maria")
            } catch let error as CommandError {
                #expect(error.code == .conflict && error.field == "args.idempotency_key", "\(error)")
                throw error
            }
        }
        // The kept answer holds no filter value or customer number.
        let kept = try await fixture.rows("SELECT * FROM dispatch_sends")
        #expect(kept.count == 1 && !"\(kept)".contains("donostia") && kept.first?.text("requested_by") == "maria")
    }

    /// A dry run lists who would receive the send and who would be skipped, and why, a page at a
    /// time; its pages add up to its counts.
    @Test(arguments: Engine.allCases) func aDryRunListsItsRecipientsAPageAtATime(engine: Engine) async throws {
        let fixture = try await Self.consentFixture(engine)
        let sender = fixture.dispatchSender()
        var listed: [DispatchSender.Result.Listed] = []
        var cursor: JSONValue = .null
        var pages = 0
        repeat {
            let request = try Self.request(.email, "newsletter", .marketing, dryRun: true, more: ["limit": .integer(2), "cursor": cursor])
            let reply = try await sender.send(request, trigger: "send:test:preview", requestedBy: "test").json(dryRun: true)
            let page = try #require(reply["recipients"]?.arrayValue)
            #expect(page.count <= 2)
            listed += page.map { .init(customerNo: $0["customer_no"]?.stringValue ?? "", skipped: $0["reason"]?.stringValue.flatMap(DispatchSkip.init)) }
            cursor = reply["next_cursor"] ?? .null
            pages += 1
        } while cursor != .null && pages < 10
        #expect(pages == 3)
        #expect(listed.map(\.customerNo) == ["C-1", "C-2", "C-3", "C-4", "C-5"])
        #expect(listed.map(\.skipped) == [nil, .noConsent, .noConsent, .noAddress, nil])
        #expect(try await Self.jobs(fixture).isEmpty, "a dry run sends nothing")
        // Paging belongs to dry runs.
        #expect(throws: CommandError.self) { try Self.request(.email, "newsletter", .marketing, more: ["limit": .integer(2)]) }
        #expect(throws: CommandError.self) { try Self.request(.email, "newsletter", .marketing, dryRun: true, more: ["cursor": .string("x")]) }
    }

    /// Ingest records that a rule fired and nothing more; composing comes after the commit. A batch
    /// that never commits (a crash before its commit, here a rolled-back one) leaves no firing,
    /// and its redelivery fires the rule once; a committed firing outlives the process (a new
    /// timer loop, as after a restart, finds it) and yields one job even when two loops (two
    /// replicas) compose it at once.
    @Test(arguments: Engine.allCases) func aRuleFiringCommittedWithItsBatchIsComposedExactlyOnce(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine, dispatch: try Self.settings())
        let batch = try fixture.accepted([Self.booking("e1")])
        _ = try await fixture.store.record(batch, dryRun: true)
        #expect(try await Self.timers(fixture).isEmpty, "a batch rolled back fired nothing")
        _ = try await fixture.store.record(batch)
        let (recorded, composed) = (try await Self.timers(fixture), try await Self.jobs(fixture))
        #expect(recorded.contains("booking_confirmation:BK-1") && composed.isEmpty)
        let redelivered = try await fixture.store.record(batch)
        #expect(redelivered.duplicates == 1)
        let loops = (0..<2).map { _ in
            DispatchTimers(outbox: fixture.stores.dispatchOutbox, store: fixture.store, runner: fixture.ruleRunner, logger: .init(label: "test"))
        }
        let now = Timestamp.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for loop in loops { group.addTask { try await loop.fireDue(now: now) } }
            try await group.waitForAll()
        }
        try await fixture.fireDueRules()
        let jobs = try await Self.jobs(fixture)
        #expect(jobs.map(\.trigger) == ["rule:booking_confirmation:BK-1"])
        let left = try await Self.timers(fixture)
        #expect(!left.contains("booking_confirmation:BK-1"))
    }
}
