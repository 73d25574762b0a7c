import Foundation

/// The built-in reports (issue 7), run by hand (`reports.run`) or by a schedule. Their periods
/// are days on the wall clock of a time zone (the schedule's), never UTC's: "the previous month"
/// in Madrid starts at midnight in Madrid.
public enum ReportKind: String, Sendable, CaseIterable {
    /// Customers whose first contact falls in the period.
    case newCustomers = "new_customers"
    /// Customers whose stay ended (a booking's departure, not cancelled or a no-show) in the
    /// period, with their consent state and language: the monthly follow-up list.
    case followUp = "follow_up"
    /// Carts abandoned in the last `days` days.
    case abandonedCarts = "abandoned_carts"
    /// Bookings marked as no-shows whose arrival falls in the period.
    case noShows = "no_shows"
    /// The `limit` customers who spent most, in the installation's currency.
    case topCustomers = "top_customers"

    var defaultPeriod: ReportPeriod? {
        switch self {
        case .newCustomers, .noShows: .lastSevenDays
        case .followUp: .previousMonth
        case .abandonedCarts, .topCustomers: nil
        }
    }
}

/// A period of whole local days ending before today, or (abandoned carts) reaching up to now.
public enum ReportPeriod: String, Sendable, CaseIterable {
    case yesterday
    case lastSevenDays = "last_7_days"
    case lastThirtyDays = "last_30_days"
    case previousWeek = "previous_week"
    case previousMonth = "previous_month"

    /// The period's instants, [start, end), on `zone`'s wall clock as of `now`.
    public func range(now: Timestamp, in zone: TimeZone) -> Range<Timestamp> {
        let wallNow = WallClock.wallTime(of: WallClock.floorDiv(now.microseconds, 1_000_000), in: zone)
        let today = Int(WallClock.floorDiv(wallNow, 86_400))
        let (startDay, endDay): (Int, Int)
        switch self {
        case .yesterday: (startDay, endDay) = (today - 1, today)
        case .lastSevenDays: (startDay, endDay) = (today - 7, today)
        case .lastThirtyDays: (startDay, endDay) = (today - 30, today)
        case .previousWeek:
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            let monday = today - ((today % 7) + 10) % 7
            (startDay, endDay) = (monday - 7, monday)
        case .previousMonth:
            let (year, month, _) = Timestamp.civil(fromDays: today)
            let first = Timestamp.daysSinceEpoch(year: year, month: month, day: 1)
            let (previousYear, previousMonth) = month == 1 ? (year - 1, 12) : (year, month - 1)
            (startDay, endDay) = (Timestamp.daysSinceEpoch(year: previousYear, month: previousMonth, day: 1), first)
        }
        return Self.midnight(startDay, zone)..<Self.midnight(endDay, zone)
    }

    /// The local days of the period as `YYYY-MM-DD`, first and last (for date columns such as a
    /// booking's departure).
    public func days(now: Timestamp, in zone: TimeZone) -> ClosedRange<String> {
        let range = range(now: now, in: zone)
        let first = Timestamp(microseconds: range.lowerBound.microseconds).rfc3339(in: zone).prefix(10)
        let last = Timestamp(microseconds: range.upperBound.microseconds - 1).rfc3339(in: zone).prefix(10)
        return String(first)...String(last)
    }

    private static func midnight(_ day: Int, _ zone: TimeZone) -> Timestamp {
        Timestamp(microseconds: WallClock.firstInstant(of: Int64(day) * 86_400, in: zone) * 1_000_000)
    }
}

/// A report request, checked: `reports.run`'s arguments, or a schedule's `report` action with
/// the schedule's zone.
public struct ReportRequest: Sendable, Equatable {
    public var kind: ReportKind
    public var format: ExportRequest.Format
    public var language: ExportLanguage
    public var period: ReportPeriod?
    /// Abandoned carts: how many days back.
    public var days: Int
    /// Top customers: how many.
    public var limit: Int
    public var timeZone: TimeZone

    public static let argumentNames: Set<String> = ["report", "format", "language", "period", "days", "limit", "timezone"]

