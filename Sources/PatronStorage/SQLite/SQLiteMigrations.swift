/// SQLite's schema history: every migration as the literal SQL it ran when it first shipped,
/// in order. Nothing here is built from live code, so a migration cannot change after it
/// shipped by a change elsewhere (v17 did: its trigger was built from a helper that a later
/// commit rewrote, so files made after that got another v17; v27 gives every file the same
/// trigger). `SchemaHistoryTests` fingerprints the schema after each migration and compares a
/// file upgraded from each version with a fresh one.
///
/// A shipped migration is never edited: add one at the end.
enum SQLiteMigrations {
    static let all: [(identifier: String, sql: String)] = [
        ("v1-event-journal", v1EventJournal),
        ("v2-customer-records", v2CustomerRecords),
        ("v3-command-audit", v3CommandAudit),
        ("v4-customer-catalog", v4CustomerCatalog),
        ("v5-customer-search-text", v5CustomerSearchText),
        ("v6-stats-indexes", v6StatsIndexes),
        ("v7-consent-purpose", v7ConsentPurpose),
        ("v8-search-indexes", v8SearchIndexes),
        ("v9-search-order", v9SearchOrder),
        ("v10-search-words", v10SearchWords),
        ("v11-live-search", v11LiveSearch),
        ("v12-name-words", v12NameWords),
        ("v13-export-log", v13ExportLog),
        ("v14-schedules", v14Schedules),
        ("v15-dispatch", v15Dispatch),
        ("v16-narrow-search-lookups", v16NarrowSearchLookups),
        ("v17-live-booking-owners", v17LiveBookingOwners),
        ("v18-last-order-order", v18LastOrderOrder),
        ("v19-live-spend-owners", v19LiveSpendOwners),
        ("v20-spend-order", v20SpendOrder),
        ("v21-new-customer-search", v21NewCustomerSearch),
        ("v22-search-updates-by-field", v22SearchUpdatesByField),
        ("v23-customer-segments", v23CustomerSegments),
        ("v24-customer-segments-by-city", v24CustomerSegmentsByCity),
        ("v25-search-words-queue", v25SearchWordsQueue),
        ("v26-dispatch-sends", v26DispatchSends),
        ("v27-booking-owner-trigger-by-key", v27BookingOwnerTriggerByKey),
        ("v28-search-changes", v28SearchChanges),
        ("v29-drop-search-only-indexes", v29DropSearchOnlyIndexes),
    ]

