import Foundation
import Histogram
import PatronDomain
import PatronService
import PatronStorage
import SearchWorkload

/// Issue "Search that holds for any combination of filters": generated searches, each run once
/// as a user would type it (a first page, and sometimes the page after through its cursor),
/// reported by number of filters with the worst ten. Targets: p95 ≤ 50 ms for every number of
/// filters and the worst ≤ 150 ms, over the broker.
enum GeneratedSearches {
    struct Sample {
        let query: GeneratedSearch
        let page: Int
        let microseconds: UInt64
    }

    /// Through the store, in this process.
    static func inProcess(_ queries: [GeneratedSearch], search: SQLiteCustomerSearch, phones: any PhoneNormalizer,
                          rules: RecordRules) async throws -> [Sample] {
        try await run(queries) { args in
            let request = try CustomerSearch.parse(CommandArguments(args), phones: phones, rules: rules)
            return try await search.search(request).nextCursor
        }
    }

    /// As `customers.search` over the broker.
    static func roundTrips(_ queries: [GeneratedSearch], commands: CommandClient) async throws -> [Sample] {
        try await run(queries) { args in
            let reply = try await commands.call("customers.search", args: args, timeout: .seconds(30))
            guard reply["ok"] == .bool(true) else { throw BenchFailure("customers.search \(args): \(reply)") }
            return reply["result"]?["next_cursor"]?.stringValue
        }
    }

    struct BenchFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Each query's first page, and its second when the query follows its cursor; `page` answers
    /// with the next cursor.
    private static func run(_ queries: [GeneratedSearch], page: ([String: JSONValue]) async throws -> String?) async throws -> [Sample] {
        var samples: [Sample] = []
        for query in queries {
            var args = query.args
            for number in 1...(query.followsCursor ? 2 : 1) {
                let start = ContinuousClock.now
                let next = try await page(args)
                samples.append(Sample(query: query, page: number, microseconds: UInt64((ContinuousClock.now - start).inSeconds * 1e6)))
                guard let next else { break }
                args["cursor"] = .string(next)
            }
        }
        return samples
    }

    static func report(seed: UInt64, queries: Int, inProcess: [Sample], roundTrips: [Sample]) {
        print("\ngenerated searches (seed \(seed)): \(queries) queries, \(inProcess.count) pages")
        func percentiles(_ samples: [Sample]) -> String {
            guard !samples.isEmpty else { return "-" }
            var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000)
            for sample in samples { _ = histogram.record(sample.microseconds) }
            return [50.0, 95, 99].map { String(format: "%.1f", Double(histogram.valueAtPercentile($0)) / 1000) }.joined(separator: " / ")
                + String(format: " (max %.1f)", Double(histogram.max) / 1000)
        }
        let judged = roundTrips.isEmpty ? inProcess : roundTrips
        print("filters | pages | patron p50/p95/p99 ms           | round trip p50/p95/p99 ms        | verdict")
        var failures = 0
        for count in 1...4 {
            let mine = inProcess.filter { $0.query.filterCount == count }
            let trips = roundTrips.filter { $0.query.filterCount == count }
            var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000)
            for sample in judged where sample.query.filterCount == count { _ = histogram.record(sample.microseconds) }
            let ok = histogram.valueAtPercentile(95) <= 50_000
            if !ok { failures += 1 }
            print("\(count)       | \(String(mine.count).padding(toLength: 5, withPad: " ", startingAt: 0)) | "
                  + percentiles(mine).padding(toLength: 32, withPad: " ", startingAt: 0) + " | "
                  + percentiles(trips).padding(toLength: 32, withPad: " ", startingAt: 0) + " | " + (ok ? "PASS" : "FAIL (p95 > 50 ms)"))
        }
        let worst = judged.sorted { $0.microseconds > $1.microseconds }.prefix(10)
        print("worst ten (\(roundTrips.isEmpty ? "in process" : "round trip")):")
        for sample in worst {
            print(String(format: "  %7.1f ms  ", Double(sample.microseconds) / 1000) + (sample.page > 1 ? "page \(sample.page) of " : "") + "\(sample.query)")
        }
        let worstOK = (worst.first?.microseconds ?? 0) <= 150_000
        print("\(failures) of 4 filter counts over p95 ≤ 50 ms; worst \(worstOK ? "within" : "over") 150 ms")
    }
}
