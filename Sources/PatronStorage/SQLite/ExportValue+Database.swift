import GRDB
import PatronDomain

extension ExportValue {
    /// A stored value as a cell of a column of `kind`; NULL is an empty cell.
    init(_ value: DatabaseValue, as kind: ExportColumn.Kind) {
        guard !value.isNull else {
            self = .empty
            return
        }
        switch kind {
        case .text: self = .text(String.fromDatabaseValue(value) ?? "")
        case .integer: self = .integer(Int64.fromDatabaseValue(value) ?? 0)
        case .money: self = .money(Int64.fromDatabaseValue(value) ?? 0)
        case .dateTime: self = Int64.fromDatabaseValue(value).map { .dateTime(Timestamp(microseconds: $0)) } ?? .empty
        case .yesNo: self = .yesNo(Bool.fromDatabaseValue(value) ?? false)
        }
    }
}
