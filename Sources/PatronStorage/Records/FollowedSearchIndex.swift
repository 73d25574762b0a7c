import PatronDomain
import Synchronization

/// A ``SearchIndex`` kept in step with a database by the engine's change feed: loaded once,
/// then brought up to a reader's snapshot before each use by applying the facts of the
/// customers the feed lists since the last position it applied. Searches and changes are
/// serialized by one lock: a search holds it for a few milliseconds.
final class FollowedSearchIndex<Position: Sendable>: Sendable {
    /// What the engine reads, on one snapshot each time.
    struct Feed {
        /// Every customer, and the feed's position at the same snapshot.
        var load: () throws -> (SearchIndex, Position)
        /// The customers changed after a position and the position after them; nil when the
        /// feed no longer holds every change since (the index is loaded again).
        var changes: (Position) throws -> (customers: [CustomerID], position: Position)?
        /// Those customers' facts now.
        var facts: ([CustomerID]) throws -> [CustomerFacts]
    }

    private struct State: ~Copyable {
        var index: SearchIndex?
        var position: Position?
    }

    private let state = Mutex(State())

    /// Runs `body` on the index brought up to the snapshot `feed` reads, loading it first if needed;
    /// `applied` is told the position the index then holds.
    func withCurrentIndex<T>(_ feed: Feed, applied: (Position) -> Void = { _ in },
                             _ body: (borrowing SearchIndex) throws -> T) throws -> T {
        try state.withLock { state in
            if state.index != nil, let position = state.position, let changed = try feed.changes(position) {
                for facts in try feed.facts(changed.customers) { state.index!.apply(facts) }
                state.position = changed.position
            } else {
                let (index, position) = try feed.load()
                state.index = index
                state.position = position
            }
            applied(state.position!)
            return try body(state.index!)
        }
    }
}
