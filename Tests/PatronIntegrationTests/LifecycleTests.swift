import Foundation
import GRDB
import PatronAMQP
import PatronDomain
import PatronService
import Testing

extension BrokerBacked {
    @Suite struct Lifecycle {
        static let streamSize = 50_000

        static func stream(_ setup: TestSetup) -> [AMQPOutgoingMessage] {
            (0..<streamSize).map { event("stream-\($0)", exchange: setup.topology.eventsExchange) }
        }

        static func expectEveryEventExactlyOnce(_ setup: TestSetup) throws {
            let ids = try setup.journalIDs()
            #expect(ids.count == streamSize)
            #expect(Set(ids) == Set((0..<streamSize).map { "stream-\($0)" }))
        }

        @Test(arguments: [
            ("amqp:\n  prefetch: 0\n", "amqp.prefetch"),
            ("topology:\n  ingest_queue_type: mirrored\n", "topology.ingest_queue_type"),
            ("storage:\n  data_dri: /tmp\n", "storage.data_dri"),
        ])
        func badConfigurationExits78NamingTheKey(_ yaml: String, _ key: String) async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patron-config-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("bad.yaml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let child = try ChildPatrond(configurationPath: path)
            #expect(try await child.waitForExit() == 78)
            #expect(child.log.contains("configuration error: \(key):"), "\(child.log)")
        }

        @Test func badEnvironmentOverrideExits78NamingTheVariable() async throws {
            let setup = try TestSetup()
            let child = try ChildPatrond(configurationPath: setup.configurationPath, environment: ["PATRON_AMQP_URL": "http://nope"])
            #expect(try await child.waitForExit() == 78)
            #expect(child.log.contains("PATRON_AMQP_URL:"))
            try? FileManager.default.removeItem(at: setup.directory)
        }

        @Test func speaksTheNotifyProtocolThroughStartReloadAndStop() async throws {
            let setup = try TestSetup()
            let broker = try await TestBroker()
            let listener = try NotifyListener(directory: setup.directory)
            let child = try ChildPatrond(configurationPath: setup.configurationPath, environment: [
                "NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "2000000",
            ])
            // More time to start while the database opens (migrations), then READY.
            let opening = try listener.waitFor("EXTEND_TIMEOUT_USEC=60000000")
            #expect(opening.contains("STATUS=opening the database"))
            let ready = try listener.waitFor("READY=1")
            #expect(ready.contains("STATUS=connected"))
            try listener.waitFor("WATCHDOG=1", timeout: .seconds(5))
            try listener.waitFor("WATCHDOG=1", timeout: .seconds(5))

            child.send(SIGHUP)
            let reloading = try listener.waitFor("RELOADING=1")
            let monotonic = reloading.split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }
            #expect(monotonic.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) } != nil, "\(reloading)")
            let reloaded = try listener.waitFor("READY=1")
            #expect(reloaded.contains("STATUS=configuration reloaded"))

            // A reload with a broken file keeps running on the old configuration and says why.
            try "amqp:\n  prefetch: nope\n".write(toFile: setup.configurationPath, atomically: true, encoding: .utf8)
            child.send(SIGHUP)
            try listener.waitFor("RELOADING=1")
            let refused = try listener.waitFor("READY=1")
            #expect(refused.contains("reload failed"))
            #expect(refused.contains("amqp.prefetch"))
            #expect(child.process.isRunning)

            child.send(SIGTERM)
            try listener.waitFor("STOPPING=1")
            #expect(try await child.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }

        @Test func watchdogPingsStopWhileABatchCannotCommitAndResumeAfter() async throws {
            let setup = try TestSetup()
            let broker = try await TestBroker()
            let listener = try NotifyListener(directory: setup.directory)
            let child = try ChildPatrond(configurationPath: setup.configurationPath, environment: [
                "NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "2000000",
            ])
            try listener.waitFor("READY=1")
            try listener.waitFor("WATCHDOG=1", timeout: .seconds(5))

            // Another writer holds the database: patrond's next batch cannot commit.
            let release = DispatchSemaphore(value: 0)
            let locked = DispatchSemaphore(value: 0)
            let lockHolder = try DatabaseQueue(path: setup.databasePath)
            DispatchQueue.global().async {
                try? lockHolder.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE")
                    locked.signal()
                    release.wait()
                    try db.execute(sql: "COMMIT")
                }
            }
            locked.wait()
            try await broker.publish([event("stuck-1", exchange: setup.topology.eventsExchange)])
            try await eventually("patrond to see its batch is stuck") { child.log.contains("withholding watchdog ping") }
            let whileStuck = listener.collect(for: .seconds(3))
            #expect(!whileStuck.contains { $0.contains("WATCHDOG=1") }, "a stuck consumer must not ping: \(whileStuck)")

            release.signal()
            try listener.waitFor("WATCHDOG=1", timeout: .seconds(15))
            try await eventually("the held event once the lock is gone") { try setup.journalIDs() == ["stuck-1"] }
            child.send(SIGTERM)
            #expect(try await child.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }

