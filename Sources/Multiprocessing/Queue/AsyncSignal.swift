/// Wakes tasks awaiting a queue, in any process: a semaphore eventfd whose descriptor crosses with
/// the queue. A futex cannot be awaited on the event loop, so an awaiting getter (or putter)
/// registers in the queue's shared state, and whoever puts (or gets) while one is registered adds
/// a token here; each woken waiter takes one. A token left over (its element went to a blocking
/// getter) costs one spurious wake-up and a retry, never a lost one.
final class AsyncSignal: Sendable {
    let descriptor: OwnedDescriptor

    init() throws(SharedMemoryError) {
        do {
            descriptor = OwnedDescriptor(adopting: try system_eventfd_semaphore())
        } catch {
            throw SharedMemoryError(.systemCallFailed, "eventfd for a queue", underlyingError: error.errno)
        }
    }

    init(descriptor: consuming OwnedDescriptor) {
        self.descriptor = descriptor
    }

    deinit {
        EventLoop.forgetIfRunning(descriptor.rawValue)
    }

    /// Adds `count` tokens. A full counter (2^64 − 2 tokens) already wakes everyone.
    func signal(_ count: Int) {
        var tokens = UInt64(max(count, 1))
        _ = withUnsafeBytes(of: &tokens) { try? system_write(descriptor.rawValue, $0) }
    }

    /// Takes one token if there is one.
    func take() {
        var token: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &token) { try? system_read(descriptor.rawValue, $0) }
    }

    /// Suspends, holding no thread, until a token is there.
    func wait() async throws {
        _ = try await EventLoop.shared.wait(for: descriptor.rawValue, .readable)
    }
}
