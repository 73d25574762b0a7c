import PatronDomain

extension ExportValue {
    /// A stored value as a cell of a column of `kind`; NULL is an empty cell.
    init(_ value: SQLValue, as kind: ExportColumn.Kind) {
        switch (value, kind) {
        case (.null, _): self = .empty
        case (.integer(let integer), .integer): self = .integer(integer)
        case (.integer(let integer), .money): self = .money(integer)
        case (.integer(let integer), .dateTime): self = .dateTime(Timestamp(microseconds: integer))
        case (.integer(let integer), .yesNo): self = .yesNo(integer != 0)
        case (.integer(let integer), .text): self = .text(String(integer))
        case (.integer(let integer), .vocabulary): self = .vocabulary(String(integer))
        case (.text(let text), .vocabulary): self = .vocabulary(text)
        case (.text(let text), .text): self = .text(text)
        case (.text(let text), .integer): self = .integer(Int64(text) ?? 0)
        case (.text(let text), .money): self = .money(Int64(text) ?? 0)
        case (.text(let text), .dateTime): self = Int64(text).map { .dateTime(Timestamp(microseconds: $0)) } ?? .empty
        case (.text(let text), .yesNo): self = .yesNo((Int64(text) ?? 0) != 0)
        case (.blob(let bytes), _): self = .text(String(decoding: bytes, as: UTF8.self))
        }
    }
}
