/// Every failure of the AMQP layer, with the operation that failed and where it was called from,
/// so a log line or a test failure points at the call rather than at rabbitmq-c.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// rabbitmq-c reported a library status (socket, TLS, heartbeat, timeout, …).
        case library(status: Int32, message: String)
        /// The broker closed the channel or connection with an AMQP reply code.
        case server(code: UInt16, text: String)
        /// There is no open connection right now; the caller may retry after reconnect.
        case notConnected
        /// The connection went away while the operation was in flight; its outcome is unknown.
        case connectionLost
        /// The broker refused a published message (basic.nack).
        case nacked
        /// A publisher confirm did not arrive in time; the connection is being recycled.
        case confirmTimeout
        /// The client was shut down.
        case closed
        /// Input that cannot form a valid AMQP request (bad URL, oversized header, …).
        case invalidArgument(String)
        /// No connection could be opened: the last attempt's reason, for people.
        case unreachable(String)
    }

    public let kind: Kind
    public let operation: String
    public let file: String
    public let line: Int
    /// The broker refused a management request by closing only the management channel, which
    /// has been reopened: the connection itself is fine.
    public internal(set) var onlyManagementChannelClosed = false

    public init(_ kind: Kind, operation: String, file: String = #fileID, line: Int = #line) {
        self.kind = kind
        self.operation = operation
        self.file = file
        self.line = line
    }

    /// For logs and tests: what failed and in which call.
    public var description: String {
        "\(operation): \(detail(withStatus: true)) [\(file):\(line)]"
    }

    /// For people (patronctl's messages, `status.get`'s broker state): what failed and why, without
    /// rabbitmq-c's status numbers or Patron's source locations.
    public var summary: String {
        if case .unreachable(let reason) = kind { return reason }
        return "\(operation): \(detail(withStatus: false))"
    }

    private func detail(withStatus: Bool) -> String {
        let detail: String
        switch kind {
        case .library(let status, let message): detail = withStatus ? "\(message) (status \(status))" : message
        case .server(let code, let text): detail = "broker replied \(code) \(text)"
        case .notConnected: detail = "not connected"
        case .connectionLost: detail = "connection lost before completion"
        case .nacked: detail = "broker refused the message (nack)"
        case .confirmTimeout: detail = "publisher confirm timed out"
        case .closed: detail = "client closed"
        case .invalidArgument(let reason): detail = reason
        case .unreachable(let reason): detail = reason
        }
        return detail
    }

    /// Whether retrying the same operation after a reconnect can succeed.
    public var isTransient: Bool {
        switch kind {
        case .invalidArgument, .closed: return false
        case .server(let code, _): return code == 320 || code == 505 || code == 541 || code == 504
        default: return true
        }
    }
}
