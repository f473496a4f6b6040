/// The `Encoder` handed to `encode(to:)`. One instance serves a whole top-level value: it writes into one growing
/// buffer, and `frame` describes the value currently being encoded (saved and restored around nested values, so no
/// per-value object is allocated).
///
/// A value's container header is written when the value first asks for a container; its length is patched when the
/// value's `encode(to:)` returns. Nested containers and super encoders may be written interleaved with their parent,
/// so each gets its own child encoder and buffer, is counted in the parent at once, and is spliced in at its
/// reserved offset when the owning value finishes.
final class BinaryEncoderImpl: Encoder, ByteSink {
    enum FrameKind: UInt8 {
        case none, keyed, unkeyed, single, singleWritten
    }

    /// The value currently being encoded.
    struct Frame {
        var kind = FrameKind.none
        /// Offset of the container header (valid once `kind` is keyed or unkeyed).
        var header = 0
        /// Children in `pending` at or above this index belong to this value.
        var pendingMark = 0
    }

    // Unchecked exclusivity: these are touched on every value, the dynamic checks cost more than the work, and no
    // access overlaps another (none spans a call into user code).
    /// The output, managed by hand: plain pointer stores are several times cheaper than `Array` appends.
    @exclusivity(unchecked) var bytes: UnsafeMutableRawPointer
    @exclusivity(unchecked) var byteCount = 0
    @exclusivity(unchecked) var byteCapacity: Int
    /// False while `bytes` is storage lent by the caller (the top-level stack buffer).
    private var ownsBytes: Bool
    @exclusivity(unchecked) var path: [PathComponent]
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]
    @exclusivity(unchecked) var frame = Frame()
    /// Child encoders waiting to be spliced in, in the order their slots were reserved.
    @exclusivity(unchecked) var pending: [(offset: Int, child: BinaryEncoderImpl)] = []
    @exclusivity(unchecked) var kindCache = KindCache()

    /// Creates an encoder writing into `storage` until it outgrows it, or into its own memory if `storage` is nil.
    init(
        storage: UnsafeMutableRawBufferPointer?,
        userInfo: [CodingUserInfoKey: any Sendable],
        path: [PathComponent]
    ) {
        if let storage, let base = storage.baseAddress, storage.count > 0 {
            bytes = base
            byteCapacity = storage.count
            ownsBytes = false
        } else {
            byteCapacity = 64
            bytes = .allocate(byteCount: byteCapacity, alignment: 16)
            ownsBytes = true
        }
        sendableUserInfo = userInfo
        self.path = path
    }

    deinit {
        if ownsBytes { bytes.deallocate() }
    }

    var codingPath: [any CodingKey] { path.map(\.codingKey) }
    /// Converted on first use only: most types never look, and converting costs an allocation.
    lazy var userInfo: [CodingUserInfoKey: Any] = erasedUserInfo(sendableUserInfo)

    func codingPath(depth: Int) -> [any CodingKey] { path.prefix(depth).map(\.codingKey) }

    func error(_ code: CodecError.Code, _ context: String) -> CodecError {
        CodecError(code, context, codingPath: path.pathDescription, isLocated: true)
    }

    // MARK: Buffer

    /// The bytes written so far.
    var writtenBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: byteCount) }

    /// Makes room for `count` more bytes and returns where they go.
    @inline(__always)
    private func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        if byteCapacity &- byteCount < count { grow(toFit: count) }
        return bytes + byteCount
    }

    @inline(never)
    private func grow(toFit count: Int) {
        let newCapacity = Swift.max(byteCapacity * 2, byteCount + count)
        let newBytes = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBytes.copyMemory(from: bytes, byteCount: byteCount)
        if ownsBytes { bytes.deallocate() }
        bytes = newBytes
        byteCapacity = newCapacity
        ownsBytes = true
    }

    /// Stops using lent storage, so an Encoder kept by a misbehaving `encode(to:)` can never write into it later.
    func dropBorrowedStorage() {
        guard !ownsBytes else { return }
        byteCount = 0
        byteCapacity = 16
        bytes = .allocate(byteCount: byteCapacity, alignment: 16)
        ownsBytes = true
    }

    @inline(__always)
    func appendByte(_ byte: UInt8) {
        reserve(1).storeBytes(of: byte, as: UInt8.self)
        byteCount &+= 1
    }

    @inline(__always)
    func appendBytes(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        reserve(source.count).copyMemory(from: base, byteCount: source.count)
        byteCount &+= source.count
    }

    @inline(__always)
    func appendTagged(_ tag: WireTag, bits: UInt64, byteCount count: Int) {
        // Stores all eight bytes and keeps the low `count`: one bounds check, two stores.
        let target = reserve(9)
        target.storeBytes(of: tag.rawValue, as: UInt8.self)
        (target + 1).storeBytes(of: bits.littleEndian, as: UInt64.self)
        byteCount &+= 1 &+ count
    }

    @inline(__always)
    func appendVarint(_ value: UInt64) {
        let target = reserve(10)
        var value = value
        var offset = 0
        while value >= 0x80 {
            target.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: offset, as: UInt8.self)
            value >>= 7
            offset &+= 1
        }
        target.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: offset, as: UInt8.self)
        byteCount &+= offset &+ 1
    }

    /// Appends a key: varint UTF-8 byte count and the bytes.
    @inline(__always)
    func appendKey(_ key: String) {
        var sink = self
        sink.appendStringBody(key)
    }

    /// Appends a container header with zero length and count, to be patched later; returns its offset.
    @inline(__always)
    func appendContainerHeader(_ tag: WireTag) -> Int {
        let header = byteCount
        let target = reserve(ContainerHeader.size)
        target.storeBytes(of: tag.rawValue, as: UInt8.self)
        (target + ContainerHeader.lengthOffset).storeBytes(of: UInt64(0), as: UInt64.self)
        (target + ContainerHeader.countOffset).storeBytes(of: UInt32(0), as: UInt32.self)
        byteCount &+= ContainerHeader.size
        return header
    }

    /// Appends a container header that already holds its final entry count (for containers the codec writes
    /// itself) and returns its offset.
    func appendContainerHeader(_ tag: WireTag, count: Int) throws -> Int {
        guard count <= UInt32.max else {
            throw error(.unsupported, "a container cannot hold more than \(UInt32.max) entries")
        }
        let header = appendContainerHeader(tag)
        storeUInt32(UInt32(count), at: header + ContainerHeader.countOffset)
        return header
    }

    @inline(__always)
    func storeUInt32(_ value: UInt32, at offset: Int) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func loadUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Writes the final length into the container header at `header`, whose contents end at the buffer's end.
    @inline(__always)
    func patchLength(_ header: Int) {
        let length = UInt64(byteCount - header - ContainerHeader.countOffset)
        bytes.storeBytes(of: length.littleEndian, toByteOffset: header + ContainerHeader.lengthOffset, as: UInt64.self)
    }

    /// Inserts `source` at `offset`, moving what follows.
    func insertBytes(_ source: UnsafeRawBufferPointer, at offset: Int) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        _ = reserve(source.count)
        (bytes + offset + source.count).copyMemory(from: bytes + offset, byteCount: byteCount - offset)
        (bytes + offset).copyMemory(from: base, byteCount: source.count)
        byteCount += source.count
    }

    // MARK: Values

    /// The kind of `T`: primitives are recognised inline, other types through the cache.
    @inline(__always)
    func kind<T>(of type: T.Type) -> ValueKind {
        let kind = ValueKind(primitive: T.self)
        return kind.isPrimitive ? kind : nonPrimitiveKind(T.self)
    }

    private func nonPrimitiveKind<T>(_ type: T.Type) -> ValueKind {
        let id = ObjectIdentifier(T.self)
        if let kind = kindCache.lookUp(id) { return kind }
        let kind = ValueKind.classify(T.self)
        kindCache.insert(id, kind)
        return kind
    }

    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T) throws {
        let kind = kind(of: T.self)
        var sink = self
        if writeDirectly(value, kind, into: &sink) { return }
        try encodeIndirectly(value, kind, component: nil)
    }

    @inline(__always)
    func encodeValue<T: Encodable, Key: CodingKey>(_ value: T, key: Key) throws {
        let kind = kind(of: T.self)
        var sink = self
        if writeDirectly(value, kind, into: &sink) { return }
        try encodeIndirectly(value, kind, component: .key(key))
    }

    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T, index: Int) throws {
        let kind = kind(of: T.self)
        var sink = self
        if writeDirectly(value, kind, into: &sink) { return }
        try encodeIndirectly(value, kind, component: .index(index))
    }

    /// Encodes a value that needs the Encoder: through the codec's own loop for arrays, string-keyed dictionaries
    /// and optionals, otherwise by calling `value.encode(to: self)` in a fresh frame and then closing whatever
    /// container the value opened. On error, whatever the value wrote is dropped.
    func encodeIndirectly<T: Encodable>(_ value: T, _ kind: ValueKind, component: PathComponent?) throws {
        if let component { path.append(component) }
        defer { if component != nil { path.removeLast() } }
        let start = byteCount
        if case .byCodec(let codecType) = kind {
            do {
                try codecType.encodeByCodec(value, to: self)
            } catch {
                byteCount = start
                throw error
            }
            return
        }
        let savedFrame = frame
        frame = Frame(kind: .none, header: start, pendingMark: pending.count)
        defer { frame = savedFrame }
        do {
            try value.encode(to: self)
            try finishFrame()
        } catch {
            // Dropping the failed value's bytes keeps the buffer well-formed for a caller that catches the error.
            byteCount = start
            if pending.count > frame.pendingMark { pending.removeLast(pending.count - frame.pendingMark) }
            throw error
        }
    }

    /// Completes the current value: splices in its pending children and patches its container length, or writes
    /// the empty tag if it wrote nothing at all.
    func finishFrame() throws {
        switch frame.kind {
        case .none, .single:
            appendByte(WireTag.empty.rawValue)
        case .singleWritten:
            break
        case .keyed, .unkeyed:
            // Reverse order keeps the earlier reserved offsets valid while later ones are filled.
            while pending.count > frame.pendingMark {
                let (offset, child) = pending.removeLast()
                try child.finishFrame()
                insertBytes(child.writtenBytes, at: offset)
            }
            patchLength(frame.header)
        }
    }

    // MARK: Containers

    /// Returns the header offset of the current value's container of `kind`, writing the header on first use.
    func openContainer(_ kind: FrameKind) -> Int {
        if frame.kind == kind { return frame.header }
        precondition(
            frame.kind == .none,
            "BinaryEncoder: a value asked for a \(kind) container after using a \(frame.kind) container; "
                + "one value must use a single kind of container"
        )
        frame.kind = kind
        frame.header = appendContainerHeader(kind == .keyed ? .keyed : .unkeyed)
        return frame.header
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let header = openContainer(.keyed)
        return KeyedEncodingContainer(
            BinaryKeyedEncodingContainer<Key>(
                encoder: self,
                header: header,
                pathDepth: path.count
            )
        )
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let header = openContainer(.unkeyed)
        return BinaryUnkeyedEncodingContainer(encoder: self, header: header, pathDepth: path.count)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if frame.kind == .none { frame.kind = .single }
        precondition(
            frame.kind == .single || frame.kind == .singleWritten,
            "BinaryEncoder: a value asked for a single-value container after using a \(frame.kind) container"
        )
        return BinarySingleValueEncodingContainer(encoder: self, pathDepth: path.count)
    }

    // MARK: Entries

    /// Counts one more entry in the container at `header` and returns the entry's index.
    @inline(__always)
    func addEntry(_ header: Int) throws -> Int {
        let offset = header + ContainerHeader.countOffset
        let count = loadUInt32(at: offset)
        guard count < UInt32.max else {
            throw error(.unsupported, "a container cannot hold more than \(UInt32.max) entries")
        }
        storeUInt32(count + 1, at: offset)
        return Int(count)
    }

    /// Undoes `addEntry` and drops the bytes written from `mark` on, after the entry's value failed.
    func removeEntry(_ header: Int, truncatingTo mark: Int) {
        byteCount = mark
        let offset = header + ContainerHeader.countOffset
        storeUInt32(loadUInt32(at: offset) - 1, at: offset)
    }

    /// Reserves an entry for a child encoder (nested container or super encoder) whose bytes are spliced in when
    /// the current value finishes.
    func reserveChild(header: Int, key: String?, pathDepth: Int, component: PathComponent) -> BinaryEncoderImpl {
        do {
            _ = try addEntry(header)
        } catch {
            // The Encoder API offers no way to throw here.
            preconditionFailure("\(error)")
        }
        if let key { appendKey(key) }
        var childPath = Array(path.prefix(pathDepth))
        childPath.append(component)
        let child = BinaryEncoderImpl(storage: nil, userInfo: sendableUserInfo, path: childPath)
        pending.append((byteCount, child))
        return child
    }
}
