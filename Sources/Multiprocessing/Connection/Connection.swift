public import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// One end of a two-way (or one-way) channel between processes: Python's `multiprocessing.Connection`.
///
/// Values are sent as length-prefixed frames of the binary codec over a Unix stream socket. Reads
/// are buffered, so many small frames cost one system call; ``send(contentsOf:)`` batches writes
/// the same way. Descriptors travel with a frame (`SCM_RIGHTS`), so a value that holds a
/// `Connection` can itself be sent, and a ``ChildProcess`` can be handed one in its task.
///
/// ```swift
/// let (parent, child) = try Connection.pipe()
/// try child.send([1, 2, 3])
/// let numbers = try parent.receive([Int].self)
/// ```
///
/// A `Connection` may be used from several threads: sends are serialized with each other, and
/// receives with each other, but a send and a receive may run at the same time.
///
/// - Important: A peer that closed its end or died makes `receive(_:)` throw
///   ``ConnectionError/Code-swift.struct/endOfStream`` (never hang), and `send(_:)` throw the same
///   code (never `SIGPIPE`).
public final class Connection: Sendable {
    /// The largest payload accepted by default: 1 GiB.
    public static let defaultMaximumFrameSize = 1 << 30

    /// The largest frame payload this end sends or accepts. A larger incoming frame throws
    /// ``ConnectionError/Code-swift.struct/frameTooLarge`` before anything is allocated for it.
    public let maximumFrameSize: Int
    /// Whether this end can receive.
    public let isReadable: Bool
    /// Whether this end can send.
    public let isWritable: Bool

    private let reader: ProtectedState<FrameReader>
    private let writer: ProtectedState<FrameWriter>
    private let descriptorState: ProtectedState<CInt>

    // MARK: - Creating connections

    /// Creates a connected pair: Python's `multiprocessing.Pipe(duplex)`.
    ///
    /// ```swift
    /// let (parentEnd, childEnd) = try Connection.pipe()
    /// let pipe = try Connection.pipe(duplex: false)   // pipe.readEnd receives, pipe.writeEnd sends
    /// ```
    ///
    /// - Parameters:
    ///   - duplex: With `true` (the default) both ends send and receive. With `false` the first end
    ///     only receives and the second only sends, as in Python.
    ///   - maximumFrameSize: The largest payload either end accepts.
    /// - Returns: The two ends, labelled for the one-way case; both are close-on-exec. Give one to a
    ///   child through its task.
    /// - Throws: ``ConnectionError/Code-swift.struct/systemCallFailed`` (`EMFILE`, `ENFILE`).
    public static func pipe(
        duplex: Bool = true,
        maximumFrameSize: Int = defaultMaximumFrameSize
    ) throws(ConnectionError) -> (readEnd: Connection, writeEnd: Connection) {
        let fds: (CInt, CInt)
        do { fds = try system_socketpair() } catch { throw ConnectionError(error, "creating a pipe") }
        if !duplex {
            // A one-way pipe over a socket, so that writes can refuse SIGPIPE (MSG_NOSIGNAL).
            do {
                try system_shutdown(fds.0, CInt(SHUT_WR))
                try system_shutdown(fds.1, CInt(SHUT_RD))
            } catch {
                system_close(fds.0)
                system_close(fds.1)
                throw ConnectionError(error, "creating a one-way pipe")
            }
        }
        return (
            Connection(adopting: fds.0, readable: true, writable: duplex, maximumFrameSize: maximumFrameSize),
            Connection(adopting: fds.1, readable: duplex, writable: true, maximumFrameSize: maximumFrameSize)
        )
    }

    /// Wraps a connected Unix stream socket. The connection owns it from now on and closes it.
    public convenience init(adopting descriptor: FileDescriptor, maximumFrameSize: Int = defaultMaximumFrameSize) {
        self.init(adopting: descriptor.rawValue, readable: true, writable: true, maximumFrameSize: maximumFrameSize)
    }

