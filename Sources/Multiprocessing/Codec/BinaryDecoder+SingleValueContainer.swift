struct BinarySingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BinaryDecoderImpl
    /// Offset of the value; every call reads from here, so asking twice returns the same value.
    let start: Int
    let pathDepth: Int

    var codingPath: [any CodingKey] { decoder.codingPath(depth: pathDepth, extraPath: []) }

    func decodeNil() -> Bool {
        decoder.reader.cursor = start
        guard (try? decoder.reader.peekByte()) == WireTag.null.rawValue else { return false }
        decoder.reader.cursor = start + 1
        return true
    }

    @inline(__always)
    private func decodeSingle<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            decoder.reader.cursor = start
            return try decoder.decodeValue(T.self)
        } catch let error as CodecError where !error.isLocated {
            throw error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: []))
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeSingle(type) }
    func decode(_ type: String.Type) throws -> String { try decodeSingle(type) }
    func decode(_ type: Double.Type) throws -> Double { try decodeSingle(type) }
    func decode(_ type: Float.Type) throws -> Float { try decodeSingle(type) }
    func decode(_ type: Int.Type) throws -> Int { try decodeSingle(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeSingle(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeSingle(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeSingle(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeSingle(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeSingle(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeSingle(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeSingle(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeSingle(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeSingle(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try decodeSingle(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeSingle(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeSingle(type) }
}
