import Dispatch
import GRDB
import GRDBSQLite
import Logging
import Synchronization

/// Copies the WAL into the database file on a connection of its own, so that the writer's
/// commits do not wait for it. With SQLite's automatic checkpoint, the commit that crossed the
/// threshold copied the pages itself: 13 % of the writer thread during `patron-bench import`
/// (perf), time in which no event was applied.
///
/// The writer's WAL hook (called after each commit) asks for a checkpoint once the WAL holds
/// ``Thresholds/background`` pages. The checkpoint is PASSIVE: it copies what no reader still
/// needs and never blocks the writer, which goes on appending; SQLite starts the WAL over at the
/// first commit after everything was copied. Should the WAL still reach
/// ``Thresholds/inline`` pages (a long read holding the copy back, a checkpointer that cannot
/// keep up), the writer checkpoints in its commit, as SQLite's automatic checkpoint did.
final class BackgroundCheckpointer: Sendable {
    struct Thresholds: Sendable {
        /// About 40 MiB of 4 KiB pages: SQLite's automatic checkpoint was set here before
        /// (`PatronDatabase`), for the reason given there.
        var background: Int32 = 10_000
        /// About 200 MiB: how far the WAL may grow while the background copy lags.
        var inline: Int32 = 50_000
    }

    enum Action: Equatable { case none, background, inline }

    /// What a commit that left `pages` pages in the WAL does.
    static func action(walPages pages: Int32, _ thresholds: Thresholds) -> Action {
        if pages >= thresholds.inline { return .inline }
        return pages >= thresholds.background ? .background : .none
    }

    let thresholds: Thresholds
    private let path: String
    private let configuration: Configuration
    private let queue = DispatchQueue(label: "patron.sqlite.checkpoint")
    /// Opened by the first background checkpoint; held by every checkpoint, so that one runs at a time.
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let requested = Atomic<Bool>(false)
    private let completed = Atomic<Int>(0)

    init(path: String, configuration: Configuration, thresholds: Thresholds) {
        self.path = path
        self.configuration = configuration
        self.thresholds = thresholds
    }

    /// Background checkpoints finished so far (for tests and the curious).
    var checkpoints: Int { completed.load(ordering: .acquiring) }

    /// Installs the hook on the writer's connection. The hook holds the checkpointer unretained:
    /// the connection's `Configuration` keeps it alive (``PatronDatabase`` captures it in
    /// `prepareDatabase`), as long as the connection that calls the hook.
    func install(on db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, { context, connection, _, pages in
            let checkpointer = Unmanaged<BackgroundCheckpointer>.fromOpaque(context!).takeUnretainedValue()
            switch BackgroundCheckpointer.action(walPages: pages, checkpointer.thresholds) {
            case .none: break
            case .background: checkpointer.request()
            case .inline: checkpointer.connection.withLock { _ in _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) }
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Copies the whole WAL into the file and truncates it, on `db` (the writer's connection),
    /// after any background checkpoint under way. Every checkpoint holds `connection`'s lock,
    /// because one that meets another running fails at once with SQLITE_BUSY (SQLite waits only
    /// for readers and writers), and an erasure's must not fail for that.
    func truncate(on db: Database) throws {
        try connection.withLock { _ in _ = try db.checkpoint(.truncate) }
    }

    /// One checkpoint at a time: commits that ask while one is waiting or running add nothing.
    private func request() {
        guard requested.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        queue.async { [self] in
            requested.store(false, ordering: .releasing)
            // A failed checkpoint (I/O, say) leaves the pages in the WAL; the writer copies them
            // itself at the inline threshold, and meets the fault there.
            do {
                try connection.withLock { connection in
                    if connection == nil { connection = try DatabaseQueue(path: path, configuration: configuration) }
                    try connection!.writeWithoutTransaction { _ = try $0.checkpoint(.passive) }
                }
                completed.add(1, ordering: .releasing)
            } catch {
                Logger(label: "patron.sqlite").warning("background checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
