import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The sending half of a ``Connection``: frames are encoded straight into one buffer, which is
/// written with as few system calls as possible.
struct FrameWriter {
    /// ``Connection/send(contentsOf:)`` writes whenever this much is pending.
    static let batchSize = 64 * 1024
    /// Payloads at least this large are written from the caller's memory instead of being copied.
    static let directWriteThreshold = 16 * 1024

    var fd: CInt
    private var buffer: [UInt8] = []
    /// Bytes at the front of `buffer` already written: a non-blocking flush stopped part-way.
    private var sentCount = 0
    /// Bytes ever written to the socket, so an async sender can tell when its frame is out.
    private(set) var writtenTotal: UInt64 = 0
    /// The error that broke the stream, thrown again by every later send. After a failed write the
    /// peer may hold part of a frame, so nothing more can be sent; and an async sender whose frame
    /// was dropped with the buffer learns it here instead of waiting for bytes that never go out.
    private(set) var failure: ConnectionError?
    private var encoder = BinaryEncoder()
    private let carrier = DescriptorCarrier()

    init(fd: CInt) {
        self.fd = fd
        encoder.userInfo[DescriptorCarrier.userInfoKey] = carrier
    }

    var pendingByteCount: Int { buffer.count - sentCount }

    /// The stream position just past the last byte appended.
    var streamEnd: UInt64 { writtenTotal + UInt64(pendingByteCount) }

    /// Encodes `value` as one frame at the end of the buffer. A frame that carries descriptors is
    /// sent at once (after what was pending), because its descriptors ride on its first byte.
    /// Nothing is appended when encoding throws.
    mutating func appendFrame<Value: Encodable>(for value: Value, maximumPayload: Int) throws {
        try checkUsable()
        let (frameStart, descriptorCount) = try encodeFrame(for: value, maximumPayload: maximumPayload)
        if descriptorCount > 0 {
            try sendWithDescriptors(frameStart: frameStart, descriptors: carrier.descriptors)
        }
    }

    /// Appends `first` (which carries no descriptor) and `second` as two frames, or neither: when
    /// either cannot be encoded, nothing stays in the buffer, so the peer never reads one without
    /// the other (a worker's request and its task).
    ///
    /// - Throws: ``FramePairNotEncoded`` when a value cannot be encoded (nothing was sent); the
    ///   connection's errors when the write fails.
    mutating func appendFramePair<First: Encodable, Second: Encodable>(
        _ first: First,
        _ second: Second,
        maximumPayload: Int
    ) throws {
        try checkUsable()
        let mark = buffer.count
        let frameStart: Int
        let descriptorCount: Int
        do {
            let firstFrame = try encodeFrame(for: first, maximumPayload: maximumPayload)
            precondition(firstFrame.descriptorCount == 0, "the first frame of a pair carries no descriptor")
            (frameStart, descriptorCount) = try encodeFrame(for: second, maximumPayload: maximumPayload)
        } catch {
            if buffer.count > mark { buffer.removeSubrange(mark...) }
            throw FramePairNotEncoded(underlying: error)
        }
        if descriptorCount > 0 {
            try sendWithDescriptors(frameStart: frameStart, descriptors: carrier.descriptors)
        }
    }

    /// Encodes `value` as a frame at the end of the buffer and returns where it starts and how many
    /// descriptors it collected; nothing is left in the buffer when it throws.
    private mutating func encodeFrame<Value: Encodable>(
        for value: Value,
        maximumPayload: Int
    ) throws -> (frameStart: Int, descriptorCount: Int) {
        let frameStart = reserveHeader()
        if !carrier.descriptors.isEmpty { carrier.reset() }
        do {
            try encoder.encode(value, into: &buffer)
        } catch {
            buffer.removeSubrange(frameStart...)
            throw error
        }
        let payloadLength = buffer.count - frameStart - FrameFormat.reservedHeaderLength
        guard payloadLength <= maximumPayload else {
            buffer.removeSubrange(frameStart...)
            throw ConnectionError(.frameTooLarge, "a \(payloadLength)-byte value; the maximum is \(maximumPayload)")
        }
        let descriptorCount = carrier.descriptors.count
        FrameFormat.writeHeader(
            in: &buffer,
            frameStart: frameStart,
            payloadLength: payloadLength,
            descriptorCount: descriptorCount
        )
        return (frameStart, descriptorCount)
    }

