/// The Customer Center's lists beside the customers: groups, contacts (departments), threads
/// and carts (issue "Customer Center", item 1).
public struct GroupSummary: Sendable, Equatable {
    public var name: String
    public var automatic: Bool
    /// Basis points: 1250 is 12.5 %.
    public var discountBasisPoints: Int64
    public var members: Int64

    public init(name: String, automatic: Bool, discountBasisPoints: Int64, members: Int64) {
        self.name = name
        self.automatic = automatic
        self.discountBasisPoints = discountBasisPoints
        self.members = members
    }

    public var json: JSONValue {
        .object(["name": .string(name), "automatic": .bool(automatic),
                 "discount_percent": .string(Self.percent(discountBasisPoints)), "members": .integer(members)])
    }

    /// `12.5` → 1250: a percentage from 0 to 100 with at most two decimals, read by the exact
    /// decimal parser money uses.
    public static func basisPoints(_ text: String) -> Int64? {
        guard let parsed = try? Money.parse(text, currency: "EUR"), (0...10_000).contains(parsed.minorUnits) else { return nil }
        return parsed.minorUnits
    }

    /// 1250 → `12.50`.
    public static func percent(_ basisPoints: Int64) -> String { Money.format(basisPoints, currency: "EUR") }
}

public struct ContactSummary: Sendable, Equatable {
    public var name: String
    public var email: String?
    public var openThreads: Int64

    public init(name: String, email: String?, openThreads: Int64) {
        self.name = name
        self.email = email
        self.openThreads = openThreads
    }

    public var json: JSONValue {
        .object(["name": .string(name), "email": email.map(JSONValue.string) ?? .null, "open_threads": .integer(openThreads)])
    }
}

public struct ThreadSummary: Sendable, Equatable {
    public var thread: ThreadRecord
    public var customerNo: String?
    public var messages: Int64

    public init(thread: ThreadRecord, customerNo: String?, messages: Int64) {
        self.thread = thread
        self.customerNo = customerNo
        self.messages = messages
    }

    public var json: JSONValue {
        .object(["thread_id": .string(thread.threadID), "customer_no": customerNo.map(JSONValue.string) ?? .null,
                 "contact": thread.contact.map(JSONValue.string) ?? .null, "subject": thread.subject.map(JSONValue.string) ?? .null,
                 "open": .bool(thread.isOpen), "opened_at": .string(thread.openedAt.description),
                 "first_response_at": thread.firstResponseAt.map { .string($0.description) } ?? .null, "messages": .integer(messages)])
    }
}

public struct CartSummary: Sendable, Equatable {
    public var cart: CartRecord
    public var customerNo: String?

    public init(cart: CartRecord, customerNo: String?) {
        self.cart = cart
        self.customerNo = customerNo
    }

    public var json: JSONValue {
        .object(["id": .string(cart.id), "customer_no": customerNo.map(JSONValue.string) ?? .null,
                 "status": cart.status.map { .string($0.rawValue) } ?? .null, "total": cart.total.map { .string($0.decimalString) } ?? .null,
                 "currency": cart.total.map { .string($0.currency) } ?? .null, "updated_at": .string(cart.updatedAt.description)])
    }
}

/// Which carts `carts.list` shows: by status, or those with no known customer.
public enum CartSelection: String, Sendable, CaseIterable {
    case active, abandoned, ordered, visitor
}

/// Storage for the Customer Center's lists and the group assignment.
public protocol CustomerCatalog: Sendable {
    /// Nil when a group (custom or automatic) of that name exists.
    func createGroup(name: String, discountBasisPoints: Int64, at time: Timestamp) async throws -> GroupSummary?
    func groups() async throws -> [GroupSummary]
    /// Puts the customer in a custom group, or (an automatic group's name) back to that
    /// automatic group by hand. False when no group has the name.
    func setGroup(_ customer: CustomerID, group: String) async throws -> Bool
    /// Nil when a contact of that name exists.
    func createContact(name: String, email: String?, at time: Timestamp) async throws -> ContactSummary?
    func contacts() async throws -> [ContactSummary]
    func threads(open: Bool?, contact: String?, limit: Int) async throws -> [ThreadSummary]
    /// False when there is no such thread.
    func closeThread(_ threadID: String) async throws -> Bool
    func carts(_ selection: CartSelection, limit: Int) async throws -> [CartSummary]
}
