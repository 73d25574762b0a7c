import Foundation

/// `deliver_to` of an export or report schedule: staff addresses that receive each run's file as
/// an email job on `patron.dispatch` (template `scheduled_file`). The job names the file, its
/// size and SHA-256; the gateway fetches it with `exports.fetch` and attaches it
/// (docs/asyncapi.yaml). EVENTS.md's jobs are about customers; these carry no `customer_no`.
public struct FileDelivery: Sendable, Equatable {
    public static let argument = "deliver_to"
    public static let template = "scheduled_file"
    public static let maximumAddresses = 20

    /// As given, one per email key.
    public var addresses: [String]

    public init(addresses: [String]) {
        self.addresses = addresses
    }

    /// A schedule's arguments apart: its delivery (nil without `deliver_to`) and the action's own.
    public static func split(_ arguments: [String: JSONValue]) throws -> (delivery: FileDelivery?, action: [String: JSONValue]) {
        var action = arguments
        guard let value = action.removeValue(forKey: argument), value != .null else { return (nil, action) }
        let field = "args.\(argument)"
        guard case .array(let items) = value, !items.isEmpty, items.count <= maximumAddresses else {
            throw CommandError(.invalidArgument, field: field, "a list of 1 to \(maximumAddresses) staff email addresses")
        }
        var addresses: [String] = []
        var keys = Set<String>()
        for (offset, item) in items.enumerated() {
            guard let text = item.stringValue?.trimmingCharacters(in: .whitespaces), let key = EmailNormalization.key(text) else {
                throw CommandError(.invalidArgument, field: "\(field)[\(offset)]", "not an email address")
            }
            if keys.insert(key).inserted { addresses.append(text) }
        }
        return (FileDelivery(addresses: addresses), action)
    }

    /// One email job per address for the file a run wrote. `jobID` makes each job's id from the
    /// run's trigger and the address, so a run delivers once however often it is retried.
    public func jobs(schedule: String, trigger: String, file: ExportLogEntry, language: ExportLanguage, now: Timestamp,
                     jobID: (_ trigger: String, _ address: String) -> String) -> [DispatchJob] {
        let name = file.file.split(separator: "/").last.map(String.init) ?? file.file
        let (subject, body) = switch language {
        case .spanish:
            ("Patron: \(schedule) (\(file.rows) filas)",
             "La programación «\(schedule)» ha generado \(name): \(file.rows) filas, \(file.format.uppercased()), SHA-256 \(file.sha256).\n"
                + "Se adjunta; también puede descargarse con: patronctl exports fetch \(file.id)\n")
        case .english:
            ("Patron: \(schedule) (\(file.rows) rows)",
             "The schedule “\(schedule)” wrote \(name): \(file.rows) rows, \(file.format.uppercased()), SHA-256 \(file.sha256).\n"
                + "It is attached; it can also be fetched with: patronctl exports fetch \(file.id)\n")
        }
        return addresses.map { address in
            var job = DispatchJob(jobID: jobID(trigger, address), channel: .email, to: address, customerNo: "", language: language.rawValue,
                                  template: Self.template, subject: subject, body: body, html: nil, purpose: .transactional, createdAt: now,
                                  segmentation: nil, unsubscribeURL: nil)
            job.attachment = DispatchJob.Attachment(exportID: file.id, fileName: name, format: file.format, rows: file.rows, sha256: file.sha256)
            return job
        }
    }
}