    private static let v1EventJournal = #"""
        CREATE TABLE event_journal (
            seq INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            source TEXT,
            routing_key TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE TABLE ingest_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            recorded INTEGER NOT NULL,
            duplicates INTEGER NOT NULL,
            last_received_at INTEGER,
            last_occurred_at INTEGER
        );
        INSERT INTO ingest_state (id, recorded, duplicates) VALUES (1, 0, 0);
        """#

    private static let v2CustomerRecords = #"""
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
            title TEXT, title_at INTEGER,
            first_name TEXT, first_name_at INTEGER,
            last_name TEXT, last_name_at INTEGER,
            company TEXT, company_at INTEGER,
            email TEXT, email_at INTEGER,
            phone TEXT, phone_at INTEGER,
            mobile TEXT, mobile_at INTEGER,
            fax TEXT, fax_at INTEGER,
            ev_phone TEXT, ev_phone_at INTEGER,
            contact TEXT, contact_at INTEGER,
            address_line1 TEXT, address_line1_at INTEGER,
            address_line2 TEXT, address_line2_at INTEGER,
            zip TEXT, zip_at INTEGER,
            city TEXT, city_at INTEGER,
            state TEXT, state_at INTEGER,
            country TEXT, country_at INTEGER,
            language TEXT, language_at INTEGER,
            birthday TEXT, birthday_at INTEGER,
            account TEXT, account_at INTEGER,
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
            hotel TEXT, hotel_at INTEGER,
            room_type TEXT, room_type_at INTEGER,
            arrival TEXT, arrival_at INTEGER,
            departure TEXT, departure_at INTEGER,
            guests TEXT, guests_at INTEGER,
            transport TEXT, transport_at INTEGER,
            salesperson TEXT, salesperson_at INTEGER,
            channel TEXT, channel_at INTEGER
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
        """#

    private static let v3CommandAudit = #"""
        CREATE TABLE command_audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            user TEXT,
            command TEXT,
            outcome TEXT NOT NULL
        );
        CREATE INDEX command_audit_at ON command_audit(at);
        """#

    private static let v4CustomerCatalog = #"""
        CREATE TABLE customer_groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            discount_bp INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        ALTER TABLE customers ADD COLUMN custom_group_id INTEGER REFERENCES customer_groups(id);
        CREATE INDEX customers_custom_group ON customers(custom_group_id) WHERE custom_group_id IS NOT NULL;
        CREATE INDEX customers_auto_group ON customers(auto_group) WHERE merged_into IS NULL;
        -- Departments that customer-service threads go to.
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            email TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX threads_open_contact ON threads(is_open, contact, opened_at);
        CREATE INDEX carts_status_updated ON carts(status, updated_at);
        CREATE INDEX carts_visitor_updated ON carts(updated_at) WHERE customer_id IS NULL;
        """#

    private static let v5CustomerSearchText = #"""
        CREATE TABLE customer_search (
            customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
            name TEXT NOT NULL DEFAULT '',
            first_name TEXT NOT NULL DEFAULT '',
            last_name TEXT NOT NULL DEFAULT '',
            company TEXT NOT NULL DEFAULT '',
            contact TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            city TEXT NOT NULL DEFAULT '',
            zip TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT ''
        );
        -- A customer gets its row when a searched field is first set (a new customer's row
        -- has none yet), and it changes only when one of them does.
        CREATE TRIGGER customer_search_update AFTER UPDATE ON customers WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.address_line1 IS NOT new.address_line1 OR old.address_line2 IS NOT new.address_line2 OR old.city IS NOT new.city OR old.zip IS NOT new.zip OR old.tags IS NOT new.tags BEGIN
            INSERT INTO customer_search (customer_id, name, first_name, last_name, company, contact, address, city, zip, tags) VALUES (new.id, coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), coalesce(patron_fold(new.first_name), ''), coalesce(patron_fold(new.last_name), ''), coalesce(patron_fold(new.company), ''), coalesce(patron_fold(new.contact), ''), coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), coalesce(patron_fold(new.city), ''), coalesce(patron_fold(new.zip), ''), coalesce(patron_fold(char(31) || new.tags || char(31)), ''))
            ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company, contact = excluded.contact, address = excluded.address, city = excluded.city, zip = excluded.zip, tags = excluded.tags;
        END;
        INSERT INTO customer_search (customer_id, name, first_name, last_name, company, contact, address, city, zip, tags)
        SELECT new.id, coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), coalesce(patron_fold(new.first_name), ''), coalesce(patron_fold(new.last_name), ''), coalesce(patron_fold(new.company), ''), coalesce(patron_fold(new.contact), ''), coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), coalesce(patron_fold(new.city), ''), coalesce(patron_fold(new.zip), ''), coalesce(patron_fold(char(31) || new.tags || char(31)), '') FROM customers AS new;
        """#

    private static let v6StatsIndexes = #"""
        CREATE INDEX bookings_status_seen ON bookings(status, first_seen_at);
        CREATE INDEX customers_first_contact ON customers(first_contact_at) WHERE merged_into IS NULL;
        CREATE INDEX payments_occurred ON payments(occurred_at);
        CREATE INDEX threads_opened ON threads(opened_at);
        CREATE INDEX carts_updated ON carts(updated_at);
        CREATE INDEX customer_spend_currency ON customer_spend(currency, total_minor);
        """#

    private static let v7ConsentPurpose = #"""
        ALTER TABLE consent_statements ADD COLUMN purpose TEXT NOT NULL DEFAULT 'newsletter';
        """#

    private static let v8SearchIndexes = #"""
        CREATE INDEX customer_search_city ON customer_search(city);
        CREATE INDEX customer_search_zip ON customer_search(zip);
        CREATE INDEX customers_country ON customers(country);
        CREATE INDEX customers_language ON customers(language COLLATE NOCASE);
        CREATE INDEX customers_newsletter ON customers(newsletter);
        CREATE INDEX customers_orders ON customers(orders);
        CREATE INDEX customers_last_order ON customers(last_order_at);
        CREATE INDEX bookings_departure ON bookings(departure);
        CREATE INDEX bookings_hotel_folded ON bookings(patron_fold(hotel), departure);
        CREATE INDEX bookings_salesperson_folded ON bookings(patron_fold(salesperson), departure);
        CREATE INDEX bookings_transport_folded ON bookings(patron_fold(transport), departure);
        ANALYZE;
        """#

    private static let v9SearchOrder = #"""
        ALTER TABLE customer_search ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';
        UPDATE customer_search SET sort_name = coalesce(nullif(last_name, ''), first_name) || char(1) || first_name;
        INSERT INTO customer_search (customer_id, sort_name) SELECT id, char(1) FROM customers
            WHERE id NOT IN (SELECT customer_id FROM customer_search);
        CREATE INDEX customer_search_sort_name ON customer_search(sort_name, customer_id);
        DROP TRIGGER customer_search_update;
        CREATE TRIGGER customer_search_update AFTER UPDATE ON customers WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.address_line1 IS NOT new.address_line1 OR old.address_line2 IS NOT new.address_line2 OR old.city IS NOT new.city OR old.zip IS NOT new.zip OR old.tags IS NOT new.tags BEGIN
            INSERT INTO customer_search (customer_id, name, first_name, last_name, company, contact, address, city, zip, tags, sort_name) VALUES (new.id, coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), coalesce(patron_fold(new.first_name), ''), coalesce(patron_fold(new.last_name), ''), coalesce(patron_fold(new.company), ''), coalesce(patron_fold(new.contact), ''), coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), coalesce(patron_fold(new.city), ''), coalesce(patron_fold(new.zip), ''), coalesce(patron_fold(char(31) || new.tags || char(31)), ''), coalesce(nullif(patron_fold(new.last_name), ''), patron_fold(new.first_name), '') || char(1) || coalesce(patron_fold(new.first_name), ''))
            ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company, contact = excluded.contact, address = excluded.address, city = excluded.city, zip = excluded.zip, tags = excluded.tags, sort_name = excluded.sort_name;
        END;
        -- Counting a filter's matches reads only its index when the index holds live customers only.
        DROP INDEX customers_country;
        DROP INDEX customers_language;
        DROP INDEX customers_newsletter;
        DROP INDEX customers_orders;
        DROP INDEX customers_last_order;
        DROP INDEX customers_first_contact;
        DROP INDEX customers_auto_group;
        CREATE INDEX customers_country ON customers(country) WHERE merged_into IS NULL AND erased_at IS NULL;
        CREATE INDEX customers_language ON customers(language COLLATE NOCASE) WHERE merged_into IS NULL AND erased_at IS NULL;
        CREATE INDEX customers_newsletter ON customers(newsletter) WHERE merged_into IS NULL AND erased_at IS NULL;
        CREATE INDEX customers_orders ON customers(orders) WHERE merged_into IS NULL AND erased_at IS NULL;
        CREATE INDEX customers_last_order ON customers(last_order_at) WHERE merged_into IS NULL AND erased_at IS NULL;
        CREATE INDEX customers_first_contact ON customers(first_contact_at) WHERE merged_into IS NULL AND erased_at IS NULL;
        CREATE INDEX customers_auto_group ON customers(auto_group) WHERE merged_into IS NULL AND erased_at IS NULL;
        ANALYZE;
        """#

    private static let v10SearchWords = #"""
        CREATE VIRTUAL TABLE customer_words USING fts5(name, company, contact, address, tags, content='', columnsize=0, tokenize='trigram case_sensitive 1');
        INSERT INTO customer_words (rowid, name, company, contact, address, tags) SELECT customer_id, ' ' || new.name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags FROM customer_search AS new;
        CREATE TRIGGER customer_words_insert AFTER INSERT ON customer_search BEGIN
            INSERT INTO customer_words (rowid, name, company, contact, address, tags) VALUES (new.customer_id, ' ' || new.name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags);
        END;
        CREATE TRIGGER customer_words_update AFTER UPDATE ON customer_search WHEN old.name IS NOT new.name OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.address IS NOT new.address OR old.tags IS NOT new.tags BEGIN
            INSERT INTO customer_words (customer_words, rowid, name, company, contact, address, tags) VALUES ('delete', old.customer_id, ' ' || old.name, ' ' || old.company, ' ' || old.contact, ' ' || old.address, ' ' || old.tags);
            INSERT INTO customer_words (rowid, name, company, contact, address, tags) VALUES (new.customer_id, ' ' || new.name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags);
        END;
        INSERT INTO customer_words (customer_words) VALUES ('optimize');
        """#

    private static let v11LiveSearch = #"""
        CREATE TRIGGER customer_words_delete AFTER DELETE ON customer_search BEGIN
            INSERT INTO customer_words (customer_words, rowid, name, company, contact, address, tags) VALUES ('delete', old.customer_id, ' ' || old.name, ' ' || old.company, ' ' || old.contact, ' ' || old.address, ' ' || old.tags);
        END;
        DROP TRIGGER customer_search_update;
        CREATE TRIGGER customer_search_update AFTER UPDATE ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.address_line1 IS NOT new.address_line1 OR old.address_line2 IS NOT new.address_line2 OR old.city IS NOT new.city OR old.zip IS NOT new.zip OR old.tags IS NOT new.tags OR old.merged_into IS NOT NULL OR old.erased_at IS NOT NULL) BEGIN
            INSERT INTO customer_search (customer_id, name, first_name, last_name, company, contact, address, city, zip, tags, sort_name) VALUES (new.id, coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), coalesce(patron_fold(new.first_name), ''), coalesce(patron_fold(new.last_name), ''), coalesce(patron_fold(new.company), ''), coalesce(patron_fold(new.contact), ''), coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), coalesce(patron_fold(new.city), ''), coalesce(patron_fold(new.zip), ''), coalesce(patron_fold(char(31) || new.tags || char(31)), ''), coalesce(nullif(patron_fold(new.last_name), ''), patron_fold(new.first_name), '') || char(1) || coalesce(patron_fold(new.first_name), ''))
            ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company, contact = excluded.contact, address = excluded.address, city = excluded.city, zip = excluded.zip, tags = excluded.tags, sort_name = excluded.sort_name;
        END;
        CREATE TRIGGER customer_search_retire AFTER UPDATE OF merged_into, erased_at ON customers
            WHEN new.merged_into IS NOT NULL OR new.erased_at IS NOT NULL BEGIN
            DELETE FROM customer_search WHERE customer_id = new.id;
        END;
        DELETE FROM customer_search WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NOT NULL OR erased_at IS NOT NULL);
        DROP INDEX bookings_departure;
        DROP INDEX bookings_hotel_folded;
        DROP INDEX bookings_salesperson_folded;
        DROP INDEX bookings_transport_folded;
        CREATE INDEX bookings_departure ON bookings(departure, customer_id);
        CREATE INDEX bookings_hotel_folded ON bookings(patron_fold(hotel), departure, customer_id);
        CREATE INDEX bookings_salesperson_folded ON bookings(patron_fold(salesperson), departure, customer_id);
        CREATE INDEX bookings_transport_folded ON bookings(patron_fold(transport), departure, customer_id);
        ANALYZE;
        INSERT INTO customer_words (customer_words) VALUES ('optimize');
        """#

    private static let v12NameWords = #"""
        DROP TRIGGER customer_words_insert;
        DROP TRIGGER customer_words_update;
        DROP TRIGGER customer_words_delete;
        DROP TABLE customer_words;
        CREATE VIRTUAL TABLE customer_words USING fts5(first_name, last_name, company, contact, address, tags, content='', columnsize=0, tokenize='trigram case_sensitive 1');
        INSERT INTO customer_words (rowid, first_name, last_name, company, contact, address, tags) SELECT customer_id, ' ' || new.first_name, ' ' || new.last_name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags FROM customer_search AS new;
        CREATE TRIGGER customer_words_insert AFTER INSERT ON customer_search BEGIN
            INSERT INTO customer_words (rowid, first_name, last_name, company, contact, address, tags) VALUES (new.customer_id, ' ' || new.first_name, ' ' || new.last_name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags);
        END;
        CREATE TRIGGER customer_words_update AFTER UPDATE ON customer_search WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.address IS NOT new.address OR old.tags IS NOT new.tags BEGIN
            INSERT INTO customer_words (customer_words, rowid, first_name, last_name, company, contact, address, tags) VALUES ('delete', old.customer_id, ' ' || old.first_name, ' ' || old.last_name, ' ' || old.company, ' ' || old.contact, ' ' || old.address, ' ' || old.tags);
            INSERT INTO customer_words (rowid, first_name, last_name, company, contact, address, tags) VALUES (new.customer_id, ' ' || new.first_name, ' ' || new.last_name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags);
        END;
        INSERT INTO customer_words (customer_words) VALUES ('optimize');
        CREATE TRIGGER customer_words_delete AFTER DELETE ON customer_search BEGIN
            INSERT INTO customer_words (customer_words, rowid, first_name, last_name, company, contact, address, tags)
            VALUES ('delete', old.customer_id, ' ' || old.first_name, ' ' || old.last_name, ' ' || old.company, ' ' || old.contact, ' ' || old.address, ' ' || old.tags);
        END;
        """#

    private static let v13ExportLog = #"""
        CREATE TABLE export_log (
            id TEXT PRIMARY KEY,
            requested_by TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            completed_at INTEGER NOT NULL,
            format TEXT NOT NULL,
            filter TEXT NOT NULL,
            fields TEXT NOT NULL,
            rows INTEGER NOT NULL,
            file TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            removed_at INTEGER
        );
        CREATE INDEX export_log_completed ON export_log(completed_at);
        """#

    private static let v14Schedules = #"""
        CREATE TABLE schedules (
            name TEXT PRIMARY KEY,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            action TEXT NOT NULL,
            arguments TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            next_run INTEGER,
            last_run INTEGER,
            last_result TEXT,
            running_since INTEGER
        );
        CREATE INDEX schedules_next_run ON schedules(next_run);
        """#

    private static let v15Dispatch = #"""
        CREATE TABLE dispatch_outbox (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            customer_id INTEGER,
            template TEXT NOT NULL,
            purpose TEXT NOT NULL,
            trigger TEXT NOT NULL,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            not_before INTEGER NOT NULL,
            published_at INTEGER
        );
        CREATE INDEX dispatch_outbox_pending ON dispatch_outbox(channel, id) WHERE published_at IS NULL;
        CREATE INDEX dispatch_outbox_customer ON dispatch_outbox(customer_id) WHERE published_at IS NULL;
        CREATE TABLE dispatch_timers (
            key TEXT PRIMARY KEY,
            rule TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            subject_date TEXT,
            reply_event_id TEXT,
            due_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX dispatch_timers_due ON dispatch_timers(due_at);
        """#

    private static let v16NarrowSearchLookups = #"""
        CREATE INDEX customer_search_id_sort ON customer_search(customer_id, sort_name);
        DROP INDEX bookings_hotel_folded;
        ALTER TABLE bookings ADD COLUMN hotel_key TEXT;
        DROP INDEX bookings_salesperson_folded;
        ALTER TABLE bookings ADD COLUMN salesperson_key TEXT;
        DROP INDEX bookings_transport_folded;
        ALTER TABLE bookings ADD COLUMN transport_key TEXT;
        UPDATE bookings SET hotel_key = patron_fold(hotel), salesperson_key = patron_fold(salesperson), transport_key = patron_fold(transport);
        CREATE INDEX bookings_hotel_key ON bookings(hotel_key, departure, customer_id);
        CREATE INDEX bookings_salesperson_key ON bookings(salesperson_key, departure, customer_id);
        CREATE INDEX bookings_transport_key ON bookings(transport_key, departure, customer_id);
        -- The upsert folds them as it writes; an UPDATE of the fields (none in Patron's code
        -- today, but a repair by hand) must not leave them stale.
        CREATE TRIGGER bookings_folded_keys AFTER UPDATE OF hotel, salesperson, transport ON bookings BEGIN
            UPDATE bookings SET hotel_key = patron_fold(new.hotel), salesperson_key = patron_fold(new.salesperson), transport_key = patron_fold(new.transport) WHERE ref = new.ref;
        END;
        ANALYZE customer_search;
        ANALYZE bookings;
        """#

    private static let v17LiveBookingOwners = #"""
        DROP INDEX bookings_hotel_key;
        DROP INDEX bookings_salesperson_key;
        DROP INDEX bookings_transport_key;
        ALTER TABLE bookings ADD COLUMN live_customer_id INTEGER;
        UPDATE bookings SET live_customer_id = customer_id
            WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NULL AND erased_at IS NULL);
        CREATE TRIGGER customers_live_bookings AFTER UPDATE OF merged_into, erased_at ON customers BEGIN
            UPDATE bookings SET live_customer_id = CASE WHEN new.merged_into IS NULL AND new.erased_at IS NULL THEN new.id END
            WHERE customer_id = new.id;
        END;
        CREATE INDEX bookings_departure_live ON bookings(departure, live_customer_id) WHERE live_customer_id IS NOT NULL;
        CREATE INDEX bookings_hotel_key ON bookings(hotel_key, departure, live_customer_id) WHERE live_customer_id IS NOT NULL;
        CREATE INDEX bookings_salesperson_key ON bookings(salesperson_key, departure, live_customer_id) WHERE live_customer_id IS NOT NULL;
        CREATE INDEX bookings_transport_key ON bookings(transport_key, departure, live_customer_id) WHERE live_customer_id IS NOT NULL;
        CREATE INDEX bookings_hotel_owners ON bookings(hotel_key, live_customer_id) WHERE live_customer_id IS NOT NULL;
        CREATE INDEX bookings_salesperson_owners ON bookings(salesperson_key, live_customer_id) WHERE live_customer_id IS NOT NULL;
        -- Merges and unmerges move bookings with an UPDATE of customer_id.
        CREATE TRIGGER bookings_live_owner AFTER UPDATE OF customer_id ON bookings BEGIN
            UPDATE bookings SET live_customer_id = (SELECT id FROM customers WHERE id = new.customer_id AND merged_into IS NULL AND erased_at IS NULL) WHERE ref = new.ref;
        END;
        ANALYZE bookings;
        """#

    private static let v18LastOrderOrder = #"""
        DROP INDEX customers_last_order;
        CREATE INDEX customers_last_order ON customers(coalesce(-last_order_at, 9223372036854775807)) WHERE merged_into IS NULL AND erased_at IS NULL;
        """#

    private static let v19LiveSpendOwners = #"""
        ALTER TABLE customer_spend ADD COLUMN live_customer_id INTEGER;
        UPDATE customer_spend SET live_customer_id = customer_id
            WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NULL AND erased_at IS NULL);
        CREATE TRIGGER customers_live_spend AFTER UPDATE OF merged_into, erased_at ON customers BEGIN
            UPDATE customer_spend SET live_customer_id = CASE WHEN new.merged_into IS NULL AND new.erased_at IS NULL THEN new.id END
            WHERE customer_id = new.id;
        END;
        CREATE INDEX customer_spend_live ON customer_spend(currency, total_minor, live_customer_id) WHERE live_customer_id IS NOT NULL;
        ANALYZE customer_spend;
        """#

    private static let v20SpendOrder = #"""
        CREATE INDEX customer_spend_order ON customer_spend(currency, -total_minor, live_customer_id)
            WHERE live_customer_id IS NOT NULL AND total_minor > 0;
        """#

    private static let v21NewCustomerSearch = #"""
        CREATE TRIGGER customer_search_insert AFTER INSERT ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL BEGIN
            INSERT INTO customer_search (customer_id, name, first_name, last_name, company, contact, address, city, zip, tags, sort_name) VALUES (new.id, coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), coalesce(patron_fold(new.first_name), ''), coalesce(patron_fold(new.last_name), ''), coalesce(patron_fold(new.company), ''), coalesce(patron_fold(new.contact), ''), coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), coalesce(patron_fold(new.city), ''), coalesce(patron_fold(new.zip), ''), coalesce(patron_fold(char(31) || new.tags || char(31)), ''), coalesce(nullif(patron_fold(new.last_name), ''), patron_fold(new.first_name), '') || char(1) || coalesce(patron_fold(new.first_name), ''));
        END;
        """#

    private static let v22SearchUpdatesByField = #"""
        DROP TRIGGER customer_search_update;
        CREATE TRIGGER customer_search_revive AFTER UPDATE OF merged_into, erased_at ON customers
            WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.merged_into IS NOT NULL OR old.erased_at IS NOT NULL) BEGIN
            INSERT INTO customer_search (customer_id, name, first_name, last_name, company, contact, address, city, zip, tags, sort_name) VALUES (new.id, coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), coalesce(patron_fold(new.first_name), ''), coalesce(patron_fold(new.last_name), ''), coalesce(patron_fold(new.company), ''), coalesce(patron_fold(new.contact), ''), coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), coalesce(patron_fold(new.city), ''), coalesce(patron_fold(new.zip), ''), coalesce(patron_fold(char(31) || new.tags || char(31)), ''), coalesce(nullif(patron_fold(new.last_name), ''), patron_fold(new.first_name), '') || char(1) || coalesce(patron_fold(new.first_name), ''))
            ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company, contact = excluded.contact, address = excluded.address, city = excluded.city, zip = excluded.zip, tags = excluded.tags, sort_name = excluded.sort_name;
        END;
        CREATE TRIGGER customer_search_names AFTER UPDATE OF first_name, last_name ON customers
            WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name) BEGIN
            UPDATE customer_search SET name = coalesce(patron_fold(coalesce(new.first_name, '') || ' ' || coalesce(new.last_name, '')), ''), first_name = coalesce(patron_fold(new.first_name), ''), last_name = coalesce(patron_fold(new.last_name), ''), sort_name = coalesce(nullif(patron_fold(new.last_name), ''), patron_fold(new.first_name), '') || char(1) || coalesce(patron_fold(new.first_name), '') WHERE customer_id = new.id;
        END;
        CREATE TRIGGER customer_search_texts AFTER UPDATE OF address_line1, address_line2, company, contact, tags ON customers
            WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.address_line1 IS NOT new.address_line1 OR old.address_line2 IS NOT new.address_line2 OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.tags IS NOT new.tags) BEGIN
            UPDATE customer_search SET company = coalesce(patron_fold(new.company), ''), contact = coalesce(patron_fold(new.contact), ''), address = coalesce(patron_fold(coalesce(new.address_line1, '') || ' ' || coalesce(new.address_line2, '')), ''), tags = coalesce(patron_fold(char(31) || new.tags || char(31)), '') WHERE customer_id = new.id;
        END;
        CREATE TRIGGER customer_search_city AFTER UPDATE OF city ON customers
            WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.city IS NOT new.city) BEGIN
            UPDATE customer_search SET city = coalesce(patron_fold(new.city), '') WHERE customer_id = new.id;
        END;
        CREATE TRIGGER customer_search_zip AFTER UPDATE OF zip ON customers
            WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.zip IS NOT new.zip) BEGIN
            UPDATE customer_search SET zip = coalesce(patron_fold(new.zip), '') WHERE customer_id = new.id;
        END;
        """#

    private static let v23CustomerSegments = #"""
        CREATE TABLE customer_segments (
            country TEXT NOT NULL, language TEXT COLLATE NOCASE NOT NULL, auto_group INTEGER NOT NULL, newsletter INTEGER NOT NULL, custom_group_id INTEGER NOT NULL, customers INTEGER NOT NULL,
            PRIMARY KEY (country, language, auto_group, newsletter, custom_group_id)
        ) WITHOUT ROWID;
        INSERT INTO customer_segments (country, language, auto_group, newsletter, custom_group_id, customers)
            SELECT coalesce(c.country, ''), coalesce(c.language, ''), c.auto_group, coalesce(c.newsletter, -1), coalesce(c.custom_group_id, 0), count(*) FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL GROUP BY coalesce(c.country, ''), coalesce(c.language, ''), c.auto_group, coalesce(c.newsletter, -1), coalesce(c.custom_group_id, 0)
            -- Languages that differ only in case are one segment, as the filter compares them.
            ON CONFLICT (country, language, auto_group, newsletter, custom_group_id) DO UPDATE SET customers = customers + excluded.customers;
        CREATE TRIGGER customer_segments_insert AFTER INSERT ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL BEGIN
            INSERT INTO customer_segments (country, language, auto_group, newsletter, custom_group_id, customers) VALUES (coalesce(new.country, ''), coalesce(new.language, ''), new.auto_group, coalesce(new.newsletter, -1), coalesce(new.custom_group_id, 0), 1) ON CONFLICT (country, language, auto_group, newsletter, custom_group_id) DO UPDATE SET customers = customers + 1;
        END;
        CREATE TRIGGER customer_segments_leave AFTER UPDATE ON customers WHEN old.merged_into IS NULL AND old.erased_at IS NULL AND (old.country IS NOT new.country OR old.language IS NOT new.language OR old.auto_group IS NOT new.auto_group OR old.newsletter IS NOT new.newsletter OR old.custom_group_id IS NOT new.custom_group_id OR old.merged_into IS NOT new.merged_into OR old.erased_at IS NOT new.erased_at) BEGIN
            UPDATE customer_segments SET customers = customers - 1 WHERE country = coalesce(old.country, '') AND language = coalesce(old.language, '') AND auto_group = old.auto_group AND newsletter = coalesce(old.newsletter, -1) AND custom_group_id = coalesce(old.custom_group_id, 0);
        END;
        CREATE TRIGGER customer_segments_enter AFTER UPDATE ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.country IS NOT new.country OR old.language IS NOT new.language OR old.auto_group IS NOT new.auto_group OR old.newsletter IS NOT new.newsletter OR old.custom_group_id IS NOT new.custom_group_id OR old.merged_into IS NOT new.merged_into OR old.erased_at IS NOT new.erased_at) BEGIN
            INSERT INTO customer_segments (country, language, auto_group, newsletter, custom_group_id, customers) VALUES (coalesce(new.country, ''), coalesce(new.language, ''), new.auto_group, coalesce(new.newsletter, -1), coalesce(new.custom_group_id, 0), 1) ON CONFLICT (country, language, auto_group, newsletter, custom_group_id) DO UPDATE SET customers = customers + 1;
        END;
        """#

    private static let v24CustomerSegmentsByCity = #"""
        DROP TRIGGER customer_segments_insert;
        DROP TRIGGER customer_segments_leave;
        DROP TRIGGER customer_segments_enter;
        DROP TABLE customer_segments;
        CREATE TABLE customer_segments (
            country TEXT NOT NULL, language TEXT COLLATE NOCASE NOT NULL, auto_group INTEGER NOT NULL, newsletter INTEGER NOT NULL, custom_group_id INTEGER NOT NULL, city TEXT NOT NULL, customers INTEGER NOT NULL,
            PRIMARY KEY (country, language, auto_group, newsletter, custom_group_id, city)
        ) WITHOUT ROWID;
        INSERT INTO customer_segments (country, language, auto_group, newsletter, custom_group_id, city, customers)
            SELECT coalesce(c.country, ''), coalesce(c.language, ''), c.auto_group, coalesce(c.newsletter, -1), coalesce(c.custom_group_id, 0), coalesce(patron_fold(c.city), ''), count(*) FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL GROUP BY coalesce(c.country, ''), coalesce(c.language, ''), c.auto_group, coalesce(c.newsletter, -1), coalesce(c.custom_group_id, 0), coalesce(patron_fold(c.city), '')
            -- Languages that differ only in case are one segment, as the filter compares them.
            ON CONFLICT (country, language, auto_group, newsletter, custom_group_id, city) DO UPDATE SET customers = customers + excluded.customers;
        CREATE TRIGGER customer_segments_insert AFTER INSERT ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL BEGIN
            INSERT INTO customer_segments (country, language, auto_group, newsletter, custom_group_id, city, customers) VALUES (coalesce(new.country, ''), coalesce(new.language, ''), new.auto_group, coalesce(new.newsletter, -1), coalesce(new.custom_group_id, 0), coalesce(patron_fold(new.city), ''), 1) ON CONFLICT (country, language, auto_group, newsletter, custom_group_id, city) DO UPDATE SET customers = customers + 1;
        END;
        CREATE TRIGGER customer_segments_leave AFTER UPDATE ON customers WHEN old.merged_into IS NULL AND old.erased_at IS NULL AND (old.country IS NOT new.country OR old.language IS NOT new.language OR old.auto_group IS NOT new.auto_group OR old.newsletter IS NOT new.newsletter OR old.custom_group_id IS NOT new.custom_group_id OR old.city IS NOT new.city OR old.merged_into IS NOT new.merged_into OR old.erased_at IS NOT new.erased_at) BEGIN
            UPDATE customer_segments SET customers = customers - 1 WHERE country = coalesce(old.country, '') AND language = coalesce(old.language, '') AND auto_group = old.auto_group AND newsletter = coalesce(old.newsletter, -1) AND custom_group_id = coalesce(old.custom_group_id, 0) AND city = coalesce(patron_fold(old.city), '');
        END;
        CREATE TRIGGER customer_segments_enter AFTER UPDATE ON customers WHEN new.merged_into IS NULL AND new.erased_at IS NULL AND (old.country IS NOT new.country OR old.language IS NOT new.language OR old.auto_group IS NOT new.auto_group OR old.newsletter IS NOT new.newsletter OR old.custom_group_id IS NOT new.custom_group_id OR old.city IS NOT new.city OR old.merged_into IS NOT new.merged_into OR old.erased_at IS NOT new.erased_at) BEGIN
            INSERT INTO customer_segments (country, language, auto_group, newsletter, custom_group_id, city, customers) VALUES (coalesce(new.country, ''), coalesce(new.language, ''), new.auto_group, coalesce(new.newsletter, -1), coalesce(new.custom_group_id, 0), coalesce(patron_fold(new.city), ''), 1) ON CONFLICT (country, language, auto_group, newsletter, custom_group_id, city) DO UPDATE SET customers = customers + 1;
        END;
        """#

    private static let v25SearchWordsQueue = #"""
        CREATE TABLE customer_words_pending (
            seq INTEGER PRIMARY KEY,
            command TEXT CHECK (command IS NULL OR command = 'delete'),
            customer_id INTEGER NOT NULL,
            first_name TEXT NOT NULL, last_name TEXT NOT NULL, company TEXT NOT NULL, contact TEXT NOT NULL, address TEXT NOT NULL, tags TEXT NOT NULL
        );
        DROP TRIGGER customer_words_insert;
        DROP TRIGGER customer_words_update;
        DROP TRIGGER customer_words_delete;
        CREATE TRIGGER customer_words_insert AFTER INSERT ON customer_search BEGIN
            INSERT INTO customer_words_pending (command, customer_id, first_name, last_name, company, contact, address, tags) VALUES (NULL, new.customer_id, ' ' || new.first_name, ' ' || new.last_name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags);
        END;
        CREATE TRIGGER customer_words_update AFTER UPDATE ON customer_search WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.company IS NOT new.company OR old.contact IS NOT new.contact OR old.address IS NOT new.address OR old.tags IS NOT new.tags BEGIN
            INSERT INTO customer_words_pending (command, customer_id, first_name, last_name, company, contact, address, tags) VALUES ('delete', old.customer_id, ' ' || old.first_name, ' ' || old.last_name, ' ' || old.company, ' ' || old.contact, ' ' || old.address, ' ' || old.tags);
            INSERT INTO customer_words_pending (command, customer_id, first_name, last_name, company, contact, address, tags) VALUES (NULL, new.customer_id, ' ' || new.first_name, ' ' || new.last_name, ' ' || new.company, ' ' || new.contact, ' ' || new.address, ' ' || new.tags);
        END;
        CREATE TRIGGER customer_words_delete AFTER DELETE ON customer_search BEGIN
            INSERT INTO customer_words_pending (command, customer_id, first_name, last_name, company, contact, address, tags) VALUES ('delete', old.customer_id, ' ' || old.first_name, ' ' || old.last_name, ' ' || old.company, ' ' || old.contact, ' ' || old.address, ' ' || old.tags);
        END;
        """#

    private static let v26DispatchSends = #"""
        CREATE TABLE dispatch_sends (
            idempotency_key TEXT PRIMARY KEY,
            request_digest TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            result TEXT NOT NULL,
            completed_at INTEGER NOT NULL
        );
        CREATE INDEX dispatch_outbox_sent ON dispatch_outbox(customer_id, template, channel, created_at);
        """#

    /// v17's trigger as files made since 2026-12-04 13:27 have it: liveness tested on the row the
    /// key finds (``LiveOwnerColumn/owner(of:)``), for every file.
    private static let v27BookingOwnerTriggerByKey = #"""
        DROP TRIGGER bookings_live_owner;
        CREATE TRIGGER bookings_live_owner AFTER UPDATE OF customer_id ON bookings BEGIN
            UPDATE bookings SET live_customer_id = (SELECT CASE WHEN merged_into IS NULL AND erased_at IS NULL THEN id END FROM customers WHERE id = new.customer_id) WHERE ref = new.ref;
        END;
        """#

    /// The customers whose searched fields changed, in commit order, for the search index to
    /// read again (``SQLiteSearchIndex``).
    private static let v28SearchChanges = #"""
        CREATE TABLE search_changes (
            seq INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL
        );
        CREATE TRIGGER search_changes_customer_insert AFTER INSERT ON customers BEGIN
            INSERT INTO search_changes (customer_id) VALUES (new.id);
        END;
        CREATE TRIGGER search_changes_customer_update AFTER UPDATE OF merged_into, erased_at, country, language, newsletter, auto_group, custom_group_id, first_contact_at, last_order_at, orders ON customers
            WHEN old.merged_into IS NOT new.merged_into OR old.erased_at IS NOT new.erased_at OR old.country IS NOT new.country OR old.language IS NOT new.language OR old.newsletter IS NOT new.newsletter OR old.auto_group IS NOT new.auto_group OR old.custom_group_id IS NOT new.custom_group_id OR old.first_contact_at IS NOT new.first_contact_at OR old.last_order_at IS NOT new.last_order_at OR old.orders IS NOT new.orders BEGIN
            INSERT INTO search_changes (customer_id) VALUES (new.id);
        END;
        CREATE TRIGGER search_changes_row_insert AFTER INSERT ON customer_search BEGIN
            INSERT INTO search_changes (customer_id) VALUES (new.customer_id);
        END;
        CREATE TRIGGER search_changes_row_update AFTER UPDATE OF city, zip, tags, sort_name ON customer_search
            WHEN old.city IS NOT new.city OR old.zip IS NOT new.zip OR old.tags IS NOT new.tags OR old.sort_name IS NOT new.sort_name BEGIN
            INSERT INTO search_changes (customer_id) VALUES (new.customer_id);
        END;
        CREATE TRIGGER search_changes_row_delete AFTER DELETE ON customer_search BEGIN
            INSERT INTO search_changes (customer_id) VALUES (old.customer_id);
        END;
        CREATE TRIGGER search_changes_spend_insert AFTER INSERT ON customer_spend BEGIN
            INSERT INTO search_changes (customer_id) VALUES (new.customer_id);
        END;
        CREATE TRIGGER search_changes_spend_update AFTER UPDATE OF customer_id, currency, total_minor ON customer_spend BEGIN
            INSERT INTO search_changes (customer_id) SELECT old.customer_id WHERE old.customer_id IS NOT new.customer_id;
            INSERT INTO search_changes (customer_id) VALUES (new.customer_id);
        END;
        CREATE TRIGGER search_changes_spend_delete AFTER DELETE ON customer_spend BEGIN
            INSERT INTO search_changes (customer_id) VALUES (old.customer_id);
        END;
        -- The bookings' upsert is INSERT OR REPLACE, whose delete fires no trigger: the owner it replaces.
        CREATE TRIGGER search_changes_booking_replace BEFORE INSERT ON bookings BEGIN
            INSERT INTO search_changes (customer_id) SELECT customer_id FROM bookings WHERE ref = new.ref AND customer_id IS NOT NULL AND customer_id IS NOT new.customer_id;
        END;
        CREATE TRIGGER search_changes_booking_insert AFTER INSERT ON bookings WHEN new.customer_id IS NOT NULL BEGIN
            INSERT INTO search_changes (customer_id) VALUES (new.customer_id);
        END;
        CREATE TRIGGER search_changes_booking_update AFTER UPDATE OF customer_id, departure, salesperson_key, transport_key, hotel_key ON bookings
            WHEN old.customer_id IS NOT new.customer_id OR old.departure IS NOT new.departure OR old.salesperson_key IS NOT new.salesperson_key OR old.transport_key IS NOT new.transport_key OR old.hotel_key IS NOT new.hotel_key BEGIN
            INSERT INTO search_changes (customer_id) SELECT old.customer_id WHERE old.customer_id IS NOT NULL AND old.customer_id IS NOT new.customer_id;
            INSERT INTO search_changes (customer_id) SELECT new.customer_id WHERE new.customer_id IS NOT NULL;
        END;
        CREATE TRIGGER search_changes_booking_delete AFTER DELETE ON bookings WHEN old.customer_id IS NOT NULL BEGIN
            INSERT INTO search_changes (customer_id) VALUES (old.customer_id);
        END;
        """#

    /// What only `customers.search` read before the search index (v28): each index was another
    /// write per new customer or booking. Kept: those that stats, reports, the catalog and
    /// exports read (newsletter, first contact, automatic and custom groups, spend by currency,
    /// name order, departure).
    private static let v29DropSearchOnlyIndexes = #"""
        DROP INDEX bookings_departure_live;
        DROP INDEX bookings_hotel_key;
        DROP INDEX bookings_salesperson_key;
        DROP INDEX bookings_transport_key;
        DROP INDEX bookings_hotel_owners;
        DROP INDEX bookings_salesperson_owners;
        DROP INDEX customer_search_city;
        DROP INDEX customer_search_zip;
        DROP INDEX customer_search_id_sort;
        DROP INDEX customer_spend_live;
        DROP INDEX customer_spend_order;
        DROP INDEX customers_country;
        DROP INDEX customers_language;
        DROP INDEX customers_orders;
        DROP INDEX customers_last_order;
        DROP TRIGGER customer_segments_insert;
        DROP TRIGGER customer_segments_leave;
        DROP TRIGGER customer_segments_enter;
        DROP TABLE customer_segments;
        """#
}