    init(adopting fd: CInt, readable: Bool, writable: Bool, maximumFrameSize: Int) {
        precondition(maximumFrameSize > 0, "maximumFrameSize must be positive")
        self.maximumFrameSize = min(maximumFrameSize, FrameFormat.largestPayload)
        isReadable = readable
        isWritable = writable
        descriptorState = ProtectedState(fd)
        reader = ProtectedState(FrameReader(fd: fd))
        writer = ProtectedState(FrameWriter(fd: fd))
    }

    deinit {
        close()
    }

    /// The underlying socket, or `nil` once closed.
    public var descriptor: FileDescriptor? {
        descriptorState.withLock { $0 >= 0 ? FileDescriptor(rawValue: $0) : nil }
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { descriptorState.withLock { $0 < 0 } }

    /// Closes this end. The peer then sees end of stream once it has read what was sent.
    ///
    /// Waits for a send or receive in progress on another thread to finish. Closing twice is harmless.
    /// Python's `Connection.close()`.
    public func close() {
        reader.withLock { reader in
            writer.withLock { writer in
                descriptorState.withLock { fd in
                    guard fd >= 0 else { return }
                    // Async waiters on this descriptor wake up and find it closed.
                    EventLoop.forgetIfRunning(fd)
                    system_close(fd)
                    reader.discardDescriptors()
                    writer.discardPending()
                    fd = -1
                    reader.fd = -1
                    writer.fd = -1
                }
            }
        }
    }

    // MARK: - Sending

    /// Sends one value: Python's `Connection.send(obj)`.
    ///
    /// One frame, written at once with one system call (more only if the socket buffer is full).
    /// - Throws: ``ConnectionError`` with `.endOfStream` (peer gone), `.frameTooLarge`, `.closed`;
    ///   the encoder's error if the value cannot be encoded. Nothing is sent when it throws before writing.
    public func send<Value: Encodable>(_ value: Value) throws {
        try checkWritable()
        try writer.withLock { writer in
            try writer.appendFrame(for: value, maximumPayload: maximumFrameSize)
            try writer.flush()
        }
    }

    /// Sends `first` and `second` as two frames in one write, or neither if one cannot be encoded
    /// (then it throws `FramePairNotEncoded`): a worker's request and its task. `first` must carry
    /// no descriptor.
    func sendPair<First: Encodable, Second: Encodable>(_ first: First, _ second: Second) throws {
        try checkWritable()
        try writer.withLock { writer in
            try writer.appendFramePair(first, second, maximumPayload: maximumFrameSize)
            try writer.flush()
        }
    }

    /// ``sendPair(_:_:)``, suspending while the peer's buffer is full.
    func sendPair<First: Encodable, Second: Encodable>(_ first: First, _ second: Second) async throws {
        let maximumPayload = maximumFrameSize
        try await sendSuspending { try $0.appendFramePair(first, second, maximumPayload: maximumPayload) }
    }

    /// Sends each value as its own frame, batching the writes into few system calls.
    ///
    /// The receiver gets them one by one with `receive(_:)`. This is what makes many small
    /// messages cheap: one system call per 64 KiB instead of one per message.
    /// - Throws: As `send(_:)`. If it throws mid-way, the values before the failing one may have
    ///   been sent.
    @inlinable
    public func send<Values: Sequence>(contentsOf values: Values) throws where Values.Element: Encodable {
        // Inlinable so the loop is specialized for the caller's sequence: iterating a sequence through
        // its protocol witnesses cost more than encoding and framing a small value (measured).
        try withFrameBatch { batch in
            for value in values { try batch.append(value) }
        }
    }

    /// Runs `body` with the writer locked; frames it appends are written in 64 KiB batches and
    /// flushed at the end.
    @usableFromInline
    func withFrameBatch(_ body: (inout FrameBatch) throws -> Void) throws {
        try checkWritable()
        let maximumPayload = maximumFrameSize
        try writer.withLock { writer in
            try withUnsafeMutablePointer(to: &writer) { pointer in
                var batch = FrameBatch(writer: pointer, maximumPayload: maximumPayload)
                try body(&batch)
                try pointer.pointee.flush()
            }
        }
    }

    /// Sends raw bytes as one frame: Python's `Connection.send_bytes(buffer)`.
    ///
    /// Large payloads are written straight from `bytes` (header and payload in one `sendmsg`),
    /// without an intermediate copy.
    public func sendBytes(_ bytes: UnsafeRawBufferPointer) throws {
        try checkWritable()
        guard bytes.count <= maximumFrameSize else {
            throw ConnectionError(.frameTooLarge, "sending \(bytes.count) bytes; the maximum is \(maximumFrameSize)")
        }
        try writer.withLock { writer in try writer.sendRaw(bytes) }
    }

    /// Sends raw bytes as one frame: Python's `Connection.send_bytes(buffer)`.
    public func sendBytes(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sendBytes($0) }
    }