    /// - Parameter zone: the schedule's zone; nil when run by hand, and then `timezone` is required.
    public static func parse(_ args: CommandArguments, zone: TimeZone?, defaultLanguage: String) throws -> ReportRequest {
        try args.allowOnly(zone == nil ? argumentNames : argumentNames.subtracting(["timezone"]))
        let name = try args.requiredString("report", maximumLength: 40)
        guard let kind = ReportKind(rawValue: name) else {
            throw CommandError(.invalidArgument, field: "args.report", "one of \(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let format = try ExportRequest.Format.parse(args)
        var period = kind.defaultPeriod
        if let text = try args.string("period", maximumLength: 20) {
            guard kind.defaultPeriod != nil else { throw CommandError(.invalidArgument, field: "args.period", "\(name) has no period") }
            guard let chosen = ReportPeriod(rawValue: text) else {
                throw CommandError(.invalidArgument, field: "args.period", "one of \(ReportPeriod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            period = chosen
        }
        if kind != .abandonedCarts, args.values["days"] != nil { throw CommandError(.invalidArgument, field: "args.days", "for abandoned_carts only") }
        if kind != .topCustomers, args.values["limit"] != nil { throw CommandError(.invalidArgument, field: "args.limit", "for top_customers only") }
        let days = Int(try args.integer("days", in: 1...365, default: 7))
        let limit = Int(try args.integer("limit", in: 1...10_000, default: 100))
        let timeZone = try zone ?? args.timeZone("timezone")
        let language = try ExportLanguage.parse(args, defaultLanguage: defaultLanguage)
        return ReportRequest(kind: kind, format: format, language: language, period: period, days: days, limit: limit, timeZone: timeZone)
    }

    /// The instants the report covers as of `now` (abandoned carts: the last `days` local days up to now).
    public func range(now: Timestamp) -> Range<Timestamp>? {
        if kind == .abandonedCarts {
            let today = ReportPeriod.yesterday.range(now: now, in: timeZone).upperBound
            return Timestamp(microseconds: today.microseconds - Int64(days - 1) * 86_400_000_000)..<Timestamp(microseconds: now.microseconds + 1)
        }
        return period?.range(now: now, in: timeZone)
    }

    /// What the export log keeps as the report's "filter".
    public func logArguments(now: Timestamp) -> JSONObject {
        var values: [String: JSONValue] = ["report": .string(kind.rawValue), "timezone": .string(timeZone.identifier)]
        if let range = range(now: now) {
            values["from"] = .string(range.lowerBound.rfc3339(in: timeZone))
            values["to"] = .string(range.upperBound.rfc3339(in: timeZone))
        }
        if kind == .topCustomers { values["limit"] = .integer(Int64(limit)) }
        return JSONObject(values)
    }

    public func columns(currency: String) -> [ExportColumn] {
        let spanish = language == .spanish
        func column(_ name: String, _ english: String, _ spanishHeader: String, _ width: ExportColumn.Width,
                    _ kind: ExportColumn.Kind = .text) -> ExportColumn {
            ExportColumn(name: name, header: spanish ? spanishHeader : english, width: width, kind: kind)
        }
        func field(_ field: ExportField) -> ExportColumn { field.column(language, currency: currency) }
        let person = [field(.customerNo), field(.firstName), field(.lastName), field(.email), field(.phone)]
        switch kind {
        case .newCustomers:
            return person + [field(.city), field(.country), field(.language), field(.newsletter), field(.firstContactAt)]
        case .followUp:
            return person + [field(.language), field(.newsletter), column("hotel", "Hotel", "Hotel", .normal),
                             column("departure", "Departure", "Salida", .narrow)]
        case .abandonedCarts:
            return [column("cart_id", "Cart", "Carrito", .normal)] + person
                + [column("cart_total", "Cart total", "Total del carrito", .normal, .money), column("currency", "Currency", "Moneda", .narrow),
                   column("updated_at", "Abandoned", "Abandonado", .time, .dateTime)]
        case .noShows:
            return [column("booking_ref", "Booking", "Reserva", .normal)] + person
                + [column("hotel", "Hotel", "Hotel", .normal), column("arrival", "Arrival", "Llegada", .narrow)]
        case .topCustomers:
            return person + [field(.orders), field(.totalSpent), field(.lastOrderAt)]
        }
    }

    /// The report's title in its language, for a PDF's header and the sheet.
    public var title: String {
        let spanish = language == .spanish
        return switch kind {
        case .newCustomers: spanish ? "Clientes nuevos" : "New customers"
        case .followUp: spanish ? "Seguimiento" : "Follow-up list"
        case .abandonedCarts: spanish ? "Carritos abandonados" : "Abandoned carts"
        case .noShows: spanish ? "No presentados" : "No-shows"
        case .topCustomers: spanish ? "Mejores clientes" : "Top customers"
        }
    }
}

/// The built-in reports' rows.
public protocol ReportSource: Sendable {
    /// Calls `row` for each row of the report as of `now`, in the column order of
    /// ``ReportRequest/columns(currency:)``; returns the row count. `row` runs on a thread where
    /// blocking file writes are allowed.
    func rows(_ report: ReportRequest, now: Timestamp, currency: String, row: @escaping @Sendable ([ExportValue]) throws -> Void) async throws -> Int
}
