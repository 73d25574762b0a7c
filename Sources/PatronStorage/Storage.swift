import Foundation
import Logging
import PatronDomain

/// Where Patron's database is: a SQLite file (one patrond, the default) or a PostgreSQL
/// database (several replicas).
public enum StorageLocation: Sendable, CustomStringConvertible {
    case sqlite(directory: String, file: String)
    case postgres(PostgresLocation)

    public var description: String {
        switch self {
        case .sqlite(let directory, let file): (directory as NSString).appendingPathComponent(file)
        case .postgres(let location): location.description
        }
    }
}

/// An open Patron database on either engine, and the stores the service uses on it. The
/// service sees only the stores' protocols, so the same code runs on both.
public enum Storage: Sendable {
    case sqlite(PatronDatabase)
    case postgres(PatronPostgresDatabase)

    /// Opens the database and runs its pending migrations.
    ///
    /// - Throws: an unwritable directory, an unreachable server or refused login, or a schema
    ///   newer than this binary (``DatabaseSchemaTooNew``).
    public static func open(_ location: StorageLocation, logger: Logger) async throws -> Storage {
        switch location {
        case .sqlite(let directory, let file): .sqlite(try PatronDatabase.open(directory: directory, fileName: file))
        case .postgres(let location): .postgres(try await PatronPostgresDatabase.open(location, logger: logger))
        }
    }

    /// Other patrond replicas may use the same database (PostgreSQL): what runs once must be
    /// claimed there, and a claim that looks abandoned may be another replica's work in progress.
    public var isShared: Bool {
        if case .postgres = self { true } else { false }
    }

    /// Where it is, without a password: for logs.
    public var description: String {
        switch self {
        case .sqlite(let database): database.path
        case .postgres(let database): database.location.description
        }
    }

    /// The journal and records, applying with `applier`, and `reactor` after each event.
    public func records(applier: RecordApplier, reactor: (any EventReactor)?) -> any RecordStore {
        switch self {
        case .sqlite(let database): SQLiteEventStore(database: database, applier: applier, reactor: reactor)
        case .postgres(let database): PostgresEventStore(database: database, applier: applier, reactor: reactor)
        }
    }

    /// The stores besides the records.
    public func stores() throws -> Stores {
        switch self {
        case .sqlite(let database):
            let engine = SQLiteEngine(database: database)
            return Stores(engine: engine, search: SQLiteCustomerSearch(database: database), customerRows: SQLiteCustomerExport(database: database),
                          audit: try SQLiteCommandAudit(beside: database))
        case .postgres(let database):
            let engine = PostgresEngine(database: database)
            return Stores(engine: engine, search: PostgresCustomerSearch(engine: engine), customerRows: PostgresCustomerRows(engine: engine),
                          audit: PostgresCommandAudit(engine: engine))
        }
    }

    /// Loads the search index, or applies the changes committed since it last looked (on
    /// PostgreSQL, every replica's, and deletes those all replicas have had time to read).
    public func updateSearchIndex() async throws {
        switch self {
        case .sqlite(let database): try await database.updateSearchIndex()
        case .postgres(let database):
            let engine = PostgresEngine(database: database)
            try await engine.read { statements in try database.searchIndex.withCurrentIndex(statements, database: database) { _ in } }
            try await database.searchIndex.prune(engine)
        }
    }

    public func close() async {
        if case .postgres(let database) = self { await database.close() }
    }

    /// The stores of one database: the Customer Center's reads, the catalog, exports, schedules,
    /// the outboxes the relays publish and the command audit.
    public struct Stores: Sendable {
        public let directory: any CustomerDirectory
        public let catalog: any CustomerCatalog
        public let search: any CustomerSearchSource
        public let stats: any CustomerStatsSource
        public let customerRows: any CustomerRowSource
        public let reports: any ReportSource
        public let exportLog: any ExportLogStore
        public let schedules: any ScheduleStore
        public let announcements: any AnnouncementOutbox
        public let dispatchOutbox: any DispatchOutbox
        public let fileDeliveries: any FileDeliveryQueue
        public let audit: any CommandAudit

        fileprivate init<Engine: SQLEngine>(engine: Engine, search: any CustomerSearchSource, customerRows: any CustomerRowSource,
                                            audit: any CommandAudit) {
            directory = SQLCustomerDirectory(engine: engine)
            catalog = SQLCustomerCatalog(engine: engine)
            self.search = search
            stats = SQLCustomerStats(engine: engine)
            self.customerRows = customerRows
            reports = SQLReports(engine: engine)
            exportLog = SQLExportLog(engine: engine)
            schedules = SQLScheduleStore(engine: engine)
            announcements = SQLAnnouncementOutbox(engine: engine)
            dispatchOutbox = SQLDispatchOutbox(engine: engine)
            fileDeliveries = SQLDispatchOutbox(engine: engine)
            self.audit = audit
        }
    }
}
