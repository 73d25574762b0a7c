import Logging
import PatronStorage
import ServiceLifecycle

/// Keeps the search index current between searches: every quarter second it applies what was
/// committed since, so that a search applies at most that much before it answers (at the
/// ingest rates measured, a few hundred customers, a few milliseconds).
final class SearchIndexFollower: Service, Sendable {
    private let storage: Storage
    private let logger: Logger

    init(storage: Storage, logger: Logger) {
        self.storage = storage
        self.logger = logger
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await storage.updateSearchIndex()
            } catch {
                // A search applies the changes itself, and reports its own failure.
                logger.warning("the search index could not read the latest changes; retrying", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) }
        }
    }
}
