/// An inbound message after every rule: the envelope and its validated payload.
public struct DecodedEvent: Sendable, Equatable {
    public let envelope: Envelope
    public let payload: EventPayload

    public init(envelope: Envelope, payload: EventPayload) {
        self.envelope = envelope
        self.payload = payload
    }
}

/// The envelope rules, then the `data` rules of the event's type: one decision per message,
/// made before anything is applied, so nothing is ever half-applied.
public struct EventDecoder: Sendable {
    private let envelopes = EnvelopeDecoder()
    private let data: EventDataDecoder

    public init(rules: RecordRules, phones: any PhoneNormalizer) {
        data = EventDataDecoder(rules: rules, phones: phones)
    }

    public func decode(body: [UInt8], context: MessageContext) -> Result<DecodedEvent, Rejection> {
        Result { () throws(Rejection) -> DecodedEvent in
            let (envelope, object) = try envelopes.decodeOrThrow(body: body, context: context)
            return DecodedEvent(envelope: envelope, payload: try data.decode(type: envelope.type, data: object, eventID: envelope.id))
        }
    }
}
