import Foundation
import Testing

/// systemd/patrond.service, and the replicas' template patrond@.service as its instance
/// patrond@9465.service, must pass `systemd-analyze verify` and score 2.0 or lower ("OK") in
/// `systemd-analyze security --offline=true`.
struct SystemdUnitTests {
    /// Each unit file, and the unit name systemd-analyze is asked about.
    static let units = [("patrond.service", "patrond.service"), ("patrond@.service", "patrond@9465.service")]

    private static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A copy of the unit whose ExecStart names the binary this build produced; the URL of the
    /// unit to analyse beside it.
    private static func unitUnderTest(_ file: String = "patrond.service", as name: String = "patrond.service") throws -> URL {
        let binary = ProcessInfo.processInfo.environment["PATRON_TEST_BIN_DIR"].map { $0 + "/patrond" }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("patrond").path
        let unit = try String(contentsOfFile: "systemd/" + file, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/patrond", with: binary)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try unit.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
        return directory.appendingPathComponent(name)
    }

    @Test(arguments: units) func unitVerifies(file: String, name: String) throws {
        let unit = try Self.unitUnderTest(file, as: name)
        defer { try? FileManager.default.removeItem(at: unit.deletingLastPathComponent()) }
        let (status, output) = try Self.run(["verify", unit.path])
        #expect(status == 0, "\(output)")
        #expect(!output.contains(unit.lastPathComponent + ":"), "verify complained: \(output)")
    }

    @Test(arguments: units) func unitIsHardenedToExposureTwoOrLess(file: String, name: String) throws {
        let unit = try Self.unitUnderTest(file, as: name)
        defer { try? FileManager.default.removeItem(at: unit.deletingLastPathComponent()) }
        let (_, output) = try Self.run(["security", "--offline=true", "--no-pager", unit.path])
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = line.split(separator: " ").compactMap { Double($0) }.first
        #expect(score != nil && score! <= 2.0, "\(line)")
    }

    @Test func restartIsPreventedOnConfigurationErrors() throws {
        let unit = try String(contentsOfFile: "systemd/patrond.service", encoding: .utf8)
        #expect(unit.contains("RestartPreventExitStatus=78"))
        #expect(unit.contains("Type=notify"))
        #expect(unit.contains("StateDirectory=patron"))
    }

    /// Each replica its own state directory and metrics port, and a database it shares.
    @Test func replicaTemplateSeparatesWhatEachReplicaOwns() throws {
        let unit = try String(contentsOfFile: "systemd/patrond@.service", encoding: .utf8)
        for line in ["StateDirectory=patron/%i", "Environment=PATRON_DATA_DIR=/var/lib/patron/%i", "Environment=PATRON_METRICS_LISTEN=127.0.0.1:%i",
                     "Environment=PATRON_REPLICA=%i", "Type=notify", "RestartPreventExitStatus=78"] {
            #expect(unit.contains(line + "\n"), "\(line)")
        }
    }
}
