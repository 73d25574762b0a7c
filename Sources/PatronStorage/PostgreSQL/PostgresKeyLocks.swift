import PatronDomain

/// How replicas write the same records under READ COMMITTED: before a batch reads anything, it
/// takes a transaction-scoped advisory lock on every key its events name (``BatchKeys``), in
/// one sorted order, so two replicas that would read or create the same identifier, number,
/// booking, payment, cart or thread take turns, and no two wait for each other in a circle.
/// The events' own ids are keys too: a replica given an event that another is applying waits,
/// and then finds it in the journal. The
/// customers those keys lead to are then locked as rows, in id order (``BatchRecords``).
///
/// A change that is not an event's (a staff command, a dispatch commit) cannot name its keys
/// before it reads, so it takes ``everything`` exclusively: ingest transactions hold it shared,
/// and such a change waits for them and they for it. Such changes are short and rare beside
/// ingest.
enum PostgresKeyLocks {
    /// The one lock every ingest transaction holds shared and every other change holds alone.
    static let everything: Int64 = 0x5061_7472_6F6E_0001  // "Patron", 1

    /// The advisory lock of each key, sorted, without repeats.
    static func locks(for keys: BatchKeys) -> [Int64] {
        var locks = Set<Int64>()
        for identifier in keys.identifiers { locks.insert(lock("identifier:" + identifier.kind.rawValue, identifier.key)) }
        for number in keys.customerNumbers { locks.insert(lock("customer_no", number)) }
        for ref in keys.bookingRefs { locks.insert(lock("booking", ref)) }
        for reference in keys.paymentReferences { locks.insert(lock("payment", reference)) }
        for id in keys.cartIDs { locks.insert(lock("cart", id)) }
        for id in keys.threadIDs { locks.insert(lock("thread", id)) }
        for id in keys.eventIDs { locks.insert(lock("event", id)) }
        return locks.sorted()
    }

    /// FNV-1a over the kind and the value, as 64 bits: stable across processes and builds (Swift's
    /// own hashing is seeded per process). Two keys that share a lock only take turns needlessly.
    static func lock(_ kind: String, _ value: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in kind.utf8 + [0x1F] + value.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: hash)
    }

    /// An ingest transaction's locks, before it reads: sent ahead of the reads, which the server
    /// runs after them.
    static func lockForIngest(_ keys: BatchKeys, statements: PostgresStatements) throws {
        try statements.run("SELECT pg_advisory_xact_lock_shared(?)", .integer(everything))
        let locks = Self.locks(for: keys)
        guard !locks.isEmpty else { return }
        // unnest yields the array in order, and each row's lock is taken before the next row's.
        try statements.run("SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(? AS bigint[])) AS k) AS locked",
                           .text(PostgresStatements.arrayLiteral(locks.map(SQLValue.integer)).literal))
    }

    /// A change that is not an event's: alone, after the ingest transactions in flight.
    static func lockForChange(statements: PostgresStatements) throws {
        try statements.run("SELECT pg_advisory_xact_lock(?)", .integer(everything))
    }
}