    /// Sends descriptors to the peer: Python's `multiprocessing.reduction.send_handle`.
    ///
    /// The peer receives duplicates with ``receiveDescriptors()``; this process keeps its own.
    public func send(descriptors: [FileDescriptor]) throws {
        try send(DescriptorList(descriptors: descriptors.map(\.rawValue)))
    }

    // MARK: - Receiving

    /// Receives the next value, waiting for it: Python's `Connection.recv()`.
    ///
    /// - Throws: ``ConnectionError`` `.endOfStream` when the peer closed or died (also in the middle
    ///   of a frame), `.frameTooLarge`, `.malformedFrame`, `.closed`; ``CodecError`` when the frame
    ///   does not decode as `Value` (the frame is consumed either way, so the next call reads the
    ///   next frame).
    public func receive<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try receiveValue(type, wait: true)
    }

    /// The value of the next frame; with `wait: false`, throws ``FrameNotReady`` when no whole
    /// frame is there yet.
    func receiveValue<Value: Decodable>(_ type: Value.Type, wait: Bool) throws -> Value {
        try checkReadable()
        return try reader.withLock { reader in
            try reader.receiveFrame(maximumPayload: maximumFrameSize, wait: wait) { payload, carrier in
                var decoder = BinaryDecoder()
                if let carrier { decoder.userInfo[DescriptorCarrier.userInfoKey] = carrier }
                return try decoder.decode(type, from: payload)
            }
        }
    }

    /// Receives the next value and every further value already buffered, up to `maximumCount`.
    ///
    /// Waits only for the first value. The rest cost no system call and share one lock, which is
    /// what makes a stream of small messages cheap on the receiving side (the counterpart of
    /// ``send(contentsOf:)``). Python has no equivalent; calling `receive(_:)` in a loop gives the
    /// same values.
    ///
    /// - Throws: As `receive(_:)`. When a later frame of the batch fails to decode, the values before
    ///   it are returned and the error is thrown by the next receive, so nothing decoded is lost.
    public func receiveBatch<Value: Decodable>(
        _ type: Value.Type = Value.self,
        maximumCount: Int = 1024
    ) throws -> [Value] {
        precondition(maximumCount > 0, "maximumCount must be positive")
        try checkReadable()
        let maximumFrameSize = maximumFrameSize
        return try reader.withLock { reader in
            var decoder = BinaryDecoder()
            let decode = { (payload: UnsafeRawBufferPointer, carrier: DescriptorCarrier?) throws -> Value in
                if let carrier { decoder.userInfo[DescriptorCarrier.userInfoKey] = carrier }
                defer { if carrier != nil { decoder.userInfo = [:] } }
                return try decoder.decode(type, from: payload)
            }
            var values = [try reader.receiveFrame(maximumPayload: maximumFrameSize, decode)]
            while values.count < maximumCount && reader.hasCompleteFrame(maximumPayload: maximumFrameSize) {
                do {
                    values.append(try reader.receiveFrame(maximumPayload: maximumFrameSize, decode))
                } catch {
                    reader.deferredError = error
                    break
                }
            }
            return values
        }
    }

    /// Receives the next frame's bytes: Python's `Connection.recv_bytes()`.
    public func receiveBytes() throws -> [UInt8] {
        try receiveBytes(wait: true)
    }

    /// The bytes of the next frame; with `wait: false`, throws ``FrameNotReady`` when no whole
    /// frame is there yet.
    func receiveBytes(wait: Bool) throws -> [UInt8] {
        try checkReadable()
        return try reader.withLock { reader in
            try reader.receiveFrame(maximumPayload: maximumFrameSize, wait: wait) { payload, carrier in
                carrier?.closeUnclaimed()
                return [UInt8](copying: payload)
            }
        }
    }

    /// Receives the next frame's bytes into `buffer`: Python's `Connection.recv_bytes_into`.
    ///
    /// - Returns: The number of bytes written.
    /// - Throws: ``ConnectionError/Code-swift.struct/frameTooLarge`` if the frame does not fit; the
    ///   frame is then left unread, so a larger buffer can take it.
    public func receiveBytes(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkReadable()
        return try reader.withLock { reader in
            try reader.receiveFrame(maximumPayload: maximumFrameSize, fitting: buffer.count) { payload, carrier in
                carrier?.closeUnclaimed()
                buffer.copyMemory(from: payload)
                return payload.count
            }
        }
    }

    /// The next frame if it has fully arrived, into `buffer`, without waiting; a header announcing
    /// more than `buffer` holds is refused at once. For handshakes with peers not yet trusted.
    ///
    /// - Throws: `FrameNotReady` when the frame is not complete yet; ``ConnectionError``.
    func receiveSmallFrame(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkReadable()
        return try reader.withLock { reader in
            try reader.receiveFrame(maximumPayload: buffer.count, fitting: buffer.count, wait: false) {
                payload,
                carrier in
                carrier?.closeUnclaimed()
                buffer.copyMemory(from: payload)
                return payload.count
            }
        }
    }

    /// Receives descriptors sent with ``send(descriptors:)``: Python's `recv_handle`.
    ///
    /// The caller owns them (close-on-exec).
    public func receiveDescriptors() throws -> [FileDescriptor] {
        try receive(DescriptorList.self).descriptors.map(FileDescriptor.init(rawValue:))
    }

    /// Whether a frame (or end of stream) can be read without waiting: Python's `Connection.poll(timeout)`.
    ///
    /// - Parameter timeout: How long to wait; `.zero` (the default) does not wait, `nil` waits forever.
    public func poll(timeout: Duration? = .zero) throws -> Bool {
        try checkReadable()
        return try reader.withLock { reader in try reader.waitUntilReadable(Deadline(timeout: timeout)) }
    }

    // MARK: - Internal

    /// Shuts down this end's sending direction (`shutdown(SHUT_WR)`): the peer reads what was sent,
    /// then end of stream, while this end can still receive. Used to tell a worker "no more tasks".
    func finishSending() throws {
        try writer.withLock { writer in
            try writer.flush()
            guard writer.fd >= 0 else { return }
            do throws(SystemCallError) { try system_shutdown(writer.fd, CInt(SHUT_WR)) } catch {
                throw ConnectionError(error, "shutting down fd \(writer.fd)")
            }
        }
    }

    /// The read buffer's size now, for tests that check what a hostile peer can make it hold.
    var readBufferCapacity: Int { reader.withLock { $0.bufferCapacity } }

    /// Received descriptors not yet claimed by a frame, for the same tests.
    var queuedDescriptorCount: Int { reader.withLock { $0.queuedDescriptorCount } }

    /// `poll(timeout:)` with no wait, callable from async code without picking the async overload.
    func pollImmediately() throws -> Bool { try poll(timeout: .zero) }

    /// Whether a receive would return without waiting for the socket: a frame, an error or end of
    /// stream is already buffered here.
    var hasBufferedInput: Bool { reader.withLock { $0.hasBufferedInput } }

    /// Sends the frame `append` adds without blocking while the socket is full: the frame is queued in order and
    /// written as the socket drains, and the caller suspends on the event loop meanwhile. Returns
    /// when the frame is written. Once queued, a frame is written whole even if the task is
    /// cancelled, so the peer never sees half a frame.
    func sendSuspending(_ append: (inout FrameWriter) throws -> Void) async throws {
        try checkWritable()
        var target: UInt64 = 0
        var isQueued = false
        while true {
            let isWritten: Bool = try writer.withLock { writer in
                if !isQueued {
                    try append(&writer)
                    target = writer.streamEnd
                    isQueued = true
                }
                if writer.writtenTotal >= target { return true }
                _ = try writer.flushAvailable()
                return writer.writtenTotal >= target
            }
            if isWritten { return }
            guard let fd = descriptor?.rawValue else { throw ConnectionError(.closed, "send on a closed connection") }
            _ = try await waitOnEventLoop([.init(fd: fd, readiness: .writable)], cancellable: false)
        }
    }

    /// Waits on the event loop for this connection's socket, reporting a refused registration as a
    /// ``ConnectionError`` (`EBADF`: closed meanwhile, so `.closed`). A close that races the arm
    /// ends the wait, so the caller retries and meets the closed state.
    func waitOnEventLoop(
        _ interests: [EventLoop.Interest],
        until deadline: ContinuousClock.Instant? = nil,
        cancellable: Bool = true
    ) async throws -> [Int] {
        do {
            return try await EventLoop.shared.wait(
                for: interests,
                until: deadline,
                cancellable: cancellable,
                isStillValid: { [self] in !isClosed }
            )
        } catch let error as SystemCallError {
            throw ConnectionError(error, "waiting on the connection's socket")
        }
    }

    /// Runs `attempt` until it does not throw ``FrameNotReady``, suspending on the event loop while the socket has
    /// nothing to read. Cancelling the task ends the wait with `CancellationError`; bytes already
    /// read stay buffered for the next receive.
    func receiveSuspending<Result>(_ attempt: () throws -> Result) async throws -> Result {
        while true {
            try Task.checkCancellation()
            do { return try attempt() } catch is FrameNotReady {}
            guard let fd = descriptor?.rawValue else {
                throw ConnectionError(.closed, "receive on a closed connection")
            }
            _ = try await waitOnEventLoop([.init(fd: fd, readiness: .readable)])
        }
    }

    private func checkReadable() throws(ConnectionError) {
        guard isReadable else { throw ConnectionError(.closed, "this end of a one-way pipe only sends") }
    }

    private func checkWritable() throws(ConnectionError) {
        guard isWritable else { throw ConnectionError(.closed, "this end of a one-way pipe only receives") }
    }
}

