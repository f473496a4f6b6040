import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The receiving half of a ``Connection``: a read buffer over the socket, the frame parser, and the
/// descriptors that arrived (`SCM_RIGHTS`) but whose frame has not been read yet.
///
/// Every read is a `recvmsg` with room for ancillary data, because descriptors arrive attached to
/// the first byte of their frame, which a buffered read may fetch together with earlier frames.
/// Thrown by a non-blocking receive when no whole frame has arrived yet.
struct FrameNotReady: Error {}

struct FrameReader {
    static let initialCapacity = 64 * 1024
    /// Above this, an emptied buffer is given back, so one huge frame does not pin its memory (2 MiB
    /// keeps the buffer of a stream of 1 MiB frames).
    static let retainedCapacity = 2 << 20
    /// Descriptors that may wait for their frames; more means the peer sends descriptors no frame announces.
    static let maximumQueuedDescriptors = 4 * FrameFormat.maximumDescriptorsPerFrame

    var fd: CInt
    private var storage: [UInt8]
    private var start = 0
    private var end = 0
    private var descriptors: [CInt] = []
    private var control: [UInt8]
    private var sawEndOfStream = false
    /// An error from decoding in the middle of a batch, delivered by the next receive so that the
    /// values decoded before it are not lost.
    var deferredError: (any Error)?

    init(fd: CInt) {
        self.fd = fd
        // Allocated on the first receive, so an end that only sends costs nothing here.
        storage = []
        control = []
    }

