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
    /// A file the gateway attaches: an export or report that a schedule delivers to staff
    /// (``FileDelivery``), fetched with `exports.fetch` and checked against its SHA-256.
    public struct Attachment: Sendable, Equatable {
        public var exportID: String
        public var fileName: String
        public var format: String
        public var rows: Int
        public var sha256: String

        public var json: JSONValue {
            .object(["export_id": .string(exportID), "file_name": .string(fileName), "format": .string(format), "rows": .integer(Int64(rows)),
                     "sha256": .string(sha256)])
        }
    }

    public var jobID: String
    public var channel: DispatchChannel
    /// An email address, or an E.164 number.
    public var to: String
    /// Empty for a job to staff (``FileDelivery``): left out of the body.
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
    /// A scheduled file to staff only.
    public var attachment: Attachment?

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
            "language": .string(language), "template": .string(template),
            "body": .string(body), "purpose": .string(purpose.rawValue), "created_at": .string(createdAt.description),
        ]
        if !customerNo.isEmpty { object["customer_no"] = .string(customerNo) }
        if let subject { object["subject"] = .string(subject) }
        if let html { object["html"] = .string(html) }
        if let segmentation {
            object["encoding"] = .string(segmentation.encoding.rawValue)
            object["segments"] = .integer(Int64(segmentation.segments))
        }
        if let unsubscribeURL { object["unsubscribe_url"] = .string(unsubscribeURL) }
        if let attachment { object["attachment"] = attachment.json }
        return .object(JSONObject(object))
    }
}
