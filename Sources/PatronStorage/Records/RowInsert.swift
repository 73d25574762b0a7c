import Synchronization

/// One statement shape that writes many rows at once: `head`, then `VALUES (…), (…)` with one
/// `template` per row, then `tail`. The template is one row's SQL expressions with parameters
/// `?1`…`?k`; each row's are renumbered, so an expression may use a row's value twice.
///
/// Rows go in chunks of 64 and then powers of two, so that a connection prepares a handful of
/// shapes per table, not one per batch size.
struct RowInsert: Hashable {
    let head: String
    let template: [String]
    var tail = ""

    static let largestChunk = 64

    func run(_ rows: [[SQLValue]], on statements: some SQLStatements) throws {
        var start = 0
        while start < rows.count {
            var size = Self.largestChunk
            while size > rows.count - start { size /= 2 }
            var values: [SQLValue] = []
            values.reserveCapacity(size * rows[start].count)
            for row in rows[start..<start + size] { values += row }
            try statements.run(sql(rows: size, parametersPerRow: rows[start].count), values)
            start += size
        }
    }

    /// Each shape's text, built once per process: building it for every chunk was a sixth of
    /// the writer's time (perf, bookings mix).
    private static let texts = Mutex<[TextKey: String]>([:])

    private struct TextKey: Hashable {
        let insert: RowInsert
        let rows: Int
        let parametersPerRow: Int
    }

    func sql(rows: Int, parametersPerRow: Int) -> String {
        let key = TextKey(insert: self, rows: rows, parametersPerRow: parametersPerRow)
        if let text = Self.texts.withLock({ $0[key] }) { return text }
        let text = text(rows: rows, parametersPerRow: parametersPerRow)
        Self.texts.withLock { $0[key] = text }
        return text
    }

    private func text(rows: Int, parametersPerRow: Int) -> String {
        let list = (0..<rows).map { row in "(" + template.map { Self.renumbered($0, by: row * parametersPerRow) }.joined(separator: ", ") + ")" }
        return "\(head) VALUES \(list.joined(separator: ", "))\(tail.isEmpty ? "" : " " + tail)"
    }

    /// `?N` → `?(N + offset)` in an expression of the template (no quoted `?` in them).
    static func renumbered(_ expression: String, by offset: Int) -> String {
        guard offset > 0 else { return expression }
        var result = ""
        var digits = ""
        var afterMark = false
        func closeNumber() {
            if afterMark, let number = Int(digits) { result += String(number + offset) } else { result += digits }
            digits = ""
        }
        for character in expression {
            if afterMark, character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            closeNumber()
            afterMark = character == "?"
            result.append(character)
        }
        closeNumber()
        return result
    }
}
