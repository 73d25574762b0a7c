import Foundation
import Mustache
import PatronDomain
@testable import PatronService
import SeededRandom
import Testing
import Yams

/// The compiled templates render exactly what swift-mustache renders, for the shipped templates
/// and for the corners of Mustache they cover; what they do not cover does not compile (and the
/// library renders it with swift-mustache).
struct CompiledTemplateTests {
    /// Variables with each known name set or not, drawn from a seed.
    static func randomVariables(_ random: inout SplitMix64) -> DispatchVariables {
        var variables = DispatchVariables()
        for (section, fields) in DispatchVariables.known.sorted(by: { $0.key < $1.key }) where random.next() % 4 != 0 {
            var values: [String: String?] = [:]
            for field in fields where random.next() % 3 != 0 {
                values[field] = ["Ana", "<b>García</b>", "O'Neil & \"Sons\"", "ñ €", "2026-12-10"][Int(random.next() % 5)]
            }
            variables.set(section, values)
        }
        if random.next() % 2 == 0 { variables.values["unsubscribe_url"] = "https://example.com/baja?token=a&b" }
        return variables
    }

    static func expectSameAsMustache(_ source: String, html: Bool, seed: UInt64 = 1, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let compiled = try #require(CompiledTemplate(source: source, html: html), "does not compile: \(source)", sourceLocation: sourceLocation)
        let mustache = try MustacheTemplate(string: (html ? "" : "{{% CONTENT_TYPE: TEXT}}") + source)
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let variables = randomVariables(&random)
            #expect(compiled.render(variables) == mustache.render(TemplateLibrary.Part.context(variables)), "\(source)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func everyShippedTemplateCompilesAndRendersAsSwiftMustache() throws {
        let directory = "config/templates"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }
        #expect(files.count == 14)
        for file in files {
            let yaml = try #require(try Yams.load(yaml: String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)) as? [String: Any])
            for key in ["subject", "text", "html", "sms"] {
                guard let source = yaml[key] as? String else { continue }
                try Self.expectSameAsMustache(source, html: key == "html")
            }
        }
    }

    @Test(arguments: [
        "Dear {{customer.first_name}},\n{{#booking.hotel}}Hotel: {{booking.hotel}}\n{{/booking.hotel}}Bye",
        "{{^customer.first_name}}Dear guest{{/customer.first_name}}{{#customer.first_name}}Dear {{first_name}}{{/customer.first_name}}",
        // Standalone tags take their line with them; tags sharing a line do not.
        "Lines:\n{{#booking}}\n  {{! a comment alone }}\n  ref {{ref}}\n{{/booking}}\nend\n",
        "  {{#booking}}  \nx\n  {{/booking}}  \n{{#cart}}{{id}}{{/cart}}\n",
        "{{#booking}}{{#booking.amount}}{{amount}} {{currency}}{{/booking.amount}}{{/booking}}",
        "{{{customer.first_name}}} {{& customer.last_name}} {{customer.name}} {{unsubscribe_url}}",
        "{{#thread}}{{subject}}: {{reply}} ({{author}}){{/thread}}{{^thread}}no thread{{/thread}}",
        "{{# hotel.name }}{{ hotel.name }}{{/ hotel.name }}",
    ])
    func mustacheCornersRenderTheSame(source: String) throws {
        try Self.expectSameAsMustache(source, html: false)
        try Self.expectSameAsMustache(source, html: true, seed: 2)
    }

    @Test(arguments: ["{{> footer}}", "{{=<% %>=}}<% customer.first_name %>", "{{.}}", "{{booking}}", "{{#booking}}unclosed",
                      "{{/booking}}", "{{#a}}{{/b}}", "{{% CONTENT_TYPE: TEXT}}x", "{{customer.first_name.x}}"])
    func whatItDoesNotCoverDoesNotCompile(source: String) {
        #expect(CompiledTemplate(source: source, html: false) == nil)
    }
}
