import Foundation
import PatronService
import Testing

struct ConfigurationLoaderTests {
    @Test func exampleConfigurationIsValidAndMatchesTheDocumentedDefaults() throws {
        let configuration = try ConfigurationLoader.load(path: "config/patrond.example.yaml", environment: [:])
        #expect(configuration.broker.urls.map(\.port) == [5672])
        #expect(configuration.broker.heartbeatSeconds == 30)
        #expect(configuration.topology.ingestQueue == "patron.ingest")
        #expect(configuration.topology.ingestQueueType == "quorum")
        #expect(configuration.storage.dataDirectory == "./var")
        #expect(configuration.roles["patron"] == .admin)
        #expect(configuration.shutdownGraceSeconds < 30, "must stay below the unit's TimeoutStopSec")
    }

    @Test func environmentOverridesTheFile() throws {
        let configuration = try ConfigurationLoader.parse(yaml: "amqp:\n  url: amqp://a@h1\n", environment: [
            "PATRON_AMQP_URL": "amqp://x:y@n1:5673,amqp://x:y@n2:5674", "PATRON_DATA_DIR": "/srv/patron",
            "PATRON_LOG_LEVEL": "debug", "PATRON_METRICS_LISTEN": "off",
        ])
        #expect(configuration.broker.urls.map(\.host) == ["n1", "n2"])
        #expect(configuration.storage.dataDirectory == "/srv/patron")
        #expect(configuration.logLevel == "debug")
        #expect(configuration.metrics.listenHost == nil)
    }

    @Test(arguments: [
        ("amqp:\n  prefetch: 0\n", "amqp.prefetch"),
        ("amqp:\n  prefetch: many\n", "amqp.prefetch"),
        ("amqp:\n  prefech: 10\n", "amqp.prefech"),
        ("amqp:\n  url: http://h\n", "amqp.url"),
        ("amqp:\n  heartbeat_seconds: -1\n", "amqp.heartbeat_seconds"),
        ("amqp:\n  tls:\n    ca_file: /nonexistent/ca.pem\n", "amqp.tls.ca_file"),
        ("amqp:\n  tls:\n    cert_file: /etc/hostname\n", "amqp.tls.cert_file"),
        ("amqp: 5\n", "amqp"),
        ("topology:\n  ingest_queue_type: lazy\n", "topology.ingest_queue_type"),
        ("topology:\n  events_exchange: amq.topic\n", "topology.events_exchange"),
        ("ingest:\n  batch_size: 5000\n", "ingest.batch_size"),
        ("storage:\n  database_file: a/b.sqlite\n", "storage.database_file"),
        ("logging:\n  level: loud\n", "logging.level"),
        ("metrics:\n  listen: everywhere\n", "metrics.listen"),
        ("roles:\n  maria: superuser\n", "roles.maria"),
        ("shutdown:\n  grace_seconds: 0\n", "shutdown.grace_seconds"),
        ("colour: blue\n", "colour"),
        ("amqp: [\n", "(file)"),
    ])
    func refusesNamingTheKey(_ yaml: String, _ key: String) {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(!error.reason.isEmpty)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func badEnvironmentValueNamesTheVariable() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(yaml: "", environment: ["PATRON_AMQP_URL": "nope://x"])
        }
        do {
            _ = try ConfigurationLoader.parse(yaml: "", environment: ["PATRON_LOG_LEVEL": "chatty"])
        } catch let error as ConfigurationError {
            #expect(error.key == "PATRON_LOG_LEVEL")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
