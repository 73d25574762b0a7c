#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// One decoder per `EnvelopeDecoder`: creating one per message showed up in the ingest profile.
    private let json = JSONDecoder()

    public init() {}

    public func decode(body: [UInt8], context: MessageContext) -> Result<Envelope, Rejection> {
        do {
            return .success(try decodeOrThrow(body: body, context: context))
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch {
            return .failure(Rejection(.invalidJSON, field: "body", "not valid JSON"))
        }
    }

    private func decodeOrThrow(body: [UInt8], context: MessageContext) throws -> Envelope {
        if let contentType = context.contentType, !Self.isJSON(contentType) {
            throw Rejection(.unsupportedEncoding, field: "properties.content_type", "must be application/json, got '\(contentType.prefix(64))'")
        }
        if let encoding = context.contentEncoding, !["", "identity", "utf-8", "utf8"].contains(encoding.lowercased()) {
            throw Rejection(.unsupportedEncoding, field: "properties.content_encoding", "compressed or encoded bodies are not accepted ('\(encoding.prefix(64))')")
        }
        // JSON is UTF-8 (RFC 8259); the decoder only checks the strings it decodes, and `data`
        // is decoded later by its handler, so check the whole body here.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw Rejection(.invalidJSON, field: "body", "not valid UTF-8")
        }
        let raw: RawEnvelope
        do {
            raw = try json.decode(RawEnvelope.self, from: Data(body))
        } catch let error as DecodingError {
            throw Self.rejection(for: error)
        }

        let id: String
        if let envelopeID = raw.id {
            id = try Self.validatedID(envelopeID, field: "id")
        } else if let messageID = context.messageID {
            id = try Self.validatedID(messageID, field: "properties.message_id")
        } else {
            throw Rejection(.missingField, field: "id", "required (neither the body's id nor AMQP message_id is set)")
        }

        let typeName: String
        let typeField: String
        if let name = raw.type {
            (typeName, typeField) = (name, "type")
        } else if let name = context.type, !name.isEmpty {
            (typeName, typeField) = (name, "properties.type")
        } else {
            (typeName, typeField) = (context.routingKey, "routing_key")
        }
        guard let type = EventType(rawValue: typeName) else {
            throw Rejection(.unknownType, field: typeField, "unknown event type '\(typeName.prefix(64))'")
        }

        guard let occurredAtText = raw.occurredAt else {
            throw Rejection(.missingField, field: "occurred_at", "required")
        }
        guard let occurredAt = Timestamp(rfc3339: occurredAtText) else {
            throw Rejection(.invalidValue, field: "occurred_at", "not an RFC 3339 date-time with offset (e.g. 2026-11-20T10:15:00+01:00)")
        }
        if let source = raw.source, source.count > Self.maximumSourceLength {
            throw Rejection(.invalidValue, field: "source", "longer than \(Self.maximumSourceLength) characters")
        }
        guard raw.data != nil else {
            throw Rejection(.missingField, field: "data", "required (an object)")
        }
        return Envelope(id: id, type: type, occurredAt: occurredAt, source: raw.source)
    }

    private static func validatedID(_ value: String, field: String) throws -> String {
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

    /// Maps the decoder's error to the field path and reason publishers see.
    static func rejection(for error: DecodingError) -> Rejection {
        func path(_ codingPath: [any CodingKey]) -> String {
            let parts = codingPath.map { key -> String in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            var text = ""
            for part in parts {
                if part.hasPrefix("[") || text.isEmpty { text += part } else { text += "." + part }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .typeMismatch(let expected, let context):
            if context.codingPath.isEmpty {
                return Rejection(.invalidJSON, field: "body", "expected a JSON object")
            }
            return Rejection(.wrongType, field: path(context.codingPath), "expected \(describe(expected))")
        case .valueNotFound(let expected, let context):
            return Rejection(.wrongType, field: path(context.codingPath), "expected \(describe(expected)), got null")
        case .keyNotFound(let key, let context):
            return Rejection(.missingField, field: path(context.codingPath + [key]), "required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Rejection(.invalidJSON, field: "body", "not valid JSON (UTF-8)")
            }
            return Rejection(.invalidValue, field: path(context.codingPath), context.debugDescription)
        @unknown default:
            return Rejection(.invalidJSON, field: "body", "not valid JSON")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Decimal.Type: return "a number"
        case is [Any].Type: return "an array"
        default: return "an object"
        }
    }
}

/// The envelope's fields as the wire has them; `data` is only checked to be an object here:
/// each event type's handler decodes its own payload.
private struct RawEnvelope: Decodable {
    let id: String?
    let type: String?
    let occurredAt: String?
    let source: String?
    let data: JSONObjectMarker?

    enum CodingKeys: String, CodingKey {
        case id, type, source, data
        case occurredAt = "occurred_at"
    }
}

/// Succeeds for any JSON object without decoding what is inside it.
private struct JSONObjectMarker: Decodable {
    init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: AnyCodingKey.self)
    }
}

/// A coding key for objects whose keys are not known in advance.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}
