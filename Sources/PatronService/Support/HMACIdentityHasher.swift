import CPatronShims
import PatronDomain

/// HMAC-SHA256 under the configured key, as lowercase hex.
public struct HMACIdentityHasher: IdentityHasher {
    private let key: [UInt8]

    public init(key: String) {
        self.key = Array(key.utf8)
    }

    public func hash(_ identity: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let data = Array(identity.utf8)
        let status = patron_hmac_sha256(key, key.count, data, data.count, &digest)
        precondition(status == 0, "HMAC-SHA256 failed")
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
