struct BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BinaryEncoderImpl
    let header: Int
    let pathDepth: Int

    var codingPath: [any CodingKey] { encoder.codingPath(depth: pathDepth) }

    var count: Int {
        Int(encoder.loadUInt32(at: header + ContainerHeader.countOffset))
    }

    @inline(__always)
    private func encodeElement<T: Encodable>(_ value: T) throws {
        let mark = encoder.byteCount
        let index = try encoder.addEntry(header)
        do {
            try encoder.encodeValue(value, index: index)
        } catch {
            encoder.removeEntry(header, truncatingTo: mark)
            throw error
        }
    }

    mutating func encodeNil() throws {
        _ = try encoder.addEntry(header)
        encoder.appendByte(WireTag.null.rawValue)
    }

    mutating func encode(_ value: Bool) throws { try encodeElement(value) }
    mutating func encode(_ value: String) throws { try encodeElement(value) }
    mutating func encode(_ value: Double) throws { try encodeElement(value) }
    mutating func encode(_ value: Float) throws { try encodeElement(value) }
    mutating func encode(_ value: Int) throws { try encodeElement(value) }
    mutating func encode(_ value: Int8) throws { try encodeElement(value) }
    mutating func encode(_ value: Int16) throws { try encodeElement(value) }
    mutating func encode(_ value: Int32) throws { try encodeElement(value) }
    mutating func encode(_ value: Int64) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt8) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt16) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt32) throws { try encodeElement(value) }
    mutating func encode(_ value: UInt64) throws { try encodeElement(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try encodeElement(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try encodeElement(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeElement(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.reserveChild(header: header, key: nil, pathDepth: pathDepth, component: .index(count))
            .container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.reserveChild(header: header, key: nil, pathDepth: pathDepth, component: .index(count))
            .unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.reserveChild(header: header, key: nil, pathDepth: pathDepth, component: .index(count))
    }
}
