/// Why a customer is not sent a message; `dispatch.send` counts skips by these names.
public enum DispatchSkip: String, Error, Sendable, CaseIterable, Comparable {
    /// `customer_nos` named a number that is no customer's.
    case notFound = "not_found"
    /// Erased on request: only the anonymous row is left.
    case erased
    /// Marketing to someone whose latest consent statement is not an opt-in.
    case noConsent = "no_consent"
    /// No email address (email), or no mobile or phone number (SMS).
    case noAddress = "no_address"
    /// An SMS to a number that is not valid for its country.
    case invalidPhone = "invalid_phone"
    /// Transactional without a booking or thread of the customer's own to be about.
    case noBooking = "no_booking"
    /// The recipient's booking is in a status the template does not speak for (a confirmation
    /// for a pending booking): its `booking_statuses`.
    case bookingStatus = "booking_status"
    /// Sent the same template on the same channel within the resend window (`dispatch.send`
    /// without `idempotency_key` and without `resend`).
    case recentlySent = "recently_sent"
    /// The booking, cart or thread that triggered a delayed rule changed before its time came
    /// (cancelled, arrival moved, cart ordered).
    case noLongerApplies = "no_longer_applies"

    public static func < (lhs: DispatchSkip, rhs: DispatchSkip) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who may be sent what, and where: the consent and suppression rules of EVENTS.md.
public enum DispatchRecipient {
    /// The address a message goes to, or why it does not go.
    ///
    /// Marketing needs the latest consent statement (by `occurred_at`, so statements arriving out
    /// of order are already resolved in ``CustomerRecord/newsletter``) to be an opt-in. Email goes
    /// to the customer's email; SMS to the mobile, else the phone, in E.164.
    public static func address(of customer: CustomerRecord, erased: Bool, channel: DispatchChannel, purpose: DispatchPurpose,
                               phones: any PhoneNormalizer, defaultRegion: String) -> Result<String, DispatchSkip> {
        if erased { return .failure(.erased) }
        if purpose == .marketing, customer.newsletter?.value != "true" { return .failure(.noConsent) }
        switch channel {
        case .email:
            guard let email = customer.fields[.email]?.value, let key = EmailNormalization.key(email) else { return .failure(.noAddress) }
            return .success(key)
        case .sms:
            guard let number = customer.fields[.mobile]?.value ?? customer.fields[.phone]?.value, !number.isEmpty else {
                return .failure(.noAddress)
            }
            guard let e164 = phones.e164(number, defaultRegion: customer.fields[.country]?.value ?? defaultRegion) else {
                return .failure(.invalidPhone)
            }
            return .success(e164)
        }
    }
}
