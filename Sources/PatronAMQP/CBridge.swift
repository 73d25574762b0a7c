import CRabbitMQ
import Glibc

/// Owns the C memory behind one outgoing call (property strings, header tables), freed together
/// when the call returns. rabbitmq-c copies what it sends, so nothing outlives the call.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func bytes(_ value: [UInt8]) -> amqp_bytes_t {
        guard !value.isEmpty, let memory = malloc(value.count) else { return amqp_empty_bytes }
        allocations.append(memory)
        value.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: value.count) }
        return amqp_bytes_t(len: value.count, bytes: memory)
    }

    func bytes(_ value: String) -> amqp_bytes_t { bytes(Array(value.utf8)) }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_empty_table }
        let entries = allocate(amqp_table_entry_t.self, count: table.entries.count)
        for (index, entry) in table.entries.enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(entry.key), value: field(entry.value))
        }
        return amqp_table_t(num_entries: Int32(table.entries.count), entries: entries)
    }

    func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) { field.kind = UInt8(k.rawValue) }
        switch value {
        case .bool(let flag): kind(AMQP_FIELD_KIND_BOOLEAN); field.value.boolean = flag ? 1 : 0
        case .int(let number): kind(AMQP_FIELD_KIND_I64); field.value.i64 = number
        case .double(let number): kind(AMQP_FIELD_KIND_F64); field.value.f64 = number
        case .string(let text): kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(text)
        case .bytes(let data): kind(AMQP_FIELD_KIND_BYTES); field.value.bytes = bytes(data)
        case .timestamp(let seconds): kind(AMQP_FIELD_KIND_TIMESTAMP); field.value.u64 = seconds
        case .decimal(let scale, let number):
            kind(AMQP_FIELD_KIND_DECIMAL)
            field.value.decimal = amqp_decimal_t(decimals: scale, value: number)
        case .table(let nested): kind(AMQP_FIELD_KIND_TABLE); field.value.table = table(nested)
        case .array(let items):
            kind(AMQP_FIELD_KIND_ARRAY)
            let entries = allocate(amqp_field_value_t.self, count: max(items.count, 1))
            for (index, item) in items.enumerated() { entries[index] = self.field(item) }
            field.value.array = amqp_array_t(num_entries: Int32(items.count), entries: entries)
        case .void: kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var raw = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func text(_ value: String?, _ flag: Int32, _ set: (amqp_bytes_t) -> Void) {
            guard let value else { return }
            set(bytes(value))
            flags |= UInt32(flag)
        }
        text(properties.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG) { raw.content_type = $0 }
        text(properties.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG) { raw.content_encoding = $0 }
        text(properties.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG) { raw.correlation_id = $0 }
        text(properties.replyTo, AMQP_BASIC_REPLY_TO_FLAG) { raw.reply_to = $0 }
        text(properties.expiration, AMQP_BASIC_EXPIRATION_FLAG) { raw.expiration = $0 }
        text(properties.messageID, AMQP_BASIC_MESSAGE_ID_FLAG) { raw.message_id = $0 }
        text(properties.type, AMQP_BASIC_TYPE_FLAG) { raw.type = $0 }
        text(properties.userID, AMQP_BASIC_USER_ID_FLAG) { raw.user_id = $0 }
        text(properties.appID, AMQP_BASIC_APP_ID_FLAG) { raw.app_id = $0 }
        if !properties.headers.isEmpty {
            raw.headers = table(properties.headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        if let mode = properties.deliveryMode {
            raw.delivery_mode = mode
            flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        }
        if let priority = properties.priority {
            raw.priority = priority
            flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG)
        }
        if let timestamp = properties.timestamp {
            raw.timestamp = timestamp
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        raw._flags = flags
        return raw
    }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let memory = calloc(count, MemoryLayout<T>.stride)!
        allocations.append(memory)
        return memory.bindMemory(to: T.self, capacity: count)
    }
}

/// Copies rabbitmq-c values into Swift values at once, so nothing points into its pools.
enum CCopy {
    static func bytes(_ value: amqp_bytes_t) -> [UInt8] {
        guard value.len > 0, let base = value.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: value.len))
    }

    static func string(_ value: amqp_bytes_t) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    static func table(_ value: amqp_table_t) -> AMQPTable {
        guard value.num_entries > 0, let entries = value.entries else { return AMQPTable() }
        return AMQPTable((0..<Int(value.num_entries)).map { index in
            AMQPTable.Entry(key: string(entries[index].key), value: field(entries[index].value))
        })
    }

    static func field(_ value: amqp_field_value_t) -> AMQPFieldValue {
        switch UInt32(value.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(value.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int(Int64(value.value.i8))
        case AMQP_FIELD_KIND_U8.rawValue: return .int(Int64(value.value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: return .int(Int64(value.value.i16))
        case AMQP_FIELD_KIND_U16.rawValue: return .int(Int64(value.value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: return .int(Int64(value.value.i32))
        case AMQP_FIELD_KIND_U32.rawValue: return .int(Int64(value.value.u32))
        case AMQP_FIELD_KIND_I64.rawValue: return .int(value.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return .int(Int64(truncatingIfNeeded: value.value.u64))
        case AMQP_FIELD_KIND_F32.rawValue: return .double(Double(value.value.f32))
        case AMQP_FIELD_KIND_F64.rawValue: return .double(value.value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            return .decimal(scale: value.value.decimal.decimals, value: value.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8.rawValue:
            let raw = bytes(value.value.bytes)
            return String(validating: raw, as: UTF8.self).map(AMQPFieldValue.string) ?? .bytes(raw)
        case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes(bytes(value.value.bytes))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: return .timestamp(value.value.u64)
        case AMQP_FIELD_KIND_TABLE.rawValue: return .table(table(value.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let array = value.value.array
            guard array.num_entries > 0, let entries = array.entries else { return .array([]) }
            return .array((0..<Int(array.num_entries)).map { field(entries[$0]) })
        default: return .void
        }
    }

    static func properties(_ raw: amqp_basic_properties_t) -> AMQPProperties {
        let flags = raw._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        func text(_ flag: Int32, _ value: amqp_bytes_t) -> String? { has(flag) ? string(value) : nil }
        return AMQPProperties(
            contentType: text(AMQP_BASIC_CONTENT_TYPE_FLAG, raw.content_type),
            contentEncoding: text(AMQP_BASIC_CONTENT_ENCODING_FLAG, raw.content_encoding),
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? table(raw.headers) : AMQPTable(),
            deliveryMode: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? raw.delivery_mode : nil,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? raw.priority : nil,
            correlationID: text(AMQP_BASIC_CORRELATION_ID_FLAG, raw.correlation_id),
            replyTo: text(AMQP_BASIC_REPLY_TO_FLAG, raw.reply_to),
            expiration: text(AMQP_BASIC_EXPIRATION_FLAG, raw.expiration),
            messageID: text(AMQP_BASIC_MESSAGE_ID_FLAG, raw.message_id),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? raw.timestamp : nil,
            type: text(AMQP_BASIC_TYPE_FLAG, raw.type),
            userID: text(AMQP_BASIC_USER_ID_FLAG, raw.user_id),
            appID: text(AMQP_BASIC_APP_ID_FLAG, raw.app_id)
        )
    }
}
