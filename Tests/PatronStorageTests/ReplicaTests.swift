import Foundation
import PatronDomain
@testable import PatronStorage
import Testing

/// Several patrond replicas on one PostgreSQL database, with no coordination but its
/// transactions: whatever reaches which replica, in whatever batches and at the same time, the
/// records end as one replica builds them from the same events.
struct ReplicaTests {
    /// Events whose effects meet: the same people by other identifiers, bookings and their
    /// status changes, payments, carts and threads (OrderIndependenceTests), and records that a
    /// bridge event merges (MergeAndErasureTests).
    static let streams: [(name: String, events: [String])] = [
        ("records", OrderIndependenceTests.events),
        ("bridge merges", [MergeAndErasureTests.recordA, MergeAndErasureTests.recordB, MergeAndErasureTests.moreB, MergeAndErasureTests.bridge,
                           Events.profile("bridge2", minute: 11, #"{"email":"ana@example.com","mobile":"+34600111222","first_name":"Ana"}"#)]),
    ]

    @Test(arguments: streams.indices)
    func threeReplicasIngestingTheSameEventsConcurrentlyBuildWhatOneBuilds(stream: Int) async throws {
        let events = Self.streams[stream].events
        let reference = try await RecordsFixture.open(.postgres)
        try await reference.ingest(events)
        let expected = try await reference.canonicalDump()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let fixture = try await RecordsFixture.open(.postgres)
            let replicas = [fixture.store, try await fixture.replica(), try await fixture.replica()]
            // Every event reaches every replica (as after redeliveries), each in its own order and
            // batches: each event is applied once, by whichever replica claims it first.
            let batches = try replicas.map { _ in
                var stream = events.shuffled(using: &generator)
                var batches: [[AcceptedEvent]] = []
                while !stream.isEmpty {
                    let size = Int.random(in: 1...3, using: &generator)
                    batches.append(try fixture.accepted(Array(stream.prefix(size))))
                    stream.removeFirst(min(size, stream.count))
                }
                return batches
            }
            let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
                for (replica, batches) in zip(replicas, batches) {
                    group.addTask {
                        var total = RecordOutcome()
                        for batch in batches {
                            let outcome = try await replica.record(batch)
                            total.recorded += outcome.recorded
                            total.duplicates += outcome.duplicates
                            total.failed.merge(outcome.failed) { first, _ in first }
                        }
                        return total
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0.failed.isEmpty }, "\(outcomes.flatMap(\.failed.values).map(\.message))")
            #expect(outcomes.map(\.recorded).reduce(0, +) == events.count)
            #expect(outcomes.map(\.duplicates).reduce(0, +) == 2 * events.count)
            let actual = try await fixture.canonicalDump()
            #expect(actual == expected, "\(zip(actual, expected).filter { $0 != $1 }.map { a, e in OrderIndependenceTests.difference(a, e) })")
            #expect(try await fixture.figuresDifferingFromARecount() == 0)
            #expect(try await fixture.searchIndexDisagreements() == [])
            let status = try await fixture.store.journalStatus()
            #expect(status.recorded == Int64(events.count) && status.duplicates == Int64(2 * events.count))
        }
    }

    /// Two replicas whose batches name the same customers in opposite orders, at the same time,
    /// never wait for each other in a circle: keys are locked sorted, customers in id order.
    @Test func batchesNamingTheSameKeysInOppositeOrdersNeverDeadlock() async throws {
        let fixture = try await RecordsFixture.open(.postgres)
        let first = try await fixture.replica() as! PostgresEventStore
        let second = try await fixture.replica() as! PostgresEventStore
        func event(_ id: String, _ person: String, minute: Int) -> String {
            Events.booking(id, minute: minute, customer: #"{"email":"\#(person)@example.com"}"#, ref: "BK-\(id)")
        }
        for round in 0..<12 {
            let people = (0..<6).map { "p\(round)-\($0)" }
            try await fixture.ingest(people.map { event("seed-\($0)", $0, minute: 1) })
            let forward = try fixture.accepted(people.map { event("f-\($0)", $0, minute: 2) })
            let backward = try fixture.accepted(people.reversed().map { event("b-\($0)", $0, minute: 3) })
            async let one = first.record(forward)
            async let two = second.record(backward)
            let outcomes = try await [one, two]
            #expect(outcomes.allSatisfy { $0.recorded == 6 && $0.failed.isEmpty })
        }
        #expect(first.retries + second.retries == 0)
        #expect(try await fixture.integer("SELECT count(*) FROM customers WHERE orders = 3") == 72)
    }

    /// A batch committed in parts: a failing event is reported at its place in the whole batch,
    /// the parts before and after it commit, and the same batch again is all duplicates.
    @Test func aBatchCommittedInPartsReportsEachEventAtItsPlace() async throws {
        let fixture = try await RecordsFixture.open(.postgres)
        try await fixture.executeOnPostgres("""
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.ref = 'BK-POISON' THEN RAISE EXCEPTION 'poisoned booking'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER poison BEFORE INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION poison();
            """)
        let store = try await fixture.replica(transactionSize: 2)
        let batch = try fixture.accepted((1...5).map { index in
            Events.booking("e\(index)", minute: index, customer: #"{"email":"guest\#(index)@example.com"}"#,
                           ref: index == 4 ? "BK-POISON" : "BK-\(index)")
        })
        let outcome = try await store.record(batch)
        #expect(outcome.recorded == 4 && outcome.created == 4)
        #expect(Array(outcome.failed.keys) == [3])
        #expect(outcome.failed[3]?.message.contains("poisoned booking") == true)
        #expect(try await fixture.texts("SELECT ref FROM bookings ORDER BY ref") == ["BK-1", "BK-2", "BK-3", "BK-5"])
        let again = try await store.record(batch)
        #expect(again.duplicates == 4 && again.recorded == 0 && Array(again.failed.keys) == [3])
    }

    /// A part's events are claimed by one statement: an event twice in it is applied once and
    /// counted once as a duplicate, as when the copies come in separate batches.
    @Test func anEventTwiceInOnePartIsAppliedOnce() async throws {
        let fixture = try await RecordsFixture.open(.postgres)
        let first = Events.booking("e1", minute: 1, customer: #"{"email":"ana@example.com"}"#, ref: "BK-1")
        let second = Events.booking("e2", minute: 2, customer: #"{"email":"ben@example.com"}"#, ref: "BK-2")
        let outcome = try await fixture.store.record(try fixture.accepted([first, first, second]))
        #expect(outcome.recorded == 2 && outcome.duplicates == 1 && outcome.created == 2 && outcome.failed.isEmpty)
        #expect(try await fixture.texts("SELECT event_id FROM event_journal ORDER BY seq") == ["e1", "e2"])
        #expect(try await fixture.integer("SELECT count(*) FROM bookings") == 2)
    }

    /// Two replicas' relays reading the same outboxes at once each get rows the other does not;
    /// together all of them. A claim that is never followed by a publish (a replica killed)
    /// runs out, and the rows are anyone's again; published rows are no one's.
    @Test func relaysOnTwoReplicasClaimEachOutboxRowOnce() async throws {
        let fixture = try await RecordsFixture.open(.postgres)
        try await fixture.executeOnPostgres("""
            INSERT INTO dispatch_outbox (job_id, channel, template, purpose, trigger, body, created_at, not_before)
                SELECT 'job-' || n, 'email', 'newsletter', 'marketing', 'test', '\\x7b7d', 0, 0 FROM generate_series(1, 200) AS n;
            INSERT INTO outbox (message_id, routing_key, body) SELECT 'm-' || n, 'export.completed', '\\x7b7d' FROM generate_series(1, 200) AS n;
            """)
        let replicas = [fixture.stores, try await fixture.replicaStores()]
        let now = Timestamp(microseconds: 1_000_000)
        let claimed = try await withThrowingTaskGroup(of: (jobs: [Int64], announcements: [Int64]).self) { group in
            for stores in replicas {
                group.addTask {
                    var jobs: [Int64] = [], announcements: [Int64] = []
                    // Bounded: without claims every read would return rows again.
                    for _ in 0..<100 {
                        let batch = try await stores.dispatchOutbox.pending(channel: .email, readyAt: now, after: 0, limit: 7).map(\.sequence)
                        let notes = try await stores.announcements.pending(limit: 7, at: now).map(\.sequence)
                        if batch.isEmpty && notes.isEmpty { return (jobs, announcements) }
                        jobs += batch
                        announcements += notes
                    }
                    return (jobs, announcements)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for kind in [\(jobs: [Int64], announcements: [Int64]).jobs, \.announcements] {
            let (first, second) = (claimed[0][keyPath: kind], claimed[1][keyPath: kind])
            #expect(Set(first).isDisjoint(with: second))
            #expect(first.count + second.count == 200)
            #expect(!first.isEmpty && !second.isEmpty, "both replicas took part")
        }
        let expired = now.adding(seconds: 61)
        let again = try await replicas[1].dispatchOutbox.pending(channel: .email, readyAt: expired, after: 0, limit: 500)
        #expect(again.count == 200, "claims that were never published run out")
        try await replicas[1].dispatchOutbox.markPublished(again.map(\.sequence), at: expired)
        #expect(try await replicas[0].dispatchOutbox.pending(channel: .email, readyAt: expired.adding(seconds: 120), after: 0, limit: 500).isEmpty)
        let notes = try await replicas[0].announcements.pending(limit: 500, at: expired)
        try await replicas[0].announcements.remove(notes.map(\.sequence))
        #expect(notes.count == 200)
        #expect(try await replicas[1].announcements.pending(limit: 500, at: expired.adding(seconds: 120)).isEmpty)
    }
}
