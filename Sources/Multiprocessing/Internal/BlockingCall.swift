import Dispatch
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs a blocking system-call path off Swift's cooperative thread pool, whose few threads must
/// never block on a socket or a child. Dispatch's global queue grows threads for blocked work.
enum BlockingCall {
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }
}

/// A descriptor that becomes readable when the awaiting task is cancelled, so that a blocking
/// `poll` can watch it next to the descriptor it really waits for.
final class CancellationSignal: Sendable {
    let fd: CInt

    init() throws(SystemCallError) {
        fd = try system_eventfd()
    }

    deinit { system_close(fd) }

    func fire() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { try? system_write(fd, $0) }
    }

    /// Waits until `target` is readable (true) or the signal fires (false).
    func waitForReadable(_ target: CInt) throws(SystemCallError) -> Bool {
        var entries = [
            pollfd(fd: target, events: Int16(POLLIN), revents: 0),
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            do throws(SystemCallError) {
                _ = try system_poll(&entries, 2, -1)
            } catch  where error.errno == .interrupted {
                continue
            }
            if entries[1].revents != 0 { return false }
            if entries[0].revents != 0 { return true }
        }
    }
}
