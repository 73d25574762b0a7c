import Foundation
import PatronDomain
@testable import PatronService
import Testing

/// Templates are checked when loaded (a broken one is a start-up error naming its file), render
/// in the customer's language with fallback, and escape only their HTML part. Unsubscribe tokens
/// map back to their customer; job ids are stable per trigger and recipient.
struct DispatchTemplateTests {
    /// A templates directory with the given files (name → YAML).
    static func directory(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, yaml) in files { try yaml.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return directory.path
    }

    static let confirmation = """
        purpose: transactional
        booking_statuses: [confirmed]
        subject: "Booking {{booking.ref}}"
        text: "Dear {{customer.first_name}}, see you on {{booking.arrival}} at {{hotel.name}} & co."
        html: "<p>Dear {{customer.first_name}}</p>"
        sms: "{{booking.ref}}: {{booking.arrival}}"
        """

    static var variables: DispatchVariables {
        var variables = DispatchVariables()
        variables.set("customer", ["first_name": "Ana <b>"])
        variables.set("booking", ["ref": "BK-1", "arrival": "2026-12-10", "hotel": "Hotel Donostia"])
        variables.set("hotel", ["name": "Hotel Donostia"])
        return variables
    }

    @Test func theExampleTemplatesLoadAndRenderInBothLanguages() throws {
        let library = try TemplateLibrary.load(directory: "config/templates", defaultLanguage: "es")
        #expect(library.names == ["abandoned_cart", "booking_cancelled", "booking_confirmation", "newsletter", "post_stay", "pre_arrival", "thread_reply"])
        #expect(library.purpose(of: "newsletter") == .marketing && library.purpose(of: "booking_confirmation") == .transactional)
        #expect(library.bookingStatuses(of: "booking_confirmation") == [.confirmed] && library.bookingStatuses(of: "booking_cancelled") == [.cancelled])
        #expect(library.bookingStatuses(of: "thread_reply") == nil && library.bookingStatuses(of: "newsletter") == nil)
        let english = try #require(library.render("booking_confirmation", language: "en", channel: .email, variables: Self.variables))
        #expect(english.language == "en" && english.subject == "Your booking BK-1 at Hotel Donostia is confirmed")
        #expect(english.text.contains("Dear Ana <b>,") && english.text.contains("Arrival: 2026-12-10") && !english.text.contains("Total:"))
        #expect(library.render("booking_confirmation", language: "en-GB", channel: .email, variables: Self.variables)?.language == "en")
        #expect(library.render("booking_confirmation", language: "EN", channel: .email, variables: Self.variables)?.language == "en")
        let spanish = try #require(library.render("booking_confirmation", language: "es", channel: .sms, variables: Self.variables))
        #expect(spanish.subject == nil && spanish.text.hasPrefix("Reserva BK-1 confirmada"))
    }

    @Test func aMissingLanguageFallsBackToTheDefaultAndOnlyHTMLIsEscaped() throws {
        let library = try TemplateLibrary.load(directory: try Self.directory(["booking_confirmation.es.yaml": Self.confirmation]), defaultLanguage: "es")
        let message = try #require(library.render("booking_confirmation", language: "de", channel: .email, variables: Self.variables))
        #expect(message.language == "es")
        #expect(message.subject == "Booking BK-1")
        #expect(message.text == "Dear Ana <b>, see you on 2026-12-10 at Hotel Donostia & co.")
        #expect(message.html == "<p>Dear Ana &lt;b&gt;</p>")
        #expect(library.render("booking_confirmation", language: "de", channel: .sms, variables: Self.variables)?.text == "BK-1: 2026-12-10")
        #expect(library.render("no_such", language: "es", channel: .email, variables: Self.variables) == nil)
    }

