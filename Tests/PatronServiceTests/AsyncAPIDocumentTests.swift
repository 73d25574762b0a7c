import Foundation
import PatronDomain
import PatronPhone
import PatronService
import Testing
import Yams

/// docs/asyncapi.yaml is what publishers copy from: it must be valid AsyncAPI 3.0 and its
/// examples must mean what they say to Patron's own decoder.
struct AsyncAPIDocumentTests {
    private static func document() throws -> [String: Any] {
        let text = try String(contentsOfFile: "docs/asyncapi.yaml", encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    private static func messages() throws -> [String: [String: Any]] {
        let components = try #require(try document()["components"] as? [String: Any])
        return try #require(components["messages"] as? [String: [String: Any]])
    }

    private static func json(_ value: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: value))
    }

    @Test func validatesAgainstTheOfficialSchema() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "scripts/validate-asyncapi")
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
    }

    @Test func everyEventExampleIsAcceptedAsItsType() throws {
        var checked = 0
        for (_, message) in try Self.messages() {
            guard let payload = message["payload"] as? [String: Any], payload["$ref"] as? String == "#/components/schemas/Envelope" else { continue }
            let name = try #require(message["name"] as? String)
            let examples = try #require(message["examples"] as? [[String: Any]], "\(name) has no example")
            for example in examples {
                let body = try Self.json(try #require(example["payload"]))
                let result = EventDecoder(rules: RecordRules(), phones: LibPhoneNumberNormalizer()).decode(body: body, context: MessageContext(routingKey: name))
                switch result {
                case .success(let event): #expect(event.envelope.type.rawValue == name)
                case .failure(let rejection): Issue.record("\(name) example refused: \(rejection)")
                }
                checked += 1
            }
        }
        #expect(checked >= 7)
    }

    @Test func deadLetterExampleIsRefusedForTheReasonItsHeadersGive() throws {
        let deadLetter = try #require(try Self.messages()["DeadLetter"])
        for example in try #require(deadLetter["examples"] as? [[String: Any]]) {
            let headers = try #require(example["headers"] as? [String: Any])
            let body = try Self.json(try #require(example["payload"]))
            let routingKey = try #require(headers["x-patron-original-routing-key"] as? String)
            guard case .failure(let rejection) = EventDecoder(rules: RecordRules(), phones: LibPhoneNumberNormalizer()).decode(body: body, context: MessageContext(routingKey: routingKey)) else {
                Issue.record("the dead-letter example is accepted")
                continue
            }
            #expect(headers["x-patron-error"] as? String == rejection.description)
            #expect(headers["x-patron-error-field"] as? String == rejection.field)
            #expect(headers["x-patron-error-reason"] as? String == rejection.reason.rawValue)
        }
    }

    @Test func commandExamplesParse() throws {
        let request = try #require(try Self.messages()["CommandRequest"])
        for example in try #require(request["examples"] as? [[String: Any]]) {
            let body = try Self.json(try #require(example["payload"]))
            if case .failure(let error) = CommandRequest.parse(body) { Issue.record("\(error)") }
        }
    }

    @Test func importExampleIsAListPatronReadsWhole() throws {
        let request = try #require(try Self.messages()["CommandRequest"])
        let examples = try #require(request["examples"] as? [[String: Any]])
        let example = try #require(examples.first { $0["name"] as? String == "importDryRun" })
        let args = try #require((example["payload"] as? [String: Any])?["args"] as? [String: Any])
        let content = try #require(args["content"] as? String)
        let importer = CustomerImport(rules: RecordRules(), phones: LibPhoneNumberNormalizer(), hasher: HMACIdentityHasher(key: "example"))
        let batch = try importer.read(Array(content.utf8), customGroups: [], asOf: .now)
        #expect(batch.rows.count == 2 && batch.rejected.isEmpty)
    }

    @Test func exportExampleIsARequestPatronAccepts() throws {
        let request = try #require(try Self.messages()["CommandRequest"])
        let examples = try #require(request["examples"] as? [[String: Any]])
        let example = try #require(examples.first { $0["name"] as? String == "exportNewsletterList" })
        let body = try Self.json(try #require(example["payload"]))
        let parsed = try CommandRequest.parse(body).get()
        let export = try ExportRequest.parse(CommandArguments(parsed.args), phones: LibPhoneNumberNormalizer(), rules: RecordRules(),
                                             defaultLanguage: "en")
        #expect(export.delimiter == .semicolon && export.byteOrderMark && export.language == .spanish && export.fields.count == 6)
    }

    @Test func scheduleExampleIsAScheduleOfAnExportPatronAccepts() throws {
        let request = try #require(try Self.messages()["CommandRequest"])
        let examples = try #require(request["examples"] as? [[String: Any]])
        let example = try #require(examples.first { $0["name"] as? String == "weeklyExportSchedule" })
        let parsed = try CommandRequest.parse(try Self.json(try #require(example["payload"]))).get()
        let schedule = try Schedule.parse(CommandArguments(parsed.args), now: Timestamp(rfc3339: "2026-11-24T08:00:00Z")!) { _, args, _ in
            _ = try ExportRequest.parse(args, phones: LibPhoneNumberNormalizer(), rules: RecordRules(), defaultLanguage: "en")
        }
        #expect(schedule.json["next_run"] == .string("2026-11-30T07:00:00+01:00"))
    }

    @Test(arguments: ["monthlyFollowUpSchedule", "noShowsReport"])
    func reportExamplesAreRequestsPatronAccepts(_ name: String) throws {
        let request = try #require(try Self.messages()["CommandRequest"])
        let examples = try #require(request["examples"] as? [[String: Any]])
        let example = try #require(examples.first { $0["name"] as? String == name })
        let parsed = try CommandRequest.parse(try Self.json(try #require(example["payload"]))).get()
        if parsed.command == "reports.run" {
            _ = try ReportRequest.parse(CommandArguments(parsed.args), zone: nil, defaultLanguage: "en")
        } else {
            _ = try Schedule.parse(CommandArguments(parsed.args), now: Timestamp(rfc3339: "2026-11-24T08:00:00Z")!) { action, args, zone in
                #expect(action == .report)
                _ = try ReportRequest.parse(args, zone: zone, defaultLanguage: "en")
            }
        }
    }

    /// Each dispatch job example is exactly what Patron writes for those fields: rebuilt as a
    /// `DispatchJob` from its own values, it encodes to the same JSON.
    @Test(arguments: ["bookingConfirmation", "newsletterEmail", "preArrivalSMS"])
    func dispatchJobExamplesAreWhatPatronPublishes(_ name: String) throws {
        let message = try #require(try Self.messages()["DispatchJob"])
        let examples = try #require(message["examples"] as? [[String: Any]])
        let payload = try JSONValue(parsing: try Self.json(try #require(examples.first { $0["name"] as? String == name }?["payload"])))
        func text(_ key: String) -> String? { payload[key]?.stringValue }
        let job = DispatchJob(
            jobID: try #require(text("job_id")), channel: try #require(DispatchChannel(rawValue: text("channel") ?? "")), to: try #require(text("to")),
            customerNo: try #require(text("customer_no")), language: try #require(text("language")), template: try #require(text("template")),
            subject: text("subject"), body: try #require(text("body")), html: text("html"),
            purpose: try #require(DispatchPurpose(rawValue: text("purpose") ?? "")),
            createdAt: try #require(Timestamp(rfc3339: text("created_at") ?? "")),
            segmentation: try text("encoding").map { SMSSegmentation(encoding: try #require(SMSEncoding(rawValue: $0)), segments: Int(payload["segments"]?.intValue ?? 0)) },
            unsubscribeURL: text("unsubscribe_url"))
        #expect(job.json == payload)
        #expect(UUID(uuidString: job.jobID) != nil)
        if let segmentation = job.segmentation { #expect(SMSSegmentation(measuring: job.body) == segmentation) }
    }

    @Test(arguments: ["newsletterDryRun", "smsToListedCustomers", "monthlyFollowUpMailing"])
    func dispatchExamplesAreRequestsPatronAccepts(_ name: String) throws {
        let request = try #require(try Self.messages()["CommandRequest"])
        let examples = try #require(request["examples"] as? [[String: Any]])
        let example = try #require(examples.first { $0["name"] as? String == name })
        let parsed = try CommandRequest.parse(try Self.json(try #require(example["payload"]))).get()
        if parsed.command == "dispatch.send" {
            _ = try DispatchRequest.parse(CommandArguments(parsed.args), phones: LibPhoneNumberNormalizer(), rules: RecordRules())
        } else {
            _ = try Schedule.parse(CommandArguments(parsed.args), now: Timestamp(rfc3339: "2026-11-24T08:00:00Z")!) { action, args, _ in
                #expect(action == .dispatch)
                _ = try DispatchRequest.parse(args, phones: LibPhoneNumberNormalizer(), rules: RecordRules())
            }
        }
    }

    @Test func everyEventTypeOfTheContractIsDocumented() throws {
        let components = try #require(try Self.document()["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        let envelope = try #require(schemas["Envelope"] as? [String: Any])
        let properties = try #require(envelope["properties"] as? [String: Any])
        let type = try #require(properties["type"] as? [String: Any])
        #expect(Set(try #require(type["enum"] as? [String])) == Set(EventType.allCases.map(\.rawValue)))
    }
}
