struct BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BinaryDecoderImpl
    /// Offset of the next element.
    var nextOffset: Int
    var currentIndex = 0
    let elementCount: Int
    let pathDepth: Int
    /// Keys of a nested container below the owning value's path.
    let extraPath: [PathComponent]

    init(decoder: BinaryDecoderImpl, nextOffset: Int, elementCount: Int, pathDepth: Int, extraPath: [PathComponent]) {
        self.decoder = decoder
        self.nextOffset = nextOffset
        self.elementCount = elementCount
        self.pathDepth = pathDepth
        self.extraPath = extraPath
    }

    var codingPath: [any CodingKey] { decoder.codingPath(depth: pathDepth, extraPath: extraPath) }
    var count: Int? { elementCount }
    var isAtEnd: Bool { currentIndex >= elementCount }

    private func locate(_ error: CodecError) -> CodecError {
        error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: extraPath, last: .index(currentIndex)))
    }

    /// Positions the cursor at the next element, or throws if there is none.
    @inline(__always)
    private func moveToNext() throws {
        guard currentIndex < elementCount else {
            throw CodecError(.valueNotFound, "unkeyed container has no element \(currentIndex) (count \(elementCount))")
        }
        decoder.reader.cursor = nextOffset
    }

    @inline(__always)
    private mutating func decodeElement<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            try moveToNext()
            let value = try decoder.decodeValue(T.self, index: currentIndex, extraPath: extraPath)
            nextOffset = decoder.reader.cursor
            currentIndex += 1
            return value
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }

    mutating func decodeNil() throws -> Bool {
        do {
            try moveToNext()
            guard try decoder.reader.peekByte() == WireTag.null.rawValue else { return false }
            nextOffset += 1
            currentIndex += 1
            return true
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try decodeElement(type) }
    mutating func decode(_ type: String.Type) throws -> String { try decodeElement(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try decodeElement(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try decodeElement(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try decodeElement(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decodeElement(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decodeElement(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decodeElement(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decodeElement(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decodeElement(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeElement(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeElement(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeElement(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeElement(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try decodeElement(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeElement(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeElement(type) }

    /// Opens the container of `tag` that is the next element.
    private mutating func nested(
        _ tag: WireTag
    ) throws -> (header: (count: Int, bodyStart: Int, end: Int), extraPath: [PathComponent]) {
        do {
            try moveToNext()
            let header = try decoder.openNestedContainer(tag)
            let nestedPath = extraPath + [.index(currentIndex)]
            nextOffset = header.end
            currentIndex += 1
            return (header, nestedPath)
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (header, nestedPath) = try nested(.keyed)
        return decoder.makeKeyedContainer(header, pathDepth: pathDepth, extraPath: nestedPath)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (header, nestedPath) = try nested(.unkeyed)
        return BinaryUnkeyedDecodingContainer(
            decoder: decoder,
            nextOffset: header.bodyStart,
            elementCount: header.count,
            pathDepth: pathDepth,
            extraPath: nestedPath
        )
    }

    mutating func superDecoder() throws -> any Decoder {
        do {
            try moveToNext()
            try decoder.reader.skipValue()
            var childPath = Array(decoder.path.prefix(pathDepth)) + extraPath
            childPath.append(.index(currentIndex))
            let child = decoder.makeChildDecoder(at: nextOffset, path: childPath)
            nextOffset = decoder.reader.cursor
            currentIndex += 1
            return child
        } catch let error as CodecError where !error.isLocated {
            throw locate(error)
        }
    }
}
