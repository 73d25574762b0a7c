import Foundation
import PostgresNIO

/// Where a PostgreSQL database is: a `postgres://user:password@host:port/database` URL.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let user: String
    let password: String?
    public let database: String

    /// Whether a database URL names PostgreSQL (anything else is a SQLite directory).
    public static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    private init(host: String, port: Int, user: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Another database on the same server, as the same user.
    public func database(_ name: String) -> PostgresLocation {
        PostgresLocation(host: host, port: port, user: user, password: password, database: name)
    }

    public init(url: String) throws {
        guard Self.isPostgres(url), let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw PostgresLocationError(reason: "expected postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresLocationError(reason: "names no database (…/database at the end)") }
        guard let user = components.user, !user.isEmpty else { throw PostgresLocationError(reason: "names no user (user@host)") }
        if let query = components.queryItems, !query.isEmpty {
            throw PostgresLocationError(reason: "takes no options (\(query.map(\.name).joined(separator: ", ")))")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
    }

    var configuration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// Without the password: for logs and errors.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

public struct PostgresLocationError: Error, CustomStringConvertible {
    let reason: String
    public var description: String { "database url: \(reason)" }
}
