/// A dictionary that lives in a ``Manager``'s server: Python's `Manager().dict()`. It keeps the
/// order in which keys were first inserted, as Python's does.
///
/// Keys are compared by their encoded bytes, so use keys whose encoding is canonical (strings,
/// integers, and structs of those); two equal keys of a type that encodes the same value two ways
/// would be two entries.
public struct ManagedDictionary<Key: Codable & Hashable & Sendable, Value: Codable & Sendable>: Sendable, Codable,
    Hashable
{
    let reference: ManagedReference

    /// The value for `key`, or `nil` (Python's `d.get(k)`).
    public func value(forKey key: Key) throws -> Value? {
        try optional(try reference.call(.lookUp(key: try ManagedReference.encode(key))))
    }

    /// Sets the value for `key` and returns the one it replaces (Python's `d[k] = v`).
    @discardableResult
    public func updateValue(_ value: Value, forKey key: Key) throws -> Value? {
        try optional(
            try reference.call(
                .update(key: try ManagedReference.encode(key), value: try ManagedReference.encode(value))
            )
        )
    }

    /// Removes `key` and returns its value, or `nil` if it was not there (Python's `d.pop(k, None)`).
    @discardableResult
    public func removeValue(forKey key: Key) throws -> Value? {
        try optional(try reference.call(.removeKey(key: try ManagedReference.encode(key))))
    }

    /// Empties the dictionary.
    public func removeAll() throws {
        _ = try reference.call(.removeAll)
    }

    /// How many entries it holds.
    public func count() throws -> Int {
        try reference.count()
    }

    /// Every entry as one snapshot, in insertion order (Python's `d.items()`).
    public func entries() throws -> [(key: Key, value: Value)] {
        let response = try reference.call(.entries)
        guard case .pairs(let flat) = response, flat.count % 2 == 0 else { throw ManagedReference.unexpected(response) }
        return try stride(from: 0, to: flat.count, by: 2).map { index in
            (
                try ManagedReference.decode(Key.self, from: flat[index]),
                try ManagedReference.decode(Value.self, from: flat[index + 1])
            )
        }
    }

    /// Every entry as a Swift dictionary (Python's `dict(d)`).
    public func toDictionary() throws -> [Key: Value] {
        Dictionary(try entries(), uniquingKeysWith: { _, last in last })
    }

    private func optional(_ response: ManagerResponse) throws -> Value? {
        guard case .optionalBytes(let bytes) = response else { throw ManagedReference.unexpected(response) }
        return try bytes.map { try ManagedReference.decode(Value.self, from: $0) }
    }
}
