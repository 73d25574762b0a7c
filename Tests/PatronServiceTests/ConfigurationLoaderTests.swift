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
        #expect(configuration.topology.deadQueueType == "classic" && configuration.topology.commandsQueueType == "classic")
        #expect(configuration.storage.dataDirectory == "./var" && configuration.storage.databaseURL == nil)
        #expect(configuration.exportsDirectory == "./var/exports" && configuration.exports.retentionDays == 30)
        #expect(configuration.roles["patron"] == .admin)
        #expect(configuration.shutdownGraceSeconds < 30, "must stay below the unit's TimeoutStopSec")
    }

    /// One clock for the business: search and selection periods are the days of `dispatch.timezone`.
    @Test func theBusinessZoneOfPeriodsIsTheDispatchTimeZone() throws {
        let key = "records:\n  erasure_hash_key: " + String(repeating: "k", count: 32) + "\n"
        let configured = try ConfigurationLoader.parse(yaml: "dispatch:\n  timezone: Atlantic/Canary\n" + key)
        #expect(configured.records.businessZone.identifier == "Atlantic/Canary")
        let byDefault = try ConfigurationLoader.parse(yaml: key)
        #expect(byDefault.records.businessZone == byDefault.dispatch.timeZone)
    }

    @Test func environmentOverridesTheFile() throws {
        let configuration = try ConfigurationLoader.parse(yaml: "amqp:\n  url: amqp://a@h1\n", environment: [
            "PATRON_AMQP_URL": "amqp://x:y@n1:5673,amqp://x:y@n2:5674", "PATRON_DATA_DIR": "/srv/patron",
            "PATRON_LOG_LEVEL": "debug", "PATRON_METRICS_LISTEN": "off", "PATRON_ERASURE_HASH_KEY": String(repeating: "s", count: 32),
        ])
        #expect(configuration.broker.urls.map(\.host) == ["n1", "n2"])
        #expect(configuration.storage.dataDirectory == "/srv/patron")
        #expect(configuration.logLevel == "debug")
        #expect(configuration.metrics.listenHost == nil)
        #expect(configuration.erasureHashKey == String(repeating: "s", count: 32))
    }

    /// SQLite unless a PostgreSQL URL is given; the environment's URL wins over the file's.
    @Test func aPostgresURLSelectsPostgreSQLAndTheEnvironmentOverridesIt() throws {
        let records = "records:\n" + Self.key
        let sqlite = try ConfigurationLoader.parse(yaml: "storage:\n  data_dir: /srv/patron\n" + records)
        #expect(sqlite.storage.databaseURL == nil)
        #expect(try sqlite.storage.location().description == "/srv/patron/patron.sqlite")
        let file = try ConfigurationLoader.parse(yaml: "storage:\n  database_url: postgres://patron:secret@db1:5432/patron\n" + records)
        #expect(try file.storage.location().description == "postgres://patron@db1:5432/patron", "the password stays out of logs")
        let overridden = try ConfigurationLoader.parse(yaml: "storage:\n  database_url: postgres://patron:secret@db1/patron\n" + records,
                                                       environment: ["PATRON_DATABASE_URL": "postgres://patron:secret@db2:5433/chain"])
        #expect(try overridden.storage.location().description == "postgres://patron@db2:5433/chain")
        let replica = try ConfigurationLoader.parse(yaml: records, environment: ["PATRON_REPLICA": "9465",
                                                                                 "PATRON_DATABASE_URL": "postgres://patron@db1/patron"])
        #expect(replica.storage.databaseURL != nil)
        for (yaml, environment, key) in [("storage:\n  database_url: mysql://x@h/db\n", [String: String](), "storage.database_url"),
                                         ("", ["PATRON_DATABASE_URL": "postgres://h/db"], "PATRON_DATABASE_URL"),
                                         ("", ["PATRON_REPLICA": "9465"], "storage.database_url")] {
            do {
                _ = try ConfigurationLoader.parse(yaml: yaml + records, environment: environment)
                Issue.record("accepted \(yaml) \(environment)")
            } catch let error as ConfigurationError {
                #expect(error.key == key)
            }
        }
    }

    static let key = "  erasure_hash_key: 0123456789abcdef0123456789abcdef\n"

    @Test func recordRulesAreReadAndNormalized() throws {
        let configuration = try ConfigurationLoader.parse(yaml: """
            records:
              default_country: es
              default_currency: JPY
              titles: [Sr., Sra.]
              regular_after_stays: 5
              max_merge_records: 4
              business_emails: [" Recepcion@Hotel.example "]
              business_phones: ["943 00 00 00"]
            \(Self.key)
            """)
        #expect(configuration.records.defaultCountry == "ES")
        #expect(configuration.records.defaultCurrency == "JPY")
        #expect(configuration.records.titles == ["Sr.", "Sra."])
        #expect(configuration.records.regularAfterStays == 5)
        #expect(configuration.records.maximumMergeRecords == 4)
        #expect(configuration.records.isBlocked(email: "recepcion@hotel.example"))
        #expect(configuration.records.isBlocked(phone: "943 000 000", e164: "+34943000000"))
    }

    @Test(arguments: [
        ("amqp:\n  prefetch: 0\n", "amqp.prefetch"),
        ("exports:\n  retention_days: 0\n", "exports.retention_days"),
        ("exports:\n  directory: \"\"\n", "exports.directory"),
        ("exports:\n  keep_days: 3\n", "exports.keep_days"),
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
        ("records: {}\n", "records.erasure_hash_key"),
        ("records:\n  erasure_hash_key: short\n", "records.erasure_hash_key"),
        ("records:\n  default_country: XX\n" + key, "records.default_country"),
        ("records:\n  default_currency: EURO\n" + key, "records.default_currency"),
        ("records:\n  titles: []\n" + key, "records.titles"),
        ("records:\n  business_emails: [frontdesk]\n" + key, "records.business_emails[0]"),
        ("records:\n  business_phones: ['12']\n" + key, "records.business_phones[0]"),
        ("records:\n  max_merge_records: 1\n" + key, "records.max_merge_records"),
        ("records:\n  colour: red\n" + key, "records.colour"),
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

    @Test func rolesFromTheEnvironmentAddToAndOverrideTheFile() throws {
        let configuration = try ConfigurationLoader.parse(yaml: "roles:\n  alice: viewer\n  carol: operator\n" + "records:\n" + Self.key,
                                                          environment: ["PATRON_ROLES": "alice=admin, bob=viewer,"])
        #expect(configuration.roles == ["alice": .admin, "bob": .viewer, "carol": .operator])
    }

    @Test(arguments: ["alice", "alice=boss", "=admin"])
    func badRolesFromTheEnvironmentNameTheVariable(_ value: String) {
        do {
            _ = try ConfigurationLoader.parse(yaml: "records:\n" + Self.key, environment: ["PATRON_ROLES": value])
            Issue.record("\(value) accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == "PATRON_ROLES")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
