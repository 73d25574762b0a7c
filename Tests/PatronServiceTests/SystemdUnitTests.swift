import Foundation
import Testing

/// systemd/patrond.service must pass `systemd-analyze verify` and score 2.0 or lower ("OK") in
/// `systemd-analyze security --offline=true`.
struct SystemdUnitTests {
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

    /// A copy of the unit whose ExecStart names the binary this build produced.
    private static func unitUnderTest() throws -> URL {
        let binary = ProcessInfo.processInfo.environment["PATRON_TEST_BIN_DIR"].map { $0 + "/patrond" }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("patrond").path
        let unit = try String(contentsOfFile: "systemd/patrond.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/patrond", with: binary)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("patrond.service")
        try unit.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func unitVerifies() throws {
        let unit = try Self.unitUnderTest()
        defer { try? FileManager.default.removeItem(at: unit.deletingLastPathComponent()) }
        let (status, output) = try Self.run(["verify", unit.path])
        #expect(status == 0, "\(output)")
        #expect(!output.contains(unit.lastPathComponent + ":"), "verify complained: \(output)")
    }

    @Test func unitIsHardenedToExposureTwoOrLess() throws {
        let unit = try Self.unitUnderTest()
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
}
