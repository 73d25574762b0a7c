/// A parsed `amqp://` or `amqps://` URL.
///
/// Parsed in Swift rather than with `amqp_parse_url`, which writes into the string it is given
/// and cannot say which part of a URL is wrong.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var useTLS: Bool
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String

    public init(useTLS: Bool = false, host: String = "localhost", port: Int? = nil,
                user: String = "guest", password: String = "guest", virtualHost: String = "/") {
        self.useTLS = useTLS
        self.host = host
        self.port = port ?? (useTLS ? 5671 : 5672)
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
    }

    /// Parses `amqp[s]://[user[:password]@]host[:port][/vhost]`.
    ///
    /// As in the RabbitMQ URI spec, an absent path means vhost `/`, and `%2f` spells `/`.
    /// - Throws: ``AMQPError`` with `.invalidArgument` naming the part that is wrong.
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> AMQPError {
            AMQPError(.invalidArgument(reason), operation: "parse AMQP URL")
        }
        var rest = Substring(text)
        if rest.hasPrefix("amqps://") {
            useTLS = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("amqp://") {
            useTLS = false
            rest = rest.dropFirst(7)
        } else {
            throw fail("scheme must be amqp:// or amqps://")
        }
        var path: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        user = "guest"
        password = "guest"
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.percentDecoded(credentials[..<colon], part: "user")
                password = try Self.percentDecoded(credentials[credentials.index(after: colon)...], part: "password")
            } else {
                user = try Self.percentDecoded(credentials, part: "user")
                password = ""
            }
        }
        var hostPart = rest
        var portNumber: Int? = nil
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw fail("host: unterminated IPv6 literal") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { throw fail("port: not a number") }
                portNumber = value
            } else if !after.isEmpty {
                throw fail("host: unexpected text after IPv6 literal")
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let value = Int(hostPart[hostPart.index(after: colon)...]) else { throw fail("port: not a number") }
            portNumber = value
            hostPart = hostPart[..<colon]
        }
        if let portNumber, !(1...65535).contains(portNumber) { throw fail("port: must be 1–65535") }
        host = hostPart.isEmpty ? "localhost" : String(hostPart)
        port = portNumber ?? (useTLS ? 5671 : 5672)
        if let path, !path.isEmpty {
            virtualHost = try Self.percentDecoded(path, part: "vhost")
        } else {
            virtualHost = "/"
        }
    }

    /// The URL with the password replaced, safe to log.
    public var description: String {
        let vhostPath = virtualHost == "/" ? "" : "/" + virtualHost
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(useTLS ? "amqps" : "amqp")://\(user)@\(hostText):\(port)\(vhostPath)"
    }

    private static func percentDecoded(_ text: Substring, part: String) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw AMQPError(.invalidArgument("\(part): bad percent-escape"), operation: "parse AMQP URL")
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw AMQPError(.invalidArgument("\(part): not UTF-8"), operation: "parse AMQP URL")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
