struct BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BinaryDecoderImpl
    let stateIndex: Int
    let pathDepth: Int
    /// Keys of a nested container below the owning value's path.
    let extraPath: [PathComponent]

    var codingPath: [any CodingKey] { decoder.codingPath(depth: pathDepth, extraPath: extraPath) }

    var allKeys: [Key] { decoder.allKeys(stateIndex).compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        (try? decoder.findEntry(stateIndex, key.stringValue)) != nil
    }

    private func locate(_ error: CodecError, _ key: Key) -> CodecError {
        error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: extraPath, last: .key(key)))
    }

    private func keyNotFound(_ key: Key) -> CodecError {
        locate(CodecError(.keyNotFound, "no entry for key \"\(key.stringValue)\""), key)
    }

    /// Finds `key`'s entry and leaves the cursor at its value.
    @inline(__always)
    private func entry(_ key: Key) throws -> (valueOffset: Int, entryIndex: Int) {
        guard let entry = try decoder.findEntry(stateIndex, key.stringValue) else { throw keyNotFound(key) }
        return entry
    }

    @inline(__always)
    private func decodeEntry<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        do {
            let entry = try entry(key)
            let value = try decoder.decodeValue(T.self, key: key, extraPath: extraPath)
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: decoder.reader.cursor)
            return value
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    @inline(__always)
    private func decodeEntryIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        do {
            guard let entry = try decoder.findEntry(stateIndex, key.stringValue) else { return nil }
            if try decoder.reader.peekByte() == WireTag.null.rawValue {
                decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: entry.valueOffset + 1)
                return nil
            }
            let value = try decoder.decodeValue(T.self, key: key, extraPath: extraPath)
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: decoder.reader.cursor)
            return value
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        do {
            let entry = try entry(key)
            guard try decoder.reader.peekByte() == WireTag.null.rawValue else { return false }
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: entry.valueOffset + 1)
            return true
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeEntry(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeEntry(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeEntry(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeEntry(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeEntry(type, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try decodeEntry(type, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try decodeEntry(type, forKey: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeEntry(type, forKey: key) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? {
        try decodeEntryIfPresent(type, forKey: key)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try decodeEntryIfPresent(type, forKey: key)
    }

    /// Opens the container of `tag` held in `key`'s entry.
    private func nested(
        _ tag: WireTag,
        forKey key: Key
    ) throws -> (header: (count: Int, bodyStart: Int, end: Int), extraPath: [PathComponent]) {
        do {
            let entry = try entry(key)
            let header = try decoder.openNestedContainer(tag)
            decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: header.end)
            return (header, extraPath + [.key(key)])
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (header, nestedPath) = try nested(.keyed, forKey: key)
        return decoder.makeKeyedContainer(header, pathDepth: pathDepth, extraPath: nestedPath)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let (header, nestedPath) = try nested(.unkeyed, forKey: key)
        return BinaryUnkeyedDecodingContainer(
            decoder: decoder,
            nextOffset: header.bodyStart,
            elementCount: header.count,
            pathDepth: pathDepth,
            extraPath: nestedPath
        )
    }

    private func makeSuperDecoder<SuperKey: CodingKey>(
        _ key: SuperKey,
        entry: (valueOffset: Int, entryIndex: Int)
    )
        throws -> any Decoder
    {
        try decoder.reader.skipValue()
        decoder.didConsumeEntry(stateIndex, entry.entryIndex, end: decoder.reader.cursor)
        var childPath = Array(decoder.path.prefix(pathDepth)) + extraPath
        childPath.append(.key(key))
        return decoder.makeChildDecoder(at: entry.valueOffset, path: childPath)
    }

    func superDecoder() throws -> any Decoder {
        let key = BinaryCodingKey.superKey
        do {
            guard let entry = try decoder.findEntry(stateIndex, key.stringValue) else {
                throw CodecError(.keyNotFound, "no entry for key \"super\"")
            }
            return try makeSuperDecoder(key, entry: entry)
        } catch let error as CodecError where !error.isLocated {
            throw error.located(at: decoder.pathDescription(depth: pathDepth, extraPath: extraPath, last: .key(key)))
        }
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        do {
            return try makeSuperDecoder(key, entry: try entry(key))
        } catch let error as CodecError where !error.isLocated {
            throw locate(error, key)
        }
    }
}
