/// Named values of any `Codable` types in a ``Manager``'s server: Python's `Manager().Namespace()`,
/// whose attributes are read and written by name.
///
/// ```swift
/// let settings = try manager.namespace()
/// try settings.set(0.5, for: "threshold")
/// let threshold = try settings.value(for: "threshold", as: Double.self)   // in any process
/// ```
public struct ManagedNamespace: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// Sets the value named `name` (Python's `ns.name = value`).
    public func set<Value: Codable & Sendable>(_ value: Value, for name: String) throws {
        _ = try reference.call(
            .update(key: try ManagedReference.encode(name), value: try ManagedReference.encode(value))
        )
    }

    /// The value named `name`, or `nil` when there is none (Python's `getattr(ns, name, None)`).
    ///
    /// - Throws: ``ManagerError`` `.undecodable` when the value there is not a `Value`.
    public func value<Value: Codable & Sendable>(for name: String, as type: Value.Type = Value.self) throws -> Value? {
        let response = try reference.call(.lookUp(key: try ManagedReference.encode(name)))
        guard case .optionalBytes(let bytes) = response else { throw ManagedReference.unexpected(response) }
        return try bytes.map { try ManagedReference.decode(Value.self, from: $0) }
    }

    /// Removes the value named `name` (Python's `del ns.name`); nothing if there is none.
    public func remove(_ name: String) throws {
        _ = try reference.call(.removeKey(key: try ManagedReference.encode(name)))
    }

    /// The names set, in the order they were first set.
    public func names() throws -> [String] {
        let response = try reference.call(.entries)
        guard case .pairs(let flat) = response, flat.count % 2 == 0 else { throw ManagedReference.unexpected(response) }
        return try stride(from: 0, to: flat.count, by: 2).map {
            try ManagedReference.decode(String.self, from: flat[$0])
        }
    }
}