/// The frames of one ``Connection/send(contentsOf:)`` call, appended while the writer is locked.
@usableFromInline
struct FrameBatch {
    private let writer: UnsafeMutablePointer<FrameWriter>
    private let maximumPayload: Int

    init(writer: UnsafeMutablePointer<FrameWriter>, maximumPayload: Int) {
        self.writer = writer
        self.maximumPayload = maximumPayload
    }

    @usableFromInline
    mutating func append<Value: Encodable>(_ value: Value) throws {
        try writer.pointee.appendFrame(for: value, maximumPayload: maximumPayload)
        if writer.pointee.pendingByteCount >= FrameWriter.batchSize { try writer.pointee.flush() }
    }
}

/// The payload of ``Connection/send(descriptors:)``: each descriptor goes through the carrier.
private struct DescriptorList: Codable {
    var descriptors: [CInt]

    init(descriptors: [CInt]) { self.descriptors = descriptors }

    init(from decoder: any Decoder) throws {
        guard let carrier = decoder.userInfo[DescriptorCarrier.userInfoKey] as? DescriptorCarrier else {
            throw ConnectionError(.descriptorMismatch, "descriptors can only be received from a Connection")
        }
        let indices = try [Int](from: decoder)
        descriptors = try indices.map { try carrier.claim($0) }
    }

    func encode(to encoder: any Encoder) throws {
        guard let carrier = encoder.userInfo[DescriptorCarrier.userInfoKey] as? DescriptorCarrier else {
            throw ConnectionError(.descriptorMismatch, "descriptors can only be sent through a Connection")
        }
        try descriptors.map { try carrier.append($0) }.encode(to: encoder)
    }
}
