/// Applies the contract's envelope rules (EVENTS.md, "Envelope of every inbound event") to one
/// message: decides its id, type and time, or the one reason it is refused.
///
/// Rules beyond the contract's words, as documented in `docs/asyncapi.yaml`:
/// - Unknown top-level fields are ignored, so publishers can add fields without breaking Patron.
/// - `null` counts as absent for `id`, `type` and `source`; an empty or over-long `id` is refused,
///   not replaced by the fallback, because it shows a publisher bug.
/// - The envelope's `type` wins over AMQP `type` and the routing key when they disagree.
/// - `data` is required and must be an object.
/// - `content_type`, when set, must be JSON; `content_encoding`, when set, must be identity/UTF-8.
public struct EnvelopeDecoder: Sendable {
    public static let maximumIDLength = 128
    public static let maximumSourceLength = 1024

    public init() {}

    public func decode(body: [UInt8], context: MessageContext) -> Result<Envelope, Rejection> {
        Result { () throws(Rejection) -> Envelope in try decodeOrThrow(body: body, context: context).envelope }
    }

    /// The envelope and its `data` object, for ``EventDecoder``.
    func decodeOrThrow(body: [UInt8], context: MessageContext) throws(Rejection) -> (envelope: Envelope, data: JSONObject) {
        if let contentType = context.contentType, !Self.isJSON(contentType) {
            throw Rejection(.unsupportedEncoding, field: "properties.content_type", "must be application/json, got '\(contentType.prefix(64))'")
        }
        if let encoding = context.contentEncoding, !["", "identity", "utf-8", "utf8"].contains(encoding.lowercased()) {
            throw Rejection(.unsupportedEncoding, field: "properties.content_encoding", "compressed or encoded bodies are not accepted ('\(encoding.prefix(64))')")
        }
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            throw Rejection(.invalidJSON, field: "body", "not valid JSON: \(error)")
        }
        guard case .object(let fields) = document else {
            throw Rejection(.invalidJSON, field: "body", "expected a JSON object, got \(document.kindDescription)")
        }

        let id: String
        if let envelopeID = try Self.optionalString(fields, "id") {
            id = try Self.validatedID(envelopeID, field: "id")
        } else if let messageID = context.messageID {
            id = try Self.validatedID(messageID, field: "properties.message_id")
        } else {
            throw Rejection(.missingField, field: "id", "required (neither the body's id nor AMQP message_id is set)")
        }

        let typeName: String
        let typeField: String
        if let name = try Self.optionalString(fields, "type") {
            (typeName, typeField) = (name, "type")
        } else if let name = context.type, !name.isEmpty {
            (typeName, typeField) = (name, "properties.type")
        } else {
            (typeName, typeField) = (context.routingKey, "routing_key")
        }
        guard let type = EventType(rawValue: typeName) else {
            throw Rejection(.unknownType, field: typeField, "unknown event type '\(typeName.prefix(64))'")
        }

        guard let occurredAtText = try Self.optionalString(fields, "occurred_at") else {
            throw Rejection(.missingField, field: "occurred_at", "required")
        }
        guard let occurredAt = Timestamp(rfc3339: occurredAtText) else {
            throw Rejection(.invalidValue, field: "occurred_at", "not an RFC 3339 date-time with offset (e.g. 2026-11-20T10:15:00+01:00)")
        }
        let source = try Self.optionalString(fields, "source")
        if let source, source.count > Self.maximumSourceLength {
            throw Rejection(.invalidValue, field: "source", "longer than \(Self.maximumSourceLength) characters")
        }
        switch fields["data"] {
        case nil, .null?:
            throw Rejection(.missingField, field: "data", "required (an object)")
        case .object(let data)?:
            return (Envelope(id: id, type: type, occurredAt: occurredAt, source: source), data)
        case let other?:
            throw Rejection(.wrongType, field: "data", "expected an object, got \(other.kindDescription)")
        }
    }

    /// A string field; absent and `null` are both "not given".
    private static func optionalString(_ fields: JSONObject, _ name: String) throws(Rejection) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw Rejection(.wrongType, field: name, "expected a string, got \(other.kindDescription)")
        }
    }

    private static func validatedID(_ value: String, field: String) throws(Rejection) -> String {
        guard !value.isEmpty, value.count <= maximumIDLength else {
            throw Rejection(.invalidValue, field: field, "must be 1–\(maximumIDLength) characters")
        }
        return value
    }

    private static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first
            .map { String($0.filter { $0 != " " && $0 != "\t" }).lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}
