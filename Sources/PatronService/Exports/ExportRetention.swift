import Foundation
import Logging
import PatronDomain
import PatronStorage
import ServiceLifecycle

/// Deletes export files older than the retention period, at start-up and hourly, and marks
/// their log entries; and the partial files of exports a crash cut short (`kill -9` mid-write
/// leaves one), once they have not changed for an hour, so a live export is never touched.
public final class ExportRetention: Service, Sendable {
    private let log: any ExportLogStore
    private let directory: String
    private let retentionDays: Int
    private let logger: Logger
    static let partialSuffix = ".partial"
    static let abandonedAfterSeconds: TimeInterval = 3600

    public init(log: any ExportLogStore, directory: String, retentionDays: Int, logger: Logger) {
        self.log = log
        self.directory = directory
        self.retentionDays = retentionDays
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await removeExpired(now: .now)
                try removeAbandonedPartials(now: .now)
            } catch {
                logger.warning("export retention could not run; retrying in an hour", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    public func removeExpired(now: Timestamp) async throws {
        let cutoff = Timestamp(microseconds: now.microseconds - Int64(retentionDays) * 86_400_000_000)
        for entry in try await log.filesCompleted(before: cutoff) {
            guard unlink(entry.file) == 0 || errno == ENOENT else {
                throw ExportFileError("unlink", entry.file, errno: errno)
            }
            try await log.markRemoved(entry.id, at: now)
        }
    }

    public func removeAbandonedPartials(now: Timestamp) throws {
        let stale = Date(timeIntervalSince1970: TimeInterval(now.microseconds / 1_000_000) - Self.abandonedAfterSeconds)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(Self.partialSuffix) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < stale else { continue }
            guard unlink(path) == 0 || errno == ENOENT else { throw ExportFileError("unlink", path, errno: errno) }
            logger.notice("removed the partial file of an export cut short", metadata: ["file": "\(name)"])
        }
    }
}
