struct BinarySingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BinaryEncoderImpl
    let pathDepth: Int

    var codingPath: [any CodingKey] { encoder.codingPath(depth: pathDepth) }

    /// A single-value container holds exactly one value; a second one would make the value two values on the wire.
    @inline(__always)
    private func checkEmpty() throws {
        guard encoder.frame.kind == .single else {
            throw encoder.error(.unsupported, "a single-value container can hold only one value")
        }
    }

    @inline(__always)
    private func encodeSingle<T: Encodable>(_ value: T) throws {
        try checkEmpty()
        try encoder.encodeValue(value)
        // Marked only after success, so a failed value leaves the container writable (and the frame well-formed).
        encoder.frame.kind = .singleWritten
    }

    mutating func encodeNil() throws {
        try checkEmpty()
        encoder.appendByte(WireTag.null.rawValue)
        encoder.frame.kind = .singleWritten
    }

    mutating func encode(_ value: Bool) throws { try encodeSingle(value) }
    mutating func encode(_ value: String) throws { try encodeSingle(value) }
    mutating func encode(_ value: Double) throws { try encodeSingle(value) }
    mutating func encode(_ value: Float) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int8) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int16) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int32) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int64) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt8) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt16) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt32) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt64) throws { try encodeSingle(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try encodeSingle(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try encodeSingle(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeSingle(value) }
}
