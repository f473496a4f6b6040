/// One value that lives in a ``Manager``'s server: Python's `Manager().Value(typecode, value)`, for
/// any `Codable` type.
public struct ManagedValue<Value: Codable & Sendable>: Sendable, Codable, Hashable {
    let reference: ManagedReference

    /// The value now (Python's `v.value`).
    public func load() throws -> Value {
        let response = try reference.call(.load)
        guard case .optionalBytes(let bytes) = response else { throw ManagedReference.unexpected(response) }
        guard let bytes else { throw ManagerError(.empty, "the value was never set") }
        return try ManagedReference.decode(Value.self, from: bytes)
    }

    /// Replaces the value (Python's `v.value = x`).
    public func store(_ value: Value) throws {
        _ = try reference.call(.store(try ManagedReference.encode(value)))
    }

    /// Replaces the value and returns the one before, in one atomic step.
    public func exchange(_ value: Value) throws -> Value {
        let response = try reference.call(.exchange(try ManagedReference.encode(value)))
        guard case .optionalBytes(let bytes) = response else { throw ManagedReference.unexpected(response) }
        guard let bytes else { throw ManagerError(.empty, "the value was never set") }
        return try ManagedReference.decode(Value.self, from: bytes)
    }
}
