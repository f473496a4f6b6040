/// A list that lives in a ``Manager``'s server and is shared by every process holding this proxy:
/// Python's `Manager().list()`. Every operation is one atomic request to the server.
///
/// Send it to a child inside a task, like any `Codable` value; the child connects to the manager
/// on first use.
public struct ManagedList<Element: Codable & Sendable>: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Appends `element` (Python's `append`).
    public func append(_ element: Element) throws {
        _ = try reference.call(.append(try ManagedReference.encode(element)))
    }

    /// Appends every element, in one request (Python's `extend`).
    public func append(contentsOf elements: some Sequence<Element>) throws {
        _ = try reference.call(.appendContents(try elements.map(ManagedReference.encode)))
    }

    /// The element at `index` (Python's `l[i]`).
    ///
    /// - Throws: ``ManagerError`` `.indexOutOfRange`.
    public func element(at index: Int) throws -> Element {
        guard case .bytes(let bytes) = try reference.call(.element(index: index)) else {
            throw ManagerError(.undecodable, "no element in the answer")
        }
        return try ManagedReference.decode(Element.self, from: bytes)
    }

    /// Replaces the element at `index` (Python's `l[i] = x`).
    public func setElement(_ element: Element, at index: Int) throws {
        _ = try reference.call(.setElement(index: index, value: try ManagedReference.encode(element)))
    }

    /// Inserts `element` before `index` (`count` appends).
    public func insert(_ element: Element, at index: Int) throws {
        _ = try reference.call(.insert(index: index, value: try ManagedReference.encode(element)))
    }

    /// Removes and returns the element at `index` (Python's `pop(i)`).
    @discardableResult
    public func remove(at index: Int) throws -> Element {
        guard case .bytes(let bytes) = try reference.call(.remove(index: index)) else {
            throw ManagerError(.undecodable, "no element in the answer")
        }
        return try ManagedReference.decode(Element.self, from: bytes)
    }

    /// Empties the list.
    public func removeAll() throws {
        _ = try reference.call(.removeAll)
    }

    /// How many elements it holds (Python's `len`).
    public func count() throws -> Int {
        try reference.count()
    }

    /// Every element, in order, as one snapshot (Python's `list(l)` or `l[:]`).
    public func toArray() throws -> [Element] {
        let response = try reference.call(.snapshot)
        guard case .list(let elements) = response else { throw ManagedReference.unexpected(response) }
        return try elements.map { try ManagedReference.decode(Element.self, from: $0) }
    }
}