        @Test func killMinus9MidStreamThenRestartAppliesEveryEventExactlyOnce() async throws {
            let setup = try TestSetup(batchSize: 100)
            let broker = try await TestBroker()
            let first = try ChildPatrond(configurationPath: setup.configurationPath, logName: "first.log")
            try await eventually("patrond to consume") { (try? await broker.consumerCount(setup.topology.ingestQueue)) == 1 }
            let publishing = Task { try await broker.publish(Self.stream(setup)) }
            try await eventually("part of the stream to be applied") { try await setup.journalCount() >= 1_000 }
            first.send(SIGKILL)
            #expect(try await first.waitForExit() == SIGKILL)
            let appliedBeforeKill = try await setup.journalCount()
            #expect(appliedBeforeKill < Self.streamSize, "the kill must land mid-stream")

            try await publishing.value
            let second = try ChildPatrond(configurationPath: setup.configurationPath, logName: "second.log")
            try await eventually("the whole stream", timeout: .seconds(120)) { try await setup.journalCount() >= Self.streamSize }
            try await eventually("the ingest queue to drain") { try await broker.queueDepth(setup.topology.ingestQueue) == 0 }
            try Self.expectEveryEventExactlyOnce(setup)
            second.send(SIGTERM)
            #expect(try await second.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }

        @Test func sigtermMidBatchExitsCleanlyAndLosesNothing() async throws {
            let setup = try TestSetup(batchSize: 200)
            let broker = try await TestBroker()
            let listener = try NotifyListener(directory: setup.directory)
            let first = try ChildPatrond(configurationPath: setup.configurationPath, environment: ["NOTIFY_SOCKET": listener.path], logName: "first.log")
            try listener.waitFor("READY=1")
            let publishing = Task { try await broker.publish(Self.stream(setup)) }
            try await eventually("part of the stream to be applied") { try await setup.journalCount() >= 1_000 }
            first.send(SIGTERM)
            try listener.waitFor("STOPPING=1")
            #expect(try await first.waitForExit() == 0, "\(first.log)")
            try await publishing.value
            let applied = try await setup.journalCount()
            #expect(applied < Self.streamSize, "the stop must land mid-stream")
            // What patrond committed it also acknowledged: the queue holds exactly the rest.
            try await eventually("the broker to count the unacknowledged rest") {
                try await broker.queueDepth(setup.topology.ingestQueue) == Self.streamSize - applied
            }

            let second = try ChildPatrond(configurationPath: setup.configurationPath, logName: "second.log")
            try await eventually("the whole stream", timeout: .seconds(120)) { try await setup.journalCount() >= Self.streamSize }
            try Self.expectEveryEventExactlyOnce(setup)
            second.send(SIGTERM)
            #expect(try await second.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }

        @Test func brokerStoppedAndStartedMidStreamLosesNothing() async throws {
            let setup = try TestSetup(batchSize: 100)
            let broker = try await TestBroker()
            let child = try ChildPatrond(configurationPath: setup.configurationPath)
            try await eventually("patrond to consume") { (try? await broker.consumerCount(setup.topology.ingestQueue)) == 1 }
            let publishing = Task { try await broker.publish(Self.stream(setup)) }
            try await eventually("part of the stream to be applied") { try await setup.journalCount() >= 1_000 }
            try TestEnvironment.brokerControl("stop_app")
            let appliedDuringOutage = try await setup.journalCount()
            #expect(appliedDuringOutage < Self.streamSize, "the outage must land mid-stream")
            try await Task.sleep(for: .seconds(2))
            try TestEnvironment.brokerControl("start_app")
            try await publishing.value

            try await eventually("the whole stream after the restart", timeout: .seconds(120)) { try await setup.journalCount() >= Self.streamSize }
            try Self.expectEveryEventExactlyOnce(setup)
            #expect(child.process.isRunning, "patrond rides out a broker restart")
            #expect(child.log.contains("broker connection unavailable; retrying"))
            child.send(SIGTERM)
            #expect(try await child.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }
    }

    @Suite struct NetworkCut {
        @Test func silentNetworkCutIsNoticedByHeartbeatsAndLosesNothing() async throws {
            let broker = try await TestBroker()
            let brokerURL = try AMQPURL(parsing: try TestEnvironment.amqpURL)
            let proxy = try CuttableProxy(port: brokerURL.port + 20, targetPort: brokerURL.port)
            var viaProxy = brokerURL
            viaProxy.port = proxy.port
            let setup = try TestSetup(url: "amqp://\(viaProxy.user):\(viaProxy.password)@127.0.0.1:\(proxy.port)",
                                      heartbeatSeconds: 2, connectTimeoutSeconds: 2)
            let child = try ChildPatrond(configurationPath: setup.configurationPath)
            try await eventually("patrond to consume") { (try? await broker.consumerCount(setup.topology.ingestQueue)) == 1 }
            let publishing = Task { try await broker.publish(Lifecycle.stream(setup)) }
            try await eventually("part of the stream to be applied") { try await setup.journalCount() >= 1_000 }

            proxy.cut()
            let cutAt = ContinuousClock.now
            try await eventually("patrond to notice the silent broker", timeout: .seconds(15)) {
                child.log.contains("heartbeat timeout")
            }
            #expect(ContinuousClock.now - cutAt < .seconds(8), "two 2 s heartbeats, plus the wake-up interval")
            #expect(try await setup.journalCount() < Lifecycle.streamSize, "the cut must land mid-stream")
            try await publishing.value
            proxy.restore()

            try await eventually("the whole stream after the network returns", timeout: .seconds(120)) {
                try await setup.journalCount() >= Lifecycle.streamSize
            }
            try Lifecycle.expectEveryEventExactlyOnce(setup)
            child.send(SIGTERM)
            #expect(try await child.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }
    }

    @Suite struct BrokerAlarm {
        @Test func blockedConnectionHoldsTheRejectionUntilTheAlarmClears() async throws {
            let setup = try TestSetup()
            let broker = try await TestBroker()
            let names = setup.topology
            try await broker.client.withManagement { try Topology.declare(names, on: $0) }
            try await broker.publish([event("alarm-1", occurredAt: "not a date", exchange: names.eventsExchange)])
            try TestEnvironment.brokerControl("set_vm_memory_high_watermark", "0")
            let patron: RunningPatron
            do {
                patron = try await RunningPatron(setup, broker: broker)
            } catch {
                try? TestEnvironment.brokerControl("set_vm_memory_high_watermark", "0.4")
                throw error
            }
            do {
                try await eventually("the ingest connection to be blocked", timeout: .seconds(20)) {
                    if case .blocked = patron.patron.ingestClient.state { return true }
                    return false
                }
                try await Task.sleep(for: .seconds(1))
                #expect(try await broker.queueDepth(names.deadQueue) == 0, "nothing can be published while blocked")
                #expect(patron.patron.pipeline.totalsSnapshot.rejected == 0, "the batch is held, not acknowledged")
            } catch {
                try? TestEnvironment.brokerControl("set_vm_memory_high_watermark", "0.4")
                throw error
            }
            try TestEnvironment.brokerControl("set_vm_memory_high_watermark", "0.4")
            try await eventually("the dead letter after the alarm cleared", timeout: .seconds(30)) {
                try await broker.queueDepth(names.deadQueue) == 1
            }
            #expect(patron.patron.ingestClient.state.isConnected)
            try await eventually("the rejection to be counted") { patron.patron.pipeline.totalsSnapshot.rejected == 1 }
            try await patron.stop()
            await setup.tearDown(broker)
            await broker.close()
        }
    }

    @Suite struct Transport {
        @Test func connectsOverTLSWithTheConfiguredCA() async throws {
            let url = try AMQPURL(parsing: try TestEnvironment.require("PATRON_TEST_AMQPS_URL"))
            let caFile = try TestEnvironment.require("PATRON_TEST_CA_FILE")
            let client = AMQPClient(configuration: AMQPClient.Configuration(urls: [url], tls: AMQPClient.TLSOptions(caFile: caFile), connectionName: "test-tls"),
                                    logger: TestEnvironment.quietLogger)
            let runner = Task { try await client.run() }
            try await client.waitUntilConnected(timeout: .seconds(20))
            let depth = try await client.withManagement { management -> Int in
                try management.declareQueue("tls-probe", durable: false, exclusive: true, autoDelete: true).messageCount
            }
            #expect(depth == 0)
            client.shutdown()
            _ = await runner.result
        }

        @Test func refusesABrokerCertificateItCannotVerify() async throws {
            let url = try AMQPURL(parsing: try TestEnvironment.require("PATRON_TEST_AMQPS_URL"))
            // The system CA store does not know the test CA, so verification must fail.
            let client = AMQPClient(configuration: AMQPClient.Configuration(urls: [url], connectionName: "test-tls-untrusted"),
                                    logger: TestEnvironment.quietLogger)
            let runner = Task { try await client.run() }
            await #expect(throws: AMQPError.self) { try await client.waitUntilConnected(timeout: .seconds(3)) }
            client.shutdown()
            _ = await runner.result
        }

        @Test func wrongCredentialsAreReportedNotRetriedSilently() async throws {
            var url = try AMQPURL(parsing: try TestEnvironment.amqpURL)
            url.password = "wrong"
            let client = AMQPClient(configuration: AMQPClient.Configuration(urls: [url], connectionName: "test-bad-login"),
                                    logger: TestEnvironment.quietLogger)
            let runner = Task { try await client.run() }
            do {
                try await client.waitUntilConnected(timeout: .seconds(3))
                Issue.record("logged in with a wrong password")
            } catch {
                #expect("\(error)".contains("login") || "\(error)".contains("ACCESS_REFUSED"), "\(error)")
            }
            client.shutdown()
            _ = await runner.result
        }
    }
}
