import GRDB
import PatronDomain

/// The customer-record tables. Profile and booking fields are a column each, with an `_at`
/// column holding the `occurred_at` of the value (the "older never overwrites newer" rule).
enum RecordSchema {
    static func stampedColumns<Field: RawRepresentable & CaseIterable>(_: Field.Type) -> String where Field.RawValue == String {
        Field.allCases.map { "\($0.rawValue) TEXT, \($0.rawValue)_at INTEGER" }.joined(separator: ",\n    ")
    }

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE customers (
                id INTEGER PRIMARY KEY,
                customer_no TEXT NOT NULL,
                number_assigned INTEGER NOT NULL,
                merged_into INTEGER REFERENCES customers(id),
                erased_at INTEGER,
                first_contact_at INTEGER NOT NULL,
                auto_group INTEGER NOT NULL DEFAULT 0,
                newsletter INTEGER,
                newsletter_at INTEGER,
                tags TEXT NOT NULL DEFAULT '',
                \(stampedColumns(ProfileField.self)),
                bookings_count INTEGER NOT NULL DEFAULT 0,
                orders INTEGER NOT NULL DEFAULT 0,
                completed_stays INTEGER NOT NULL DEFAULT 0,
                no_shows INTEGER NOT NULL DEFAULT 0,
                first_order_at INTEGER,
                last_order_at INTEGER
            );
            CREATE INDEX customers_merged_into ON customers(merged_into) WHERE merged_into IS NOT NULL;
            -- Every number a customer answers to: its own, assigned P- numbers kept as aliases.
            -- A merged-away record's numbers still point at it; lookups follow merged_into.
            CREATE TABLE customer_numbers (
                number TEXT PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id)
            ) WITHOUT ROWID;
            CREATE INDEX customer_numbers_owner ON customer_numbers(customer_id);
            CREATE TABLE customer_identifiers (
                kind TEXT NOT NULL,
                key TEXT NOT NULL,
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                -- As first written: the display form of the earliest event that carried it.
                display TEXT NOT NULL,
                first_seen_at INTEGER NOT NULL,
                matchable INTEGER NOT NULL,
                PRIMARY KEY (kind, key, customer_id)
            ) WITHOUT ROWID;
            CREATE INDEX customer_identifiers_owner ON customer_identifiers(customer_id);
            CREATE TABLE customer_spend (
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                currency TEXT NOT NULL,
                total_minor INTEGER NOT NULL,
                orders INTEGER NOT NULL,
                PRIMARY KEY (customer_id, currency)
            ) WITHOUT ROWID;
            CREATE TABLE consent_statements (
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                opted_in INTEGER NOT NULL,
                occurred_at INTEGER NOT NULL,
                source TEXT,
                event_id TEXT NOT NULL
            );
            CREATE INDEX consent_statements_customer ON consent_statements(customer_id);
            CREATE TABLE customer_notes (
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id),
                text TEXT NOT NULL,
                author TEXT,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX customer_notes_customer ON customer_notes(customer_id);
            CREATE TABLE bookings (
                ref TEXT PRIMARY KEY,
                customer_id INTEGER REFERENCES customers(id),
                status TEXT,
                status_at INTEGER,
                first_seen_at INTEGER NOT NULL,
                amount_minor INTEGER,
                currency TEXT,
                amount_at INTEGER,
                \(stampedColumns(BookingField.self))
            ) WITHOUT ROWID;
            CREATE INDEX bookings_customer ON bookings(customer_id);
            CREATE TABLE payments (
                reference TEXT PRIMARY KEY,
                customer_id INTEGER REFERENCES customers(id),
                booking_ref TEXT,
                amount_minor INTEGER NOT NULL,
                currency TEXT NOT NULL,
                method TEXT,
                status TEXT,
                occurred_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX payments_customer ON payments(customer_id);
            CREATE INDEX payments_booking ON payments(booking_ref);
            CREATE TABLE carts (
                id TEXT PRIMARY KEY,
                customer_id INTEGER REFERENCES customers(id),
                status TEXT,
                items TEXT,
                total_minor INTEGER,
                currency TEXT,
                updated_at INTEGER NOT NULL,
                first_seen_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX carts_customer ON carts(customer_id);
            CREATE TABLE threads (
                thread_id TEXT PRIMARY KEY,
                customer_id INTEGER REFERENCES customers(id),
                contact TEXT,
                subject TEXT,
                booking_ref TEXT,
                is_open INTEGER NOT NULL,
                opened_at INTEGER NOT NULL,
                first_response_at INTEGER
            ) WITHOUT ROWID;
            CREATE INDEX threads_customer ON threads(customer_id);
            -- Replies may arrive before their thread: messages join threads by thread_id.
            CREATE TABLE thread_messages (
                event_id TEXT PRIMARY KEY,
                thread_id TEXT NOT NULL,
                direction TEXT NOT NULL,
                author TEXT,
                subject TEXT,
                body TEXT,
                booking_ref TEXT,
                occurred_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX thread_messages_thread ON thread_messages(thread_id, occurred_at);
            CREATE TABLE record_issues (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                customer_ids TEXT NOT NULL,
                event_id TEXT,
                detail TEXT NOT NULL
            );
            CREATE TABLE merges (
                id INTEGER PRIMARY KEY,
                survivor_id INTEGER NOT NULL,
                loser_id INTEGER NOT NULL,
                automatic INTEGER NOT NULL,
                event_id TEXT,
                merged_at INTEGER NOT NULL,
                entry BLOB NOT NULL,
                unmerged INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX merges_loser ON merges(loser_id);
            CREATE TABLE merge_blocks (
                first_id INTEGER NOT NULL,
                second_id INTEGER NOT NULL,
                PRIMARY KEY (first_id, second_id)
            ) WITHOUT ROWID;
            -- Keyed hashes (HMAC-SHA256) of erased identities, never the identities themselves.
            CREATE TABLE erased_identities (
                hash TEXT NOT NULL,
                erased_at INTEGER NOT NULL,
                PRIMARY KEY (hash, erased_at)
            ) WITHOUT ROWID;
            CREATE TABLE erasure_log (
                id INTEGER PRIMARY KEY,
                erased_at INTEGER NOT NULL,
                customer_no TEXT,
                source TEXT,
                event_id TEXT
            );
            -- Notifications committed with the effects that caused them; the relay publishes and
            -- deletes them (at least once; message_id lets consumers drop repeats).
            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                message_id TEXT NOT NULL UNIQUE,
                routing_key TEXT NOT NULL,
                body BLOB NOT NULL
            );
            ALTER TABLE event_journal ADD COLUMN customer_id INTEGER;
            CREATE INDEX event_journal_customer ON event_journal(customer_id) WHERE customer_id IS NOT NULL;
            ALTER TABLE ingest_state ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE ingest_state ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
            """)
    }
}
