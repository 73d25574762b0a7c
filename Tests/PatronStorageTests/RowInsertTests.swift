@testable import PatronStorage
import Testing

/// Rows written several to a statement: each row's parameters are its own.
struct RowInsertTests {
    @Test func eachRowGetsItsOwnParameters() {
        let insert = RowInsert(head: "INSERT INTO t (a, b, c)", template: ["?1", "?2", "(SELECT x FROM u WHERE id = ?2 AND y = ?10)"], tail: "ON CONFLICT DO NOTHING")
        #expect(insert.sql(rows: 2, parametersPerRow: 10) == """
            INSERT INTO t (a, b, c) VALUES (?1, ?2, (SELECT x FROM u WHERE id = ?2 AND y = ?10)), \
            (?11, ?12, (SELECT x FROM u WHERE id = ?12 AND y = ?20)) ON CONFLICT DO NOTHING
            """)
    }

    @Test(arguments: [("?1", 0, "?1"), ("?1", 8, "?9"), ("?12+?3", 100, "?112+?103"), ("coalesce(?2, 'x')", 4, "coalesce(?6, 'x')"), ("no marks", 5, "no marks")])
    func renumbers(expression: String, offset: Int, expected: String) {
        #expect(RowInsert.renumbered(expression, by: offset) == expected)
    }
}
