import CPatronShims
import Foundation
import Logging

/// Talks the sd_notify protocol: datagrams such as `READY=1` to the socket in `$NOTIFY_SOCKET`.
/// Does nothing when not started by systemd (no `$NOTIFY_SOCKET`).
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// From `$WATCHDOG_USEC` when `$WATCHDOG_PID` is absent or names this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forThisProcess = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if forThisProcess, let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 {
            watchdogInterval = .microseconds(micros)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one message of `KEY=value` lines; errors are returned, not thrown: a lost status
    /// line must never stop the daemon.
    @discardableResult
    public func notify(_ fields: [String]) -> Int32 {
        guard let socketPath else { return 0 }
        let message = fields.joined(separator: "\n")
        return message.withCString { pointer in
            patron_notify_send(socketPath, pointer, strlen(pointer))
        }
    }

    public func ready(status: String) { notify(["READY=1", "STATUS=\(status)"]) }
    public func status(_ text: String) { notify(["STATUS=\(text)"]) }
    public func stopping() { notify(["STOPPING=1", "STATUS=stopping"]) }
    public func watchdog() { notify(["WATCHDOG=1"]) }

    /// Runs `work` (on this thread), asking systemd for another minute to start now and every 20 s
    /// until it returns: a migration of a large database (v16 and v17 rewrite every booking) can
    /// outlast `TimeoutStartSec`, and a start killed mid-migration rolls back and starts over.
    public func extendingStartTimeout<T>(status: String, _ work: () async throws -> T) async rethrows -> T {
        guard socketPath != nil else { return try await work() }
        let notifier = self
        let extender = Task {
            repeat {
                notifier.notify(["EXTEND_TIMEOUT_USEC=60000000", "STATUS=\(status)"])
            } while (try? await Task.sleep(for: .seconds(20))) != nil
        }
        defer { extender.cancel() }
        return try await work()
    }

    /// `RELOADING=1` must carry the monotonic time so systemd can match the later `READY=1`.
    public func reloading() { notify(["RELOADING=1", "MONOTONIC_USEC=\(patron_monotonic_usec())", "STATUS=reloading configuration"]) }
}
