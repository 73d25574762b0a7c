import Foundation
import Logging
import Synchronization

/// One line per record on stdout, prefixed with the syslog priority (`<6>`) that journald reads
/// (`SyslogLevelPrefix=yes` is its default), so `journalctl -p warning` filters correctly.
/// No timestamp: journald adds its own.
///
/// Patron logs identify customers by customer number only. Message bodies, names, emails and
/// phones never go into a log message or metadata, at any level.
public struct JournaldLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private static let output = Mutex(())

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = "<\(Self.priority(event.level))>\(event.level) \(label): \(Self.singleLine(event.message.description))"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quoted(Self.singleLine("\(value)")))"
        }
        line += "\n"
        Self.output.withLock { _ in
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    private static func singleLine(_ text: String) -> String {
        text.contains(where: \.isNewline) ? text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r") : text
    }

    private static func quoted(_ text: String) -> String {
        text.contains(" ") || text.isEmpty ? "\"\(text.replacingOccurrences(of: "\"", with: "\\\""))\"" : text
    }
}

/// The process-wide log level, changeable on SIGHUP without re-bootstrapping swift-log.
public enum PatronLogging {
    private static let level = Mutex(Logger.Level.info)

    public static var currentLevel: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }

    /// Bootstraps swift-log once per process (executables only, never libraries).
    public static func bootstrap(level: Logger.Level) {
        currentLevel = level
        LoggingSystem.bootstrap { label in LevelFollowingHandler(inner: JournaldLogHandler(label: label, level: .trace)) }
    }
}

/// Reads the level from ``PatronLogging`` on each record, so a reload changes every logger.
struct LevelFollowingHandler: LogHandler {
    var inner: JournaldLogHandler
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    var logLevel: Logger.Level {
        get { PatronLogging.currentLevel }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    func log(event: LogEvent) { inner.log(event: event) }
}
