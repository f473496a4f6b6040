struct BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BinaryEncoderImpl
    let header: Int
    let pathDepth: Int

    var codingPath: [any CodingKey] { encoder.codingPath(depth: pathDepth) }

    @inline(__always)
    private func encodeEntry<T: Encodable>(_ value: T, forKey key: Key) throws {
        let mark = encoder.byteCount
        _ = try encoder.addEntry(header)
        encoder.appendKey(key.stringValue)
        do {
            try encoder.encodeValue(value, key: key)
        } catch {
            encoder.removeEntry(header, truncatingTo: mark)
            throw error
        }
    }

    mutating func encodeNil(forKey key: Key) throws {
        _ = try encoder.addEntry(header)
        encoder.appendKey(key.stringValue)
        encoder.appendByte(WireTag.null.rawValue)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try encodeEntry(value, forKey: key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encodeEntry(value, forKey: key) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
            .container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
            .unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = BinaryCodingKey.superKey
        return encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.reserveChild(header: header, key: key.stringValue, pathDepth: pathDepth, component: .key(key))
    }
}
