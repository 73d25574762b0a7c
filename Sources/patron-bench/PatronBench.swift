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
func peakResidentMiB() -> Double { residentMiB("VmHWM") }

/// Resident memory of this process now (VmRSS), in MiB.
func currentResidentMiB() -> Double { residentMiB("VmRSS") }

/// Resident memory of this process that is not a mapped file (RssAnon), in MiB: the heap,
/// without the database pages SQLite's readers map.
func anonymousResidentMiB() -> Double { residentMiB("RssAnon") }

private func residentMiB(_ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
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

/// The CPU seconds a PostgreSQL server on this host has used: its postmaster's, including the
/// backends it has reaped, plus its live children's. Nil when `backend` (a server process, as
/// `pg_backend_pid()` names it) is not on this host.
func postgresServerCPUSeconds(backend: Int32) -> Double? {
    /// utime, stime, cutime, cstime and the parent, from `/proc/pid/stat` (after the command's
    /// closing parenthesis: fields 4, 14–17).
    func times(_ pid: Int32) -> (own: Double, reaped: Double, parent: Int32)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 15, let parent = Int32(fields[1]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let value = { (index: Int) in (Double(fields[index]) ?? 0) / ticks }
        return (value(11) + value(12), value(13) + value(14), parent)
    }
    guard let postmaster = times(backend)?.parent, let server = times(postmaster),
          let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
    var total = server.own + server.reaped
    for entry in entries {
        guard let pid = Int32(entry), let child = times(pid), child.parent == postmaster else { continue }
        total += child.own
    }
    return total
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