    /// Reads until one whole frame is buffered, consumes it and passes its payload to `body`.
    ///
    /// With `wait: false` it reads only what the socket holds now (`MSG_DONTWAIT`) and throws
    /// ``FrameNotReady`` when no whole frame is there yet; the bytes read so far stay buffered for
    /// the next call. (A thrown marker rather than an optional result keeps the blocking path free
    /// of `Optional<Result>` metadata lookups, measured at about a third of a small receive.)
    ///
    /// - Parameter fitting: When set, a frame with a longer payload throws `.frameTooLarge` and
    ///   stays unread.
    mutating func receiveFrame<Result>(
        maximumPayload: Int,
        fitting: Int? = nil,
        wait: Bool = true,
        _ body: (UnsafeRawBufferPointer, DescriptorCarrier?) throws -> Result
    ) throws -> Result {
        guard fd >= 0 else { throw ConnectionError(.closed, "receive on a closed connection") }
        if let error = deferredError {
            deferredError = nil
            throw error
        }
        if start == end && storage.count > Self.retainedCapacity {
            storage = []
            start = 0
            end = 0
        }
        while true {
            let header = try parseHeader(maximumPayload: maximumPayload)
            if let header, end - start >= header.frameLength {
                if let fitting, header.payloadLength > fitting {
                    throw ConnectionError(
                        .frameTooLarge,
                        "the next frame holds \(header.payloadLength) bytes; the buffer has room for \(fitting)"
                    )
                }
                let payloadStart = start + header.headerLength
                let payloadEnd = payloadStart + header.payloadLength
                start += header.frameLength
                if start == end {
                    start = 0
                    end = 0
                }
                var carrier: DescriptorCarrier?
                if header.descriptorCount > 0 {
                    guard descriptors.count >= header.descriptorCount else {
                        throw ConnectionError(
                            .descriptorMismatch,
                            "a frame announced \(header.descriptorCount) descriptors but \(descriptors.count) arrived"
                        )
                    }
                    carrier = DescriptorCarrier(received: Array(descriptors.prefix(header.descriptorCount)))
                    descriptors.removeFirst(header.descriptorCount)
                }
                defer { carrier?.closeUnclaimed() }
                // The payload stays in place until the next fill, which only a later call performs.
                return try storage.withUnsafeBytes { bytes in
                    try body(UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadEnd]), carrier)
                }
            }
            makeRoom(for: header?.frameLength ?? FrameFormat.reservedHeaderLength + 1)
            guard try fill(expecting: header, wait: wait) else { throw FrameNotReady() }
        }
    }

    /// Whether a whole frame is buffered, so a receive needs no system call. A header that would
    /// throw counts as present: the receive then reports it.
    func hasCompleteFrame(maximumPayload: Int) -> Bool {
        let header: FrameHeader?
        do { header = try parseHeader(maximumPayload: maximumPayload) } catch { return true }
        guard let header else { return false }  // part of a header: the rest needs a read
        return end - start >= header.frameLength
    }

    /// Whether a receive would find data, an error or end of stream without waiting.
    var hasBufferedInput: Bool { end > start || sawEndOfStream || deferredError != nil }

    /// Descriptors received and not yet claimed by a frame, for tests.
    var queuedDescriptorCount: Int { descriptors.count }

    /// The size of the read buffer now: what a peer's bytes (not its headers) made this reader hold.
    var bufferCapacity: Int { storage.count }

    /// Whether a receive would find data or end of stream without waiting, waiting up to `deadline`.
    mutating func waitUntilReadable(_ deadline: Deadline) throws -> Bool {
        guard fd >= 0 else { throw ConnectionError(.closed, "poll on a closed connection") }
        if hasBufferedInput { return true }
        do {
            return try system_poll(fd, until: deadline) != 0
        } catch {
            throw ConnectionError(error, "polling fd \(fd)")
        }
    }

    /// Closes descriptors that arrived for frames nobody will read (the connection is closing).
    mutating func discardDescriptors() {
        for descriptor in descriptors { system_close(descriptor) }
        descriptors.removeAll()
    }

    private func parseHeader(maximumPayload: Int) throws(ConnectionError) -> FrameHeader? {
        let (start, end) = (start, end)
        let parsed = storage.withUnsafeBytes { bytes in
            Result { () throws(FrameFormatError) -> FrameHeader? in
                try FrameFormat.parseHeader(
                    UnsafeRawBufferPointer(rebasing: bytes[start..<end]),
                    maximumPayload: maximumPayload
                )
            }
        }
        switch parsed {
        case .success(let header):
            return header
        case .failure(.tooLarge(let length, let maximum)):
            throw ConnectionError(
                .frameTooLarge,
                "the peer announced a \(length)-byte frame; the maximum is \(maximum)"
            )
        case .failure(.malformed(let reason)):
            throw ConnectionError(.malformedFrame, reason)
        }
    }

    /// Makes room to read more of a frame of `frameLength` bytes, moving buffered bytes to the front
    /// and growing the buffer in bounded steps: at most doubling, never past the frame's length. A
    /// header alone buys nothing; a peer must send bytes to make this reader hold memory (a header
    /// announcing 1 GiB followed by silence costs the 64 KiB first buffer, not 1 GiB).
    private mutating func makeRoom(for frameLength: Int) {
        if storage.count - start >= frameLength && end < storage.count { return }
        if start > 0 {
            let (start, end) = (start, end)
            storage.withUnsafeMutableBytes { bytes in
                bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + start, byteCount: end - start)
            }
            self.end = end - start
            self.start = 0
        }
        guard end == storage.count else { return }
        // Copy only the buffered bytes into the new storage (one memcpy, not an element loop).
        let capacity = max(min(frameLength, storage.count * 2), Self.initialCapacity, end + 1)
        let end = end
        let grown = [UInt8](unsafeUninitializedCapacity: capacity) { target, initialized in
            let raw = UnsafeMutableRawBufferPointer(target)
            if end > 0 {
                storage.withUnsafeBytes { source in
                    raw.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: end)
                }
            }
            memset(raw.baseAddress! + end, 0, capacity - end)
            initialized = capacity
        }
        storage = grown
    }

    /// Reads once from the socket. Returns false when `wait` is false and nothing was there.
    private mutating func fill(expecting header: FrameHeader?, wait: Bool) throws -> Bool {
        if control.isEmpty {
            control = [UInt8](repeating: 0, count: mpshim_cmsg_space_for_fds(FrameFormat.maximumDescriptorsPerFrame))
        }
        let (fd, end) = (fd, end)
        let message: ReceivedMessage?
        do {
            message = try storage.withUnsafeMutableBytes { bytes in
                try control.withUnsafeMutableBytes { controlBytes in
                    try system_recvmsg(
                        fd,
                        into: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]),
                        control: controlBytes,
                        maximumDescriptors: FrameFormat.maximumDescriptorsPerFrame,
                        nonBlocking: !wait
                    )
                }
            }
        } catch let error as SystemCallError where error.errno == .connectionReset {
            message = ReceivedMessage(byteCount: 0, descriptors: [], descriptorsTruncated: false)
        } catch let error as SystemCallError {
            throw ConnectionError(error, "receiving on fd \(fd)")
        }
        guard let message else { return false }
        descriptors.append(contentsOf: message.descriptors)
        if descriptors.count > Self.maximumQueuedDescriptors {
            // Descriptors no frame claims would pile up until the table is full: a hostile or broken
            // peer. A well-behaved one never has more than about two frames' worth in flight (each
            // read stops at the next message that carries descriptors).
            let count = descriptors.count
            discardDescriptors()
            throw ConnectionError(
                .descriptorMismatch,
                "\(count) descriptors arrived that no frame claimed; they were closed"
            )
        }
        if message.descriptorsTruncated {
            throw ConnectionError(
                .descriptorMismatch,
                "descriptors were dropped: more arrived than one message can carry"
            )
        }
        if message.byteCount == 0 {
            sawEndOfStream = true
            if self.end > start {
                let expected = header.map { "\($0.frameLength)" } ?? "a header's"
                throw ConnectionError(
                    .endOfStream,
                    "the peer closed its end in the middle of a frame (\(self.end - start) of \(expected) bytes arrived)"
                )
            }
            throw ConnectionError(.endOfStream, "the peer closed its end")
        }
        self.end += message.byteCount
        return true
    }
}
