import CLibPQ
import Dispatch
import Foundation
import Logging
import PatronDomain

/// One PostgreSQL connection (libpq) and the thread its statements block.
///
/// The record rules are synchronous: they ask storage one question at a time and decide on the
/// answer (``RecordTransaction``). Each session therefore runs them on a serial dispatch queue of
/// its own, where libpq's calls block; the cooperative pool never does, as with the AMQP
/// connections (README, "Threads"). libpq rather than PostgresNIO: a statement answered on the
/// thread that waits for it costs a third of the client CPU of one handed to an event loop and
/// back (README, "Scale-out").
public final class PostgresSession: @unchecked Sendable {
    private let location: PostgresLocation
    let logger: Logger
    private let queue: DispatchQueue
    /// libpq's connection; nil once closed. Used on `queue` only, as everything below.
    private var connection: OpaquePointer?
    /// Statements prepared on this connection, by SQL and parameter types: the server parses and
    /// plans each once per session.
    private var prepared: [PreparedKey: String] = [:]
    /// Names prepared statements; never reused, so that a name whose preparation failed in a
    /// pipeline is never asked for again.
    private var preparedCount = 0
    /// The SQL of each request sent in pipeline mode whose result has not been read yet, in order.
    private var pipeline: [String] = []
    /// Statements prepared by the unanswered pipeline: after an error PostgreSQL has skipped
    /// those that came after it, so none of them is known to exist.
    private var preparedInPipeline: [PreparedKey] = []
    private var closed = false
    /// Customer ids taken from the sequence and not used yet (``nextCustomerID()``).
    private var customerIDs: ArraySlice<Int64> = []

    private struct PreparedKey: Hashable {
        let sql: String
        let types: [Oid]
    }

    /// Statements that compare with a list held in one parameter run unprepared, planned with
    /// their list each time: a prepared one went to a generic plan made while the table was small
    /// (a scan), and kept it as the table grew (30 ms per lookup at 20,000 events).
    static let listComparison = "IN (SELECT unnest(CAST("

    /// Beyond this many, statements run unprepared: SQL built from a search's filters has many
    /// shapes, and each prepared one holds memory on the server for the session's life.
    private static let preparedLimit = 500

    private init(location: PostgresLocation, label: String, logger: Logger) {
        self.location = location
        self.logger = logger
        queue = DispatchQueue(label: label)
    }

    static func connect(_ location: PostgresLocation, label: String, logger: Logger) async throws -> PostgresSession {
        let session = PostgresSession(location: location, label: label, logger: logger)
        try await session.onQueue { try session.open() }
        return session
    }

    /// Runs `body` on the session's thread, where its statements may block. `sendingWrites`: its
    /// statements' ``PostgresStatements/run(_:_:)`` does not wait (``send(_:_:)``); whatever is
    /// still unanswered when `body` returns is waited for then.
    func perform<T: Sendable>(sendingWrites: Bool = false, _ body: @escaping @Sendable (PostgresStatements) throws -> T) async throws -> T {
        try await onQueue {
            let result = try body(PostgresStatements(session: self, sendsWrites: sendingWrites))
            try self.waitForSent()
            return result
        }
    }

