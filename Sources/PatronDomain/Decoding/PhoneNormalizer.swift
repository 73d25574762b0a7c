/// Turns a phone number as written into E.164, or nil when it is not a valid number.
/// Implemented with libphonenumber outside the domain (`PatronPhone`).
public protocol PhoneNormalizer: Sendable {
    func e164(_ text: String, defaultRegion: String) -> String?
}
