import CPatronShims
import Foundation

/// A file operation on an export failed: the operation, the path and the reason.
public struct ExportFileError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let reason: String

    init(_ operation: String, _ path: String, errno code: Int32) {
        self.operation = operation
        self.path = path
        reason = String(cString: strerror(code))
    }

    init(_ operation: String, _ path: String, reason: String) {
        self.operation = operation
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(operation) \(path): \(reason)" }
}

/// One export file, so that the exports directory only ever holds whole files: a format writes
/// to a hidden temporary name, created empty with mode 0600 first (libxlsxwriter and libharu
/// then open it by name and keep that mode, so no other user can read it even briefly); sealing
/// syncs it, computes its SHA-256, renames it into place and syncs the directory.
final class ExportFile: Sendable {
    let finalPath: String
    let temporaryPath: String
    private let directory: String

    init(directory: String, fileName: String) throws {
        self.directory = directory
        finalPath = (directory as NSString).appendingPathComponent(fileName)
        temporaryPath = (directory as NSString).appendingPathComponent(".\(fileName)\(ExportRetention.partialSuffix)")
        try Self.makeDirectory(directory)
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 { throw ExportFileError("open", temporaryPath, errno: errno) }
        close(descriptor)
    }

    /// Makes the directory (mode 0700) and any missing parent: on PostgreSQL nothing else
    /// creates the data directory the exports directory lies in.
    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        let parent = (path as NSString).deletingLastPathComponent
        guard errno == ENOENT, !parent.isEmpty, parent != path else { throw ExportFileError("mkdir", path, errno: errno) }
        try makeDirectory(parent)
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw ExportFileError("mkdir", path, errno: errno) }
    }

    /// Syncs and renames the written file into place; returns its SHA-256 in lowercase hex.
    func seal() throws -> String {
        let descriptor = open(temporaryPath, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw ExportFileError("open", temporaryPath, errno: errno) }
        defer { close(descriptor) }
        let digest = SHA256Digest()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ExportFileError("read", temporaryPath, errno: errno)
            }
            if count == 0 { break }
            guard digest.update(chunk.prefix(count)) else { throw ExportFileError("sha256", temporaryPath, reason: "digest update failed") }
        }
        guard let hex = digest.finish() else { throw ExportFileError("sha256", temporaryPath, reason: "digest failed") }
        guard fsync(descriptor) == 0 else { throw ExportFileError("fsync", temporaryPath, errno: errno) }
        guard rename(temporaryPath, finalPath) == 0 else { throw ExportFileError("rename", finalPath, errno: errno) }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw ExportFileError("fsync", directory, errno: errno) }
        }
        return hex
    }

    /// Removes the partial file: an export that failed leaves nothing behind.
    func abandon() {
        unlink(temporaryPath)
    }
}
