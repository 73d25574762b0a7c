import Foundation
import PatronAMQP
import PatronDomain
import Testing

extension BrokerBacked {
    /// `exports.run` and `exports.log` over the broker: the file, the log, and `export.completed`.
    @Suite struct ExportCommands {
        /// An export whose file cannot be written answers with what to fix, not "see the log".
        @Test func anExportThatCannotWriteItsFileSaysWhatToFix() async throws {
            try await withRunningPatron(try TestSetup(roles: ["patron": "operator"])) { setup, _, _ in
                let exports = setup.directory.appendingPathComponent("exports")
                try? FileManager.default.removeItem(at: exports)
                try Data("not a directory".utf8).write(to: exports)
                try await withCommands(setup) { commands in
                    let reply = try await commands.call("exports.run", args: ["format": .string("csv")])
                    #expect(reply["error"]?["code"] == .string("internal"))
                    let message = reply["error"]?["message"]?.stringValue ?? ""
                    #expect(message.contains("\(exports.path)") && message.contains("Not a directory") && message.contains("PATRON_DATA_DIR"),
                            "\(message)")
                }
            }
        }

        @Test(arguments: TestEngine.allCases) func anExportIsWrittenLoggedAndAnnounced(engine: TestEngine) async throws {
            try await withRunningPatron(try await .on(engine, roles: ["patron": "operator"])) { setup, broker, _ in
                let notes = try await broker.listen(to: setup.topology.notificationsExchange)
                try await CustomerCommands.publishAnaAndBen(setup, broker)
                try await withCommands(setup) { commands in
                    let reply = try await commands.call("exports.run", args: [
                        "format": .string("csv"), "filter": .object(["city": .string("Donostia")]),
                        "fields": .array([.string("customer_no"), .string("last_name"), .string("total_spent")]),
                    ])
                    let result = try #require(reply["result"], "\(reply)")
                    let file = try #require(result["file"]?.stringValue)
                    #expect(result["rows"] == .integer(1))
                    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
                    // No `language`: the installation's default language (records.default_language, es),
                    // with what Spanish Excel needs: `;` and the byte order mark.
                    #expect(bytes.prefix(3) == [0xEF, 0xBB, 0xBF])
                    #expect(String(decoding: bytes.dropFirst(3), as: UTF8.self) == "N.º de cliente;Apellidos;Gasto total (EUR)\r\nC-1;García;412.50\r\n")
                    #expect(file.hasPrefix(setup.directory.appendingPathComponent("exports").path))
                    try await eventually("export.completed") {
                        try await notes.received().contains { $0.properties.type == "export.completed" }
                    }
                    let announced = try #require(try await notes.received().first { $0.properties.type == "export.completed" })
                    let body = try JSONParser.parse(announced.body)
                    #expect(body["export_id"] == result["export_id"] && body["sha256"] == result["sha256"] && body["file"] == .string(file))
                    // Fetched in parts over the broker (7 bytes at a time here), the same bytes and digest.
                    var copy = Data()
                    var offset: Int64? = 0
                    while let start = offset {
                        let part = try await commands.call("exports.fetch", args: ["export_id": result["export_id"]!, "offset": .integer(start), "length": .integer(7)])
                        let fetched = try #require(part["result"], "\(part)")
                        #expect(fetched["sha256"] == result["sha256"])
                        copy += Data(base64Encoded: fetched["data"]?.stringValue ?? "") ?? Data()
                        offset = fetched["next_offset"]?.intValue
                    }
                    #expect(copy == FileManager.default.contents(atPath: file))
                    let beyond = try await commands.call("exports.fetch", args: ["export_id": result["export_id"]!, "offset": .integer(1_000_000)])
                    #expect(beyond["error"]?["field"] == .string("args.offset"), "\(beyond)")
                    let log = try await commands.call("exports.log")
                    let entry = try #require(log["result"]?["exports"]?.arrayValue?.first)
                    #expect(entry["requested_by"] == .string("patron"))
                    #expect(entry["filter"] == .object(["city": .string("Donostia")]))
                    #expect(entry["rows"] == .integer(1))

                    let bad = try await commands.call("exports.run", args: ["format": .string("csv"), "filter": .object(["citty": .string("x")])])
                    #expect(bad["error"]?["field"] == .string("args.filter.citty"))
                }
                try await notes.close()
            }
        }
    }
}
