import Foundation
@testable import PatronService
import Synchronization
import Testing

/// The follower keeps the search index current four times a second; when the database does not
/// answer it says so once per outage, not four times a second, and says when it recovers.
struct SearchIndexFollowerTests {
    struct Unreachable: Error {}

    @Test func anOutageIsLoggedOnceAndTheRecoveryToo() async throws {
        let log = CapturedLog()
        let calls = Mutex(0)
        let follower = SearchIndexFollower(update: {
            let call = calls.withLock { count -> Int in
                count += 1
                return count
            }
            if call <= 4 { throw Unreachable() }
        }, logger: log.logger)
        let running = Task { try await follower.run() }
        // Generous: the other suites run meanwhile on two cores.
        let deadline = ContinuousClock.now + .seconds(60)
        while calls.withLock({ $0 }) < 7, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        running.cancel()
        _ = try? await running.value
        #expect(calls.withLock { $0 } >= 7)
        let lines = log.text.split(separator: "\n")
        #expect(lines.filter { $0.contains("could not read the latest changes") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("reads the latest changes again") }.count == 1, "\(lines)")
    }
}