    /// Writes everything pending, blocking while the socket is full.
    mutating func flush() throws {
        guard pendingByteCount > 0 else { return }
        try checkUsable()
        defer { resetBuffer() }
        let (fd, sentCount) = (fd, sentCount)
        do {
            try buffer.withUnsafeBytes { try Self.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[sentCount...])) }
        } catch let error as ConnectionError {
            failure = error
            throw error
        }
        writtenTotal += UInt64(pendingByteCount)
    }

    /// Writes what the socket takes now without blocking (`MSG_DONTWAIT`). Returns whether
    /// everything pending was written; the rest stays buffered, in order, for the next flush.
    mutating func flushAvailable() throws -> Bool {
        let fd = fd
        try checkUsable()
        while pendingByteCount > 0 {
            let sentCount = sentCount
            let sent: Int
            do {
                sent = try buffer.withUnsafeBytes { bytes in
                    try system_send(fd, UnsafeRawBufferPointer(rebasing: bytes[sentCount...]), nonBlocking: true)
                }
            } catch let error as SystemCallError where error.wouldBlock {
                return false
            } catch let error as SystemCallError {
                failure = ConnectionError(error, "sending on fd \(fd)")
                resetBuffer()
                throw failure!
            }
            self.sentCount += sent
            writtenTotal += UInt64(sent)
        }
        resetBuffer()
        return true
    }

    /// Sends `bytes` as one frame after whatever is pending.
    mutating func sendRaw(_ bytes: UnsafeRawBufferPointer) throws {
        try checkUsable()
        let frameStart = reserveHeader()
        FrameFormat.writeHeader(in: &buffer, frameStart: frameStart, payloadLength: bytes.count, descriptorCount: 0)
        if bytes.count < Self.directWriteThreshold {
            buffer.append(contentsOf: bytes)
            try flush()
            return
        }
        try flush()
        let fd = fd
        do { try Self.sendAll(fd, bytes) } catch let error as ConnectionError {
            failure = error
            throw error
        }
        writtenTotal += UInt64(bytes.count)
    }

    /// Appends `bytes` as one frame without writing it.
    mutating func appendRawFrame(_ bytes: UnsafeRawBufferPointer) {
        let frameStart = reserveHeader()
        FrameFormat.writeHeader(in: &buffer, frameStart: frameStart, payloadLength: bytes.count, descriptorCount: 0)
        buffer.append(contentsOf: bytes)
    }

    private func checkUsable() throws {
        guard fd >= 0 else { throw ConnectionError(.closed, "send on a closed connection") }
        if let failure { throw failure }
    }

    /// Drops everything pending (the connection is closing).
    mutating func discardPending() { resetBuffer() }

    private mutating func resetBuffer() {
        sentCount = 0
        if buffer.capacity > FrameReader.retainedCapacity {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Appends room for a frame header and returns where the frame starts. Four single appends:
    /// appending a generic collection costs more than the small value that follows.
    private mutating func reserveHeader() -> Int {
        let frameStart = buffer.count
        for _ in 0..<FrameFormat.reservedHeaderLength { buffer.append(0) }
        return frameStart
    }

    private mutating func sendWithDescriptors(frameStart: Int, descriptors: [CInt]) throws {
        let (fd, sentCount) = (fd, sentCount)
        defer { resetBuffer() }
        // What was queued before this frame goes out first (a failure there breaks the stream).
        do {
            try buffer.withUnsafeBytes {
                try Self.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[sentCount..<frameStart]))
            }
        } catch let error as ConnectionError {
            failure = error
            throw error
        }
        writtenTotal += UInt64(frameStart - sentCount)
        let frameLength = buffer.count - frameStart
        let sent: Int
        do {
            sent = try buffer.withUnsafeBytes { bytes in
                try system_sendmsg(fd, UnsafeRawBufferPointer(rebasing: bytes[frameStart...]), descriptors: descriptors)
            }
        } catch let error as SystemCallError where error.errno == .badFileDescriptor {
            // A descriptor inside the value is not open (our socket is, or the queued bytes above
            // could not have gone out). Nothing of this frame was sent: the stream is intact.
            throw ConnectionError(
                .descriptorMismatch,
                "a descriptor inside the value is not open",
                underlyingError: error.errno
            )
        } catch let error as SystemCallError {
            failure = ConnectionError(error, "sending descriptors on fd \(fd)")
            throw failure!
        }
        do {
            try buffer.withUnsafeBytes {
                try Self.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[(frameStart + sent)...]))
            }
        } catch let error as ConnectionError {
            failure = error
            throw error
        }
        writtenTotal += UInt64(frameLength)
    }

    private static func sendAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            do throws(SystemCallError) { offset += try system_send(fd, rest) } catch {
                throw ConnectionError(error, "sending on fd \(fd)")
            }
        }
    }
}

/// A pair of frames was not sent because one value could not be encoded: nothing reached the peer.
/// Callers unwrap ``underlying`` for their own callers.
struct FramePairNotEncoded: Error {
    let underlying: any Error
}