    @Test(arguments: [
        (["booking_confirmation.en.yaml": confirmation], "booking_confirmation.es.yaml", "default language"),
        (["booking_confirmation.es.yaml": confirmation.replacingOccurrences(of: "{{booking.ref}}\"", with: "{{#booking}}\"")],
         "booking_confirmation.es.yaml", "subject"),
        (["booking_confirmation.es.yaml": confirmation.replacingOccurrences(of: "customer.first_name}}, see", with: "customer.frist_name}}, see")],
         "booking_confirmation.es.yaml", "'customer.frist_name' is not a template variable"),
        (["booking_confirmation.es.yaml": confirmation + "\nfooter: x"], "booking_confirmation.es.yaml", "unknown key 'footer'"),
        (["booking_confirmation.es.yaml": confirmation.replacingOccurrences(of: "purpose: transactional", with: "purpose: promo")],
         "booking_confirmation.es.yaml", "purpose"),
        (["booking_confirmation.es.yaml": "purpose: transactional\ntext: x"], "booking_confirmation.es.yaml", "subject: required"),
        (["booking_confirmation.es.yaml": confirmation,
          "booking_confirmation.en.yaml": confirmation.replacingOccurrences(of: "purpose: transactional\nbooking_statuses: [confirmed]",
                                                                            with: "purpose: marketing")],
         "booking_confirmation.*.yaml", "same purpose"),
        (["Booking.es.yaml": confirmation], "Booking.es.yaml", "TEMPLATE.LANGUAGE.yaml"),
        // About a booking without saying which bookings it is true of.
        (["booking_confirmation.es.yaml": confirmation.replacingOccurrences(of: "booking_statuses: [confirmed]\n", with: "")],
         "booking_confirmation.es.yaml", "booking_statuses: required"),
        (["booking_confirmation.es.yaml": confirmation.replacingOccurrences(of: "[confirmed]", with: "[confirmed, paid]")],
         "booking_confirmation.es.yaml", "'paid' is not a booking status"),
        (["booking_confirmation.es.yaml": confirmation.replacingOccurrences(of: "[confirmed]", with: "confirmed")],
         "booking_confirmation.es.yaml", "booking_statuses: a non-empty list"),
        (["newsletter.es.yaml": "purpose: marketing\nbooking_statuses: [confirmed]\nsubject: s\ntext: t"],
         "newsletter.es.yaml", "a marketing template is about no booking"),
        (["booking_confirmation.es.yaml": confirmation,
          "booking_confirmation.en.yaml": confirmation.replacingOccurrences(of: "[confirmed]", with: "[confirmed, completed]")],
         "booking_confirmation.*.yaml", "same booking_statuses"),
        (["booking_confirmation.es.yaml": "subject: [unclosed"], "booking_confirmation.es.yaml", "YAML"),
    ])
    func aBrokenTemplateIsALoadErrorNamingItsFile(_ files: [String: String], _ file: String, _ reason: String) throws {
        let directory = try Self.directory(files)
        #expect(throws: TemplateLibrary.LoadError.self) {
            do {
                _ = try TemplateLibrary.load(directory: directory, defaultLanguage: "es")
            } catch let error as TemplateLibrary.LoadError {
                #expect(error.file == (directory as NSString).appendingPathComponent(file), "\(error)")
                #expect(error.reason.contains(reason), "\(error)")
                throw error
            }
        }
    }

    @Test func aMissingTemplatesDirectoryIsALoadErrorNamingIt() {
        #expect(throws: TemplateLibrary.LoadError.self) {
            do {
                _ = try TemplateLibrary.load(directory: "/nonexistent/templates", defaultLanguage: "es")
            } catch let error as TemplateLibrary.LoadError {
                #expect(error.file == "/nonexistent/templates" && error.reason.contains("cannot read"), "\(error)")
                throw error
            }
        }
    }

    @Test func rulesMustFindTheirTemplateWithTheirPurposeAndMarketingNeedsAnUnsubscribeLink() throws {
        var configuration = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:])
        _ = try Patron.loadTemplates(configuration)
        let confirmation = try #require(configuration.dispatch.rules.firstIndex { $0.name == "booking_confirmation" })
        configuration.dispatch.rules[confirmation].template = "missing"
        #expect(throws: ConfigurationError.self) { try Patron.loadTemplates(configuration) }
        configuration = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:])
        configuration.dispatch.rules[confirmation].purpose = .marketing
        #expect(throws: ConfigurationError.self) { try Patron.loadTemplates(configuration) }
        configuration = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:])
        configuration.dispatch.unsubscribeURL = nil
        #expect(throws: ConfigurationError(key: "dispatch.unsubscribe_url",
                                           reason: "required: template 'abandoned_cart' is marketing, and marketing email must carry an unsubscribe link")) {
            try Patron.loadTemplates(configuration)
        }
    }

    @Test func anUnsubscribeTokenMapsBackToItsCustomerAndCannotBeForged() {
        let tokens = UnsubscribeTokens(secret: "secret-secret-secret-secret-secret")
        let token = tokens.token(for: "C-20931")
        #expect(tokens.customerNo(in: token) == "C-20931")
        #expect(!token.contains("/") && !token.contains("+") && !token.contains("="))
        let forged = UnsubscribeTokens(secret: "another-secret-another-secret-0000").token(for: "C-1")
        #expect(tokens.customerNo(in: forged) == nil)
        let swapped = tokens.token(for: "C-1").split(separator: ".")[0] + "." + token.split(separator: ".")[1]
        #expect(tokens.customerNo(in: String(swapped)) == nil)
        #expect(tokens.customerNo(in: "garbage") == nil)
    }

    @Test func aJobIdIsTheSameForTheSameTriggerAndRecipientOnly() {
        let id = DispatchJobID.make(trigger: "rule:confirm:BK-1", customer: 7)
        #expect(id == DispatchJobID.make(trigger: "rule:confirm:BK-1", customer: 7))
        #expect(id != DispatchJobID.make(trigger: "rule:confirm:BK-1", customer: 8))
        #expect(id != DispatchJobID.make(trigger: "rule:confirm:BK-2", customer: 7))
        #expect(UUID(uuidString: id) != nil && Array(id)[14] == "8", "\(id)")
    }

    @Test(arguments: [
        ("dispatch:\n  rules:\n    x: {when: booking_confirmed, channel: email, template: t, purpose: transactional}\n", "dispatch.templates"),
        ("dispatch:\n  templates: t\n  rules:\n    x: {when: arrival, channel: email, template: t, purpose: transactional}\n", "dispatch.rules.x.when"),
        ("dispatch:\n  templates: t\n  rules:\n    x: {when: before_arrival, delay: 36h, channel: sms, template: t, purpose: transactional}\n", "dispatch.rules.x.delay"),
        ("dispatch:\n  templates: t\n  rules:\n    x: {when: before_arrival, channel: sms, template: t, purpose: transactional}\n", "dispatch.rules.x.delay"),
        ("dispatch:\n  templates: t\n  rules:\n    x: {when: booking_confirmed, channel: email, template: t, purpose: transactional, send_at: \"10:00\"}\n", "dispatch.rules.x.send_at"),
        ("dispatch:\n  quiet_hours: {from: \"21:00\"}\n", "dispatch.quiet_hours.to"),
        ("dispatch:\n  unsubscribe_url: https://x.example/unsubscribe\n", "dispatch.unsubscribe_url"),
        ("dispatch:\n  rate_limits: {fax: 3}\n", "dispatch.rate_limits.fax"),
        ("dispatch:\n  timezone: CET\n", "dispatch.timezone"),
        ("dispatch:\n  sms_opt_out: \" \"\n", "dispatch.sms_opt_out"),
    ])
    func badDispatchSettingsNameTheirKey(_ yaml: String, _ key: String) {
        #expect(throws: ConfigurationError.self) {
            do {
                _ = try ConfigurationLoader.parse(yaml: "records:\n  erasure_hash_key: 0123456789abcdef0123456789abcdef\n" + yaml)
            } catch let error as ConfigurationError {
                #expect(error.key == key, "\(error)")
                throw error
            }
        }
    }

    @Test func theExampleDispatchSettingsAreRead() throws {
        let dispatch = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:]).dispatch
        #expect(dispatch.quietHours == QuietHours(start: 21 * 60, end: 9 * 60) && dispatch.rateLimits == [.email: 200, .sms: 20])
        let pre = try #require(dispatch.rules.first { $0.name == "pre_arrival" })
        #expect(pre.trigger == .beforeArrival && pre.delaySeconds == 3 * 86_400 && pre.sendAt == 600 && pre.channel == .email)
        let cart = try #require(dispatch.rules.first { $0.name == "abandoned_cart" })
        #expect(cart.delaySeconds == 4 * 3600 && cart.purpose == .marketing)
        #expect(dispatch.timeZone.identifier == "Europe/Madrid" && dispatch.hotel["name"] == "Hotel Donostia")
    }
}
