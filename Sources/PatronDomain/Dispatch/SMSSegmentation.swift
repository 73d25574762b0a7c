/// How an SMS body travels (3GPP TS 23.038 / 23.040): in the GSM 7-bit alphabet when every
/// character is in it, else in UCS-2; and in how many segments, which the gateway bills.
public enum SMSEncoding: String, Sendable, CaseIterable {
    case gsm7 = "GSM-7"
    case ucs2 = "UCS-2"
}

public struct SMSSegmentation: Sendable, Equatable {
    public var encoding: SMSEncoding
    public var segments: Int

    public init(encoding: SMSEncoding, segments: Int) {
        self.encoding = encoding
        self.segments = segments
    }

    /// Measures a body. A single message holds 160 GSM-7 septets or 70 UCS-2 units; a
    /// concatenated one loses room to its header (153 / 67 per segment). An extension-table
    /// character (`€`, `[`, …) takes two septets and a surrogate pair two units, and neither is
    /// split across segments, so segments are packed as the handset does.
    public init(measuring text: String) {
        var septets: [Int] = []
        septets.reserveCapacity(text.unicodeScalars.count)
        var isGSM = true
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar) {
                septets.append(1)
            } else if Self.extensionTable.contains(scalar) {
                septets.append(2)
            } else {
                isGSM = false
                break
            }
        }
        if isGSM {
            self.init(encoding: .gsm7, segments: Self.pack(septets, single: 160, perSegment: 153))
        } else {
            let units = text.unicodeScalars.map { $0.value > 0xFFFF ? 2 : 1 }
            self.init(encoding: .ucs2, segments: Self.pack(units, single: 70, perSegment: 67))
        }
    }

    private static func pack(_ widths: [Int], single: Int, perSegment: Int) -> Int {
        let total = widths.reduce(0, +)
        if total <= single { return 1 }
        var segments = 1
        var used = 0
        for width in widths {
            if used + width > perSegment {
                segments += 1
                used = 0
            }
            used += width
        }
        return segments
    }

    /// The GSM 03.38 default alphabet.
    private static let basic: Set<Unicode.Scalar> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
            .unicodeScalars)
    /// Its extension table, reached through an escape septet.
    private static let extensionTable: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
