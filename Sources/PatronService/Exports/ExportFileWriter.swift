import CPatronShims
import Foundation

/// A file operation on an export failed: the operation, the path and errno's text.
public struct ExportFileError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

/// Writes one export file so that the exports directory only ever holds whole files: the bytes go
/// to a hidden temporary name (mode 0600 from creation, so no other user can open it even
/// briefly), are fsynced, and the file is renamed into place and the directory fsynced. Its
/// SHA-256 is computed on the way.
///
/// Unchecked Sendable: an export's rows are handed over one at a time on the one database
/// reader thread that reads them, so a writer is never used from two threads; it is never shared
/// between exports.
final class ExportFileWriter: @unchecked Sendable {
    let finalPath: String
    private let temporaryPath: String
    private let directory: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var digest: UnsafeMutableRawPointer?
    private static let flushSize = 1 << 20

    init(directory: String, fileName: String) throws {
        self.directory = directory
        finalPath = (directory as NSString).appendingPathComponent(fileName)
        temporaryPath = (directory as NSString).appendingPathComponent(".\(fileName).partial")
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw ExportFileError(operation: "mkdir", path: directory, code: errno) }
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 { throw ExportFileError(operation: "open", path: temporaryPath, code: errno) }
        digest = patron_sha256_begin()
        buffer.reserveCapacity(Self.flushSize + 64 * 1024)
    }

    deinit {
        abandon()
    }

    /// Appends through `body` (a row encoder writes into the buffer); the bytes reach the file in large writes.
    func withBuffer(_ body: (inout [UInt8]) -> Void) throws {
        body(&buffer)
        if buffer.count >= Self.flushSize { try flush() }
    }

    /// Syncs and renames the file into place; returns its SHA-256 in lowercase hex.
    func finish() throws -> String {
        try flush()
        guard fsync(descriptor) == 0 else { throw ExportFileError(operation: "fsync", path: temporaryPath, code: errno) }
        close(descriptor)
        descriptor = -1
        guard rename(temporaryPath, finalPath) == 0 else { throw ExportFileError(operation: "rename", path: finalPath, code: errno) }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw ExportFileError(operation: "fsync", path: directory, code: errno) }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard let context = digest, patron_sha256_finish(context, &bytes) == 0 else {
            digest = nil
            throw ExportFileError(operation: "sha256", path: finalPath, code: EIO)
        }
        digest = nil
        return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Removes the partial file (an export that failed leaves nothing behind).
    func abandon() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
            unlink(temporaryPath)
        }
        if let context = digest {
            patron_sha256_discard(context)
            digest = nil
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        if let context = digest, patron_sha256_update(context, buffer, buffer.count) != 0 {
            throw ExportFileError(operation: "sha256", path: temporaryPath, code: EIO)
        }
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ExportFileError(operation: "write", path: temporaryPath, code: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
