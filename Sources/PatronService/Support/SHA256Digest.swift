import CPatronShims

/// SHA-256 through OpenSSL (the shims' context), fed in pieces: an export's file as it is sealed,
/// and as patronctl receives it in parts.
public final class SHA256Digest {
    private var context: UnsafeMutableRawPointer?

    public init() {
        context = patron_sha256_begin()
    }

    deinit {
        if let context { patron_sha256_discard(context) }
    }

    /// False when the digest cannot go on (no context, or OpenSSL refused the data).
    @discardableResult
    public func update(_ bytes: some Collection<UInt8>) -> Bool {
        guard let context else { return false }
        // Arrays, their slices and Data are digested where they lie, without a copy (an export
        // feeds megabytes at a time).
        func digest(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool { patron_sha256_update(context, buffer.baseAddress, buffer.count) == 0 }
        let accepted = bytes.withContiguousStorageIfAvailable(digest) ?? Array(bytes).withUnsafeBufferPointer(digest)
        if !accepted { discard() }
        return accepted
    }

    /// The digest in lowercase hex; nil when it failed along the way.
    public func finish() -> String? {
        guard let context else { return nil }
        self.context = nil
        var bytes = [UInt8](repeating: 0, count: 32)
        guard patron_sha256_finish(context, &bytes) == 0 else { return nil }
        return bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    private func discard() {
        if let context { patron_sha256_discard(context) }
        context = nil
    }
}
