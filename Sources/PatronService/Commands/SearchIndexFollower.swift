import Logging
import ServiceLifecycle

/// Keeps the search index current between searches: every quarter second it applies what was
/// committed since, so that a search applies at most that much before it answers (at the
/// ingest rates measured, a few hundred customers, a few milliseconds).
final class SearchIndexFollower: Service, Sendable {
    private let update: @Sendable () async throws -> Void
    private let logger: Logger

    /// `update`: ``Storage/updateSearchIndex()``.
    init(update: @escaping @Sendable () async throws -> Void, logger: Logger) {
        self.update = update
        self.logger = logger
    }

    func run() async throws {
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await update()
                if failing { logger.notice("the search index reads the latest changes again") }
                failing = false
            } catch {
                // Once per outage, not four times a second. A search applies the changes itself,
                // and reports its own failure.
                if !failing { logger.warning("the search index could not read the latest changes; retrying", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) }
        }
    }
}
