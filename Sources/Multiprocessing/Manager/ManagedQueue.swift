/// A queue that lives in a ``Manager``'s server: Python's `Manager().Queue()`. Unlike
/// ``ProcessQueue`` it is reachable over the network, and a `get` waits in the server without
/// holding a server thread. An element taken for a client that vanished before the answer reached
/// it goes back to the front of the queue.
public struct ManagedQueue<Element: Codable & Sendable>: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Adds `element` at the end.
    public func put(_ element: Element) throws {
        _ = try reference.call(.put(try ManagedReference.encode(element)))
    }

    /// Takes the first element, waiting up to `timeout` (`nil`: as long as it takes).
    ///
    /// - Throws: ``ManagerError`` `.timedOut`.
    public func get(timeout: Duration? = nil) throws -> Element {
        let response = try reference.call(.take(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
        return try element(from: response, timeout: timeout)
    }

    /// Takes the first element, suspending (without holding a thread) up to `timeout`.
    ///
    /// - Throws: ``ManagerError`` `.timedOut`; `CancellationError` (the element, if one was
    ///   already on its way, goes back to the queue).
    public func get(timeout: Duration? = nil) async throws -> Element {
        let response = try await reference.call(.take(timeoutNanoseconds: ManagedReference.nanoseconds(timeout)))
        return try element(from: response, timeout: timeout)
    }

    /// Adds `element` at the end, without holding a thread while the server answers.
    public func put(_ element: Element) async throws {
        _ = try await reference.call(.put(try ManagedReference.encode(element)))
    }

    private func element(from response: ManagerResponse, timeout: Duration?) throws -> Element {
        guard case .optionalBytes(let bytes) = response else { throw ManagedReference.unexpected(response) }
        guard let bytes else { throw ManagerError(.timedOut, "the queue stayed empty for \(timeout ?? .zero)") }
        return try ManagedReference.decode(Element.self, from: bytes)
    }

    /// How many elements wait (Python's `qsize`).
    public func count() throws -> Int {
        try reference.count()
    }
}

/// A proxy for a ``ManagedObject`` of your own in a ``Manager``'s server.
public struct ManagedObjectProxy<Object: ManagedObject>: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Sends `request` to the hosted object and returns its response.
    ///
    /// - Throws: ``ManagerError`` `.remoteFailure` when the object's `handle` threw.
    @discardableResult
    public func call(_ request: Object.Request) throws -> Object.Response {
        let response = try reference.call(.call(try ManagedReference.encode(request)))
        guard case .bytes(let bytes) = response else { throw ManagedReference.unexpected(response) }
        return try ManagedReference.decode(Object.Response.self, from: bytes)
    }
}
