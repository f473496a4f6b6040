import SystemPackage

/// Async variants: the same calls, suspending instead of blocking. A wait holds no thread: the
/// task registers the socket with the library's event loop and is resumed when the socket is
/// ready (see `EventLoop`). Cancelling the awaiting task ends a wait for data at once with
/// `CancellationError`, and nothing already received is lost.
///
/// - Important: Do not mix a blocking `receive(_:)` on one thread with an async receive on the
///   same connection at the same time: the blocking call holds the reader while it waits.
extension Connection {
    /// Sends one value, suspending while the peer's buffer is full. See `send(_:)`.
    ///
    /// A frame that carries descriptors (a ``Connection`` inside the value) is written at once.
    public func send<Value: Encodable & Sendable>(_ value: Value) async throws {
        let maximumPayload = maximumFrameSize
        try await sendSuspending { try $0.appendFrame(for: value, maximumPayload: maximumPayload) }
    }

    /// Sends raw bytes as one frame, suspending while the peer's buffer is full. See `sendBytes(_:)-(UnsafeRawBufferPointer)`.
    public func sendBytes(_ bytes: [UInt8]) async throws {
        guard bytes.count <= maximumFrameSize else {
            throw ConnectionError(.frameTooLarge, "sending \(bytes.count) bytes; the maximum is \(maximumFrameSize)")
        }
        try await sendSuspending { writer in bytes.withUnsafeBytes { writer.appendRawFrame($0) } }
    }

    /// Receives the next value, suspending until it arrives. See `receive(_:)`.
    ///
    /// - Throws: As `receive(_:)`, and `CancellationError` if the task is cancelled while waiting.
    public func receive<Value: Decodable & Sendable>(_ type: Value.Type = Value.self) async throws -> Value {
        try await receiveSuspending { try receiveValue(type, wait: false) }
    }

    /// Receives the next frame's bytes, suspending until they arrive. See `receiveBytes()`.
    public func receiveBytes() async throws -> [UInt8] {
        try await receiveSuspending { try receiveBytes(wait: false) }
    }

    /// Suspends until a frame or end of stream can be read, or `timeout` passes. See `poll(timeout:)`.
    ///
    /// - Returns: Whether something can be read now; false when `timeout` passed first.
    public func poll(timeout: Duration?) async throws -> Bool {
        let deadline = Deadline(timeout: timeout)
        while true {
            if try pollImmediately() { return true }
            guard let fd = descriptor?.rawValue else { throw ConnectionError(.closed, "poll on a closed connection") }
            let ready = try await waitOnEventLoop([.init(fd: fd, readiness: .readable)], until: deadline.instant)
            if ready.isEmpty { return false }
        }
    }
}
