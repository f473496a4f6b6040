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
    private var encoder = BinaryEncoder()
    private let carrier = DescriptorCarrier()

    init(fd: CInt) {
        self.fd = fd
        encoder.userInfo[DescriptorCarrier.userInfoKey] = carrier
    }

    var pendingByteCount: Int { buffer.count }

    /// Encodes `value` as one frame at the end of the buffer. A frame that carries descriptors is
    /// sent at once (after what was pending), because its descriptors ride on its first byte.
    mutating func appendFrame<Value: Encodable>(for value: Value, maximumPayload: Int) throws {
        guard fd >= 0 else { throw ConnectionError(.closed, "send on a closed connection") }
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
        if descriptorCount > 0 {
            try sendWithDescriptors(frameStart: frameStart, descriptors: carrier.descriptors)
        }
    }

    /// Writes everything pending.
    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        defer {
            if buffer.capacity > FrameReader.retainedCapacity {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try buffer.withUnsafeBytes { try sendAll($0) }
    }

    /// Sends `bytes` as one frame after whatever is pending.
    mutating func sendRaw(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw ConnectionError(.closed, "send on a closed connection") }
        let frameStart = reserveHeader()
        FrameFormat.writeHeader(in: &buffer, frameStart: frameStart, payloadLength: bytes.count, descriptorCount: 0)
        if bytes.count < Self.directWriteThreshold {
            buffer.append(contentsOf: bytes)
            try flush()
            return
        }
        try flush()
        try sendAll(bytes)
    }

    /// Appends room for a frame header and returns where the frame starts. Four single appends:
    /// appending a generic collection costs more than the small value that follows.
    private mutating func reserveHeader() -> Int {
        let frameStart = buffer.count
        for _ in 0..<FrameFormat.reservedHeaderLength { buffer.append(0) }
        return frameStart
    }

    private mutating func sendWithDescriptors(frameStart: Int, descriptors: [CInt]) throws {
        let fd = fd
        defer { buffer.removeAll(keepingCapacity: true) }
        try buffer.withUnsafeBytes { bytes in
            try sendAll(UnsafeRawBufferPointer(rebasing: bytes[..<frameStart]))
            let frame = UnsafeRawBufferPointer(rebasing: bytes[frameStart...])
            var control = [UInt8](repeating: 0, count: mpshim_cmsg_space_for_fds(descriptors.count))
            var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: frame.baseAddress!), iov_len: frame.count)
            let sent = try control.withUnsafeMutableBytes { controlBytes in
                try withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    descriptors.withUnsafeBufferPointer {
                        mpshim_cmsg_put_fds(&message, $0.baseAddress!, descriptors.count)
                    }
                    return try mapSendError(fd) { () throws(SystemCallError) in try system_sendmsg(fd, &message) }
                }
            }
            try sendAll(UnsafeRawBufferPointer(rebasing: frame[sent...]))
        }
    }

    private func sendAll(_ bytes: UnsafeRawBufferPointer) throws {
        let fd = fd
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            offset += try mapSendError(fd) { () throws(SystemCallError) in try system_send(fd, rest) }
        }
    }
}

/// Turns a failed send into the error a user can act on: a vanished peer is end of stream.
private func mapSendError(_ fd: CInt, _ body: () throws(SystemCallError) -> Int) throws(ConnectionError) -> Int {
    do {
        return try body()
    } catch  where error.errno == .brokenPipe || error.errno == .connectionReset {
        throw ConnectionError(.endOfStream, "send: the peer closed its end", underlyingError: error.errno)
    } catch {
        throw ConnectionError(.systemCallFailed, "sending on fd \(fd)", underlyingError: error.errno)
    }
}
