#if canImport(Glibc)
import Glibc
#endif

/// Where elements too large for a queue's ring go: each is written into a sealed segment of its
/// own, and the segment's descriptor crosses a socket pair in a single 8-byte message (one
/// `sendmsg`, which the kernel never splits, so a sender killed at any point leaves no partial
/// message behind). The ring gets a `spilled` record in its place. Descriptors still in the socket
/// when the last holder closes it are closed by the kernel: nothing leaks.
final class SpillChannel: Sendable {
    let writeEnd: OwnedDescriptor
    let readEnd: OwnedDescriptor

    init() throws(SharedMemoryError) {
        do {
            let (first, second) = try system_socketpair()
            writeEnd = OwnedDescriptor(adopting: first)
            readEnd = OwnedDescriptor(adopting: second)
        } catch {
            throw SharedMemoryError(.systemCallFailed, "socketpair for a queue", underlyingError: error.errno)
        }
    }

    init(writeEnd: consuming OwnedDescriptor, readEnd: consuming OwnedDescriptor) {
        self.writeEnd = writeEnd
        self.readEnd = readEnd
    }

    /// `bytes` in a segment of their own, ready for ``trySend(_:length:)``.
    static func segment(holding bytes: [UInt8]) throws(SharedMemoryError) -> SharedMemory {
        let segment = try SharedMemory(byteCount: max(bytes.count, 1))
        bytes.withUnsafeBytes { segment.bytes.copyMemory(from: $0) }
        return segment
    }

    /// Sends `segment`'s descriptor without waiting; false when the socket is full. The caller
    /// holds the queue's spill-write mutex and its ring lock, so messages and `spilled` records
    /// are in the same order.
    func trySend(_ segment: SharedMemory, length: Int) throws(SharedMemoryError) -> Bool {
        var length = UInt64(length)
        do {
            _ = try withUnsafeBytes(of: &length) { (raw) throws(SystemCallError) in
                try system_sendmsg(writeEnd.rawValue, raw, descriptors: [segment.rawDescriptor], nonBlocking: true)
            }
            return true
        } catch  where error.wouldBlock {
            return false
        } catch {
            throw SharedMemoryError(.systemCallFailed, "sending a large queue element", underlyingError: error.errno)
        }
    }

    /// Receives the next element's bytes. The caller holds the queue's spill-read mutex.
    func receive() throws(SharedMemoryError) -> [UInt8] {
        var length: UInt64 = 0
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { control.deallocate() }
        let message: ReceivedMessage?
        do {
            message = try withUnsafeMutableBytes(of: &length) { (raw) throws(SystemCallError) in
                try system_recvmsg(readEnd.rawValue, into: raw, control: control, maximumDescriptors: 1)
            }
        } catch {
            throw SharedMemoryError(.systemCallFailed, "receiving a large queue element", underlyingError: error.errno)
        }
        guard let message, message.byteCount == 8, message.descriptors.count == 1 else {
            for descriptor in message?.descriptors ?? [] { system_close(descriptor) }
            throw SharedMemoryError(.invalidArgument, "a large queue element arrived without its segment")
        }
        let segment = try SharedMemory(receiving: OwnedDescriptor(adopting: message.descriptors[0]))
        guard UInt64(segment.byteCount) >= length else {
            throw SharedMemoryError(.sizeMismatch, "a large queue element's segment is smaller than announced")
        }
        return [UInt8](UnsafeRawBufferPointer(rebasing: segment.bytes.prefix(Int(length))))
    }
}
