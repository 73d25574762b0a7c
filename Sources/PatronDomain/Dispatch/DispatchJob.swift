/// The gateway a job goes to; also its routing key on `patron.dispatch`.
public enum DispatchChannel: String, Sendable, CaseIterable {
    case email, sms
}

/// Why a message is sent (EVENTS.md): marketing needs an opt-in, transactional is about the
/// recipient's own booking or thread.
public enum DispatchPurpose: String, Sendable, CaseIterable {
    case transactional, marketing
}

/// One outbound dispatch job, in the shape of EVENTS.md ("Outbound dispatch job"), plus the
/// fields the contract leaves to us (`html`, `encoding`, `segments`, `unsubscribe_url`),
/// written down in docs/asyncapi.yaml.
public struct DispatchJob: Sendable, Equatable {
    public var jobID: String
    public var channel: DispatchChannel
    /// An email address, or an E.164 number.
    public var to: String
    public var customerNo: String
    public var language: String
    public var template: String
    /// Email only.
    public var subject: String?
    public var body: String
    /// Email only, when the template has an HTML part.
    public var html: String?
    public var purpose: DispatchPurpose
    public var createdAt: Timestamp
    /// SMS only.
    public var segmentation: SMSSegmentation?
    /// Marketing email only: where the recipient unsubscribes.
    public var unsubscribeURL: String?

    public init(jobID: String, channel: DispatchChannel, to: String, customerNo: String, language: String, template: String,
                subject: String?, body: String, html: String?, purpose: DispatchPurpose, createdAt: Timestamp,
                segmentation: SMSSegmentation?, unsubscribeURL: String?) {
        self.jobID = jobID
        self.channel = channel
        self.to = to
        self.customerNo = customerNo
        self.language = language
        self.template = template
        self.subject = subject
        self.body = body
        self.html = html
        self.purpose = purpose
        self.createdAt = createdAt
        self.segmentation = segmentation
        self.unsubscribeURL = unsubscribeURL
    }

    /// The message body as published: absent optional fields are left out rather than null.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "job_id": .string(jobID), "channel": .string(channel.rawValue), "to": .string(to),
            "customer_no": .string(customerNo), "language": .string(language), "template": .string(template),
            "body": .string(body), "purpose": .string(purpose.rawValue), "created_at": .string(createdAt.description),
        ]
        if let subject { object["subject"] = .string(subject) }
        if let html { object["html"] = .string(html) }
        if let segmentation {
            object["encoding"] = .string(segmentation.encoding.rawValue)
            object["segments"] = .integer(Int64(segmentation.segments))
        }
        if let unsubscribeURL { object["unsubscribe_url"] = .string(unsubscribeURL) }
        return .object(JSONObject(object))
    }
}