    /// Waits for the statements sent and not yet answered, throwing the first one's error.
    func waitForSent() throws {
        if !pipeline.isEmpty { try sync() }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    func close() async {
        _ = try? await onQueue {
            PQfinish(self.connection)
            self.connection = nil
            self.closed = true
        }
    }

    private func open() throws {
        let parameters = location.connectionParameters
        let copies = parameters.map { (strdup($0.key), strdup($0.value)) }
        defer { for (keyword, value) in copies { free(keyword); free(value) } }
        let keywords = copies.map { UnsafePointer($0.0) } + [nil]
        let values = copies.map { UnsafePointer($0.1) } + [nil]
        let opened = PQconnectdbParams(keywords, values, 0)
        guard PQstatus(opened) == CONNECTION_OK else {
            let message = Self.errorMessage(opened)
            PQfinish(opened)
            throw PostgresFailure(sqlState: nil, message: message, sql: "(connecting to \(location))")
        }
        // libpq prints the server's notices ("already exists, skipping") to stderr, which is
        // patrond's journal; they say nothing an operator needs.
        PQsetNoticeProcessor(opened, { _, _ in }, nil)
        connection = opened
        prepared = [:]
        pipeline = []
        preparedInPipeline = []
    }

    /// A connection that broke (the server restarted, the network failed) is opened again before
    /// the next statement; the transaction it was in is gone, and its caller got the error.
    private func usableConnection(for sql: String) throws -> OpaquePointer {
        if let connection, PQstatus(connection) != CONNECTION_BAD { return connection }
        // Broken, or closed by ``brokenPipeline(_:sql:)``; not by ``close()``.
        guard !closed else { throw PostgresFailure(sqlState: nil, message: "session closed", sql: sql) }
        logger.warning("PostgreSQL connection lost; connecting again", metadata: ["database": "\(location)"])
        PQfinish(connection)
        connection = nil
        try open()
        return connection!
    }

    /// Runs one statement and waits for all its rows, and for those of the statements sent before
    /// it (``send(_:_:)``), whose first error it throws. On the session's queue only.
    func query(_ sql: String, _ values: [SQLValue]) throws -> PostgresResult {
        dispatchPrecondition(condition: .onQueue(queue))
        if !pipeline.isEmpty {
            try enqueue(sql, values)
            return try sync()!
        }
        let connection = try usableConnection(for: sql)
        let parameters = try PostgresParameters(values, sql: sql)
        let name = try preparedName(sql, parameters, on: connection) { connection, name, text in
            try self.check(PQprepare(connection, name, text, Int32(parameters.count), parameters.types), sql: sql)
        }
        let result = parameters.withPointers { values, lengths, formats in
            if let name {
                PQexecPrepared(connection, name, Int32(parameters.count), values, lengths, formats, 0)
            } else {
                PQexecParams(connection, Self.numberedParameters(sql), Int32(parameters.count), parameters.types, values, lengths, formats, 0)
            }
        }
        return try check(result, sql: sql)
    }

    /// Sends a statement without waiting for its outcome (libpq's pipeline mode): it travels with
    /// the next statement that needs an answer, and its error, if any, is that statement's. For
    /// writes inside a transaction whose caller reads again or commits before it relies on them.
    func send(_ sql: String, _ values: [SQLValue]) throws {
        dispatchPrecondition(condition: .onQueue(queue))
        try enqueue(sql, values)
        // Bounded, so that neither side's socket buffer fills with the other's unread replies.
        if pipeline.count >= Self.pipelineLimit { try sync() }
    }

    private static let pipelineLimit = 200

    private func enqueue(_ sql: String, _ values: [SQLValue]) throws {
        let connection = try pipeline.isEmpty ? usableConnection(for: sql) : self.connection!
        let parameters = try PostgresParameters(values, sql: sql)
        if pipeline.isEmpty, PQenterPipelineMode(connection) != 1 {
            throw PostgresFailure(sqlState: nil, message: Self.errorMessage(connection), sql: sql)
        }
        let name = try preparedName(sql, parameters, on: connection) { connection, name, text in
            guard PQsendPrepare(connection, name, text, Int32(parameters.count), parameters.types) == 1 else {
                throw PostgresFailure(sqlState: nil, message: Self.errorMessage(connection), sql: sql)
            }
            self.pipeline.append(sql)
            self.preparedInPipeline.append(PreparedKey(sql: sql, types: parameters.types))
        }
        let sent = parameters.withPointers { values, lengths, formats in
            if let name {
                PQsendQueryPrepared(connection, name, Int32(parameters.count), values, lengths, formats, 0)
            } else {
                PQsendQueryParams(connection, Self.numberedParameters(sql), Int32(parameters.count), parameters.types, values, lengths, formats, 0)
            }
        }
        guard sent == 1 else { throw PostgresFailure(sqlState: nil, message: Self.errorMessage(connection), sql: sql) }
        pipeline.append(sql)
    }

    /// Ends the pipeline with a sync point and reads every result it owes: the last statement's,
    /// or the first error. PostgreSQL skips the statements after an error up to the sync point,
    /// and a transaction they were in is then failed, as after any error.
    @discardableResult
    private func sync() throws -> PostgresResult? {
        let connection = self.connection!
        let sent = pipeline
        let preparedHere = preparedInPipeline
        pipeline = []
        preparedInPipeline = []
        guard PQpipelineSync(connection) == 1 else { throw brokenPipeline(connection, sql: sent.last ?? "") }
        var last: PostgresResult?
        var failure: PostgresFailure?
        var index = 0
        reading: while true {
            guard let result = PQgetResult(connection) else {
                // Between two statements' results; on a broken connection, there is nothing more.
                index += 1
                guard PQstatus(connection) != CONNECTION_BAD, index <= sent.count else {
                    throw brokenPipeline(connection, sql: sent[min(index, sent.count) - 1])
                }
                continue
            }
            let owned = PostgresResult(result)
            switch PQresultStatus(result) {
            case PGRES_PIPELINE_SYNC: break reading
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: last = owned
            case PGRES_PIPELINE_ABORTED: last = nil
            default:
                if failure == nil { failure = PostgresFailure(owned, sql: sent[min(index, sent.count - 1)]) }
                last = nil
            }
        }
        guard PQexitPipelineMode(connection) == 1 else { throw brokenPipeline(connection, sql: sent.last ?? "") }
        if let failure {
            for key in preparedHere { prepared[key] = nil }
            throw failure
        }
        return last
    }

    /// A pipeline the connection could not carry: the connection is closed, to be opened again
    /// for the next statement with no request of the old one pending.
    private func brokenPipeline(_ connection: OpaquePointer, sql: String) -> PostgresFailure {
        let failure = PostgresFailure(sqlState: nil, message: Self.errorMessage(connection), sql: sql)
        PQfinish(connection)
        self.connection = nil
        return failure
    }

    /// The name `sql` is prepared under with these parameter types, preparing it first with
    /// `prepare` (name, SQL as PostgreSQL numbers parameters); nil past ``preparedLimit``.
    private func preparedName(_ sql: String, _ parameters: PostgresParameters, on connection: OpaquePointer,
                              prepare: (OpaquePointer, String, String) throws -> Void) throws -> String? {
        let key = PreparedKey(sql: sql, types: parameters.types)
        if let known = prepared[key] { return known }
        guard prepared.count < Self.preparedLimit, !sql.contains(Self.listComparison) else { return nil }
        preparedCount += 1
        let name = "patron_\(preparedCount)"
        try prepare(connection, name, Self.numberedParameters(sql))
        prepared[key] = name
        return name
    }

    /// A new customer's id, from ids taken from the table's sequence a block at a time: a read
    /// less for most new customers. Ids taken are never given back (as with any sequence), so a
    /// session that stops leaves a gap in customer ids and numbers of at most one block.
    func nextCustomerID() throws -> Int64 {
        if customerIDs.isEmpty {
            customerIDs = try query("SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, ?)",
                                    [.integer(Int64(Self.customerIDBlock))]).rows().map { $0.integer(0) }[...]
        }
        return customerIDs.removeFirst()
    }

    private static let customerIDBlock = 100

    /// Runs a script of several statements in one round trip (the simple query protocol). On the
    /// session's queue only.
    func execute(script: String) throws {
        dispatchPrecondition(condition: .onQueue(queue))
        _ = try check(PQexec(try usableConnection(for: script), script), sql: script)
    }

    @discardableResult
    private func check(_ result: OpaquePointer?, sql: String) throws -> PostgresResult {
        guard let result else { throw PostgresFailure(sqlState: nil, message: Self.errorMessage(connection), sql: sql) }
        let owned = PostgresResult(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return owned
        default: throw PostgresFailure(owned, sql: sql)
        }
    }

    private static func errorMessage(_ connection: OpaquePointer?) -> String {
        guard let connection, let text = PQerrorMessage(connection) else { return "out of memory" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `?` → `$1`, `$2`… in order, and `?N` → `$N`, outside quoted strings and identifiers.
    static func numberedParameters(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quote: Character?
        var characters = sql.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if let open = quote {
                result.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                result.append(character)
            case "?":
                var digits = ""
                while let digit = pending, digit.isASCII, digit.isNumber {
                    digits.append(digit)
                    pending = characters.next()
                }
                if digits.isEmpty {
                    result += "$\(next)"
                    next += 1
                } else {
                    result += "$" + digits
                }
            default:
                result.append(character)
            }
        }
        return result
    }
}

/// The type ids (`pg_type.oid`) of the types Patron binds and reads; fixed in every PostgreSQL.
enum PostgresType {
    static let int2: Oid = 21
    static let int4: Oid = 23
    static let int8: Oid = 20
    static let text: Oid = 25
    static let bytea: Oid = 17
}

/// A statement's parameters as libpq takes them: integers and text in text form, byte strings
/// in binary form, each with its type, so that a statement's plan does not depend on guesses.
private struct PostgresParameters {
    var types: [Oid] = []
    private var bytes: [UInt8] = []
    /// Where each value starts in `bytes`; -1 for NULL.
    private var offsets: [Int] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    var count: Int { types.count }

    init(_ values: [SQLValue], sql: String) throws {
        for value in values {
            switch value {
            case .null:
                append(type: 0, format: 0, nil)
            case .integer(let integer):
                append(type: PostgresType.int8, format: 0, Array(String(integer).utf8) + [0])
            case .text(let text):
                // A C string ends at the first NUL; PostgreSQL's text cannot hold one either.
                guard !text.utf8.contains(0) else {
                    throw PostgresFailure(sqlState: "22021", message: "text contains a NUL character", sql: sql)
                }
                append(type: PostgresType.text, format: 0, Array(text.utf8) + [0])
            case .blob(let blob):
                append(type: PostgresType.bytea, format: 1, blob)
            }
        }
        // So that every value, an empty one too, has an address inside the buffer.
        bytes.append(0)
    }

    private mutating func append(type: Oid, format: Int32, _ value: [UInt8]?) {
        types.append(type)
        formats.append(format)
        if let value {
            offsets.append(bytes.count)
            lengths.append(Int32(format == 1 ? value.count : value.count - 1))
            bytes.append(contentsOf: value)
        } else {
            offsets.append(-1)
            lengths.append(0)
        }
    }

    func withPointers<T>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T) -> T {
        bytes.withUnsafeBytes { buffer in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : (buffer.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
            }
            return pointers.withUnsafeBufferPointer { values in
                lengths.withUnsafeBufferPointer { lengths in
                    formats.withUnsafeBufferPointer { formats in
                        body(values.baseAddress, lengths.baseAddress, formats.baseAddress)
                    }
                }
            }
        }
    }
}

/// The rows and status of one statement, in libpq's memory until the last reader lets go.
final class PostgresResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { PQclear(handle) }

    var rowCount: Int32 { PQntuples(handle) }

    /// Rows an INSERT, UPDATE or DELETE touched.
    var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    func errorField(_ code: UInt8) -> String? {
        PQresultErrorField(handle, Int32(code)).map { String(cString: $0) }
    }

    func rows() -> [PostgresColumns] { (0..<rowCount).map { PostgresColumns(result: self, row: $0) } }
}
