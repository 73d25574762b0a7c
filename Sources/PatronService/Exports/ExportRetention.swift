import Foundation
import Logging
import PatronDomain
import PatronStorage
import ServiceLifecycle

/// Deletes export files older than the retention period, hourly, and marks their log entries.
public final class ExportRetention: Service, Sendable {
    private let log: SQLiteExportLog
    private let retentionDays: Int
    private let logger: Logger

    public init(log: SQLiteExportLog, retentionDays: Int, logger: Logger) {
        self.log = log
        self.retentionDays = retentionDays
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await removeExpired(now: .now)
            } catch {
                logger.warning("export retention could not run; retrying in an hour", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(3600))
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
}
