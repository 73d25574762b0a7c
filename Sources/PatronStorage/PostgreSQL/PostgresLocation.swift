import Foundation

/// Where a PostgreSQL database is: a `postgres://user:password@host:port/database` URL, with
/// libpq's `sslmode` (`disable`, the default; `require`; `verify-full`) and `sslrootcert` options.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let user: String
    let password: String?
    public let database: String
    public let tls: TLSMode
    /// The CA bundle that signed the server's certificate (`verify-full`); nil: the system's.
    public let rootCertificate: String?

    /// As libpq's sslmode, less the modes that may silently fall back to clear text.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Clear text: only on loopback or a private network.
        case disable
        /// Encrypted, the server's certificate not checked (libpq's `require`).
        case require
        /// Encrypted, the certificate checked against the CA and the host name.
        case verifyFull = "verify-full"
    }

    /// Whether a database URL names PostgreSQL (anything else is a SQLite directory).
    public static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    private init(host: String, port: Int, user: String, password: String?, database: String, tls: TLSMode, rootCertificate: String?) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificate = rootCertificate
    }

    /// Another database on the same server, as the same user.
    public func database(_ name: String) -> PostgresLocation {
        PostgresLocation(host: host, port: port, user: user, password: password, database: name, tls: tls, rootCertificate: rootCertificate)
    }

    public init(url: String) throws {
        guard Self.isPostgres(url), let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw PostgresLocationError(reason: "expected postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresLocationError(reason: "names no database (…/database at the end)") }
        guard let user = components.user, !user.isEmpty else { throw PostgresLocationError(reason: "names no user (user@host)") }
        var options: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["sslmode", "sslrootcert"].contains(item.name) else {
                throw PostgresLocationError(reason: "takes no option \(item.name) (only sslmode and sslrootcert)")
            }
            options[item.name] = item.value ?? ""
        }
        let mode = options["sslmode"] ?? TLSMode.disable.rawValue
        guard let tls = TLSMode(rawValue: mode) else {
            throw PostgresLocationError(reason: "sslmode \(mode): one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let root = options["sslrootcert"] {
            guard tls == .verifyFull else { throw PostgresLocationError(reason: "sslrootcert needs sslmode=verify-full") }
            guard FileManager.default.isReadableFile(atPath: root) else { throw PostgresLocationError(reason: "sslrootcert \(root): cannot be read") }
        }
        self.tls = tls
        rootCertificate = options["sslrootcert"]
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
    }

    /// libpq's connection keywords. sslmode and sslrootcert mean what they mean to psql, except
    /// that verify-full without a CA file trusts the system's CAs, as a browser would, rather
    /// than ~/.postgresql/root.crt (libpq 15 has no `sslrootcert=system` yet).
    var connectionParameters: [(key: String, value: String)] {
        var parameters = [("host", host), ("port", String(port)), ("user", user), ("dbname", database),
                          ("sslmode", tls.rawValue), ("application_name", "patron"), ("client_encoding", "UTF8"),
                          ("connect_timeout", "10")]
        if let password { parameters.append(("password", password)) }
        if tls == .verifyFull { parameters.append(("sslrootcert", rootCertificate ?? Self.systemCertificates)) }
        return parameters.map { (key: $0.0, value: $0.1) }
    }

    /// Debian's bundle of the CAs the system trusts (package ca-certificates).
    static let systemCertificates = "/etc/ssl/certs/ca-certificates.crt"

    /// Without the password: for logs and errors.
    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (tls == .disable ? "" : "?sslmode=\(tls.rawValue)")
    }
}

public struct PostgresLocationError: Error, CustomStringConvertible {
    let reason: String
    public var description: String { "database url: \(reason)" }
}
