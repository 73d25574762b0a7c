import ArgumentParser
import Foundation
import Logging
import PatronService

/// Patron's benchmarks. They measure; timed tests do not (a loaded CI machine would make them
/// flaky). Run them on a release build: `scripts/bench ingest --events 100000`.
@main
struct PatronBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patron-bench",
        abstract: "Measure Patron against its speed and memory targets.",
        version: Patron.version,
        subcommands: [Ingest.self, Stages.self, Search.self, Import.self, Export.self, Dispatch.self])
}

/// Peak resident memory of this process (VmHWM), in MiB.
func peakResidentMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kib / 1024
}

func rate(_ count: Int, _ duration: Duration) -> Double {
    Double(count) / duration.inSeconds
}

func format(_ duration: Duration) -> String {
    String(format: "%.2f s", duration.inSeconds)
}

/// CPU time (user + system) this process has used so far, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// What a broker benchmark starts from: the broker URL (`--url`, else `$PATRON_AMQP_URL`, which
/// scripts/bench sets), a logger for errors only, a prefix that keeps its broker objects apart,
/// and a scratch directory named after it (the caller removes it).
struct BrokerBench {
    let url: String
    let logger: Logger
    let prefix: String
    let directory: URL

    init(url: String?) throws {
        guard let url = url ?? ProcessInfo.processInfo.environment["PATRON_AMQP_URL"] else {
            throw ValidationError("give --url or set PATRON_AMQP_URL (scripts/bench starts a private broker)")
        }
        self.url = url
        var logger = Logger(label: "patron-bench")
        logger.logLevel = .error
        self.logger = logger
        prefix = "bench\(UUID().uuidString.prefix(6).lowercased())"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix)
    }
}
