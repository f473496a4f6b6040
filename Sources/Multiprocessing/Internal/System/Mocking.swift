// Syscall mocking for tests, in the style of swift-system's `Mocking.swift`: compiled only with
// `ENABLE_MOCKING` (debug builds), so release builds carry no trace of it.
//
// A test installs a `MockingDriver` on its own thread; the funnel then consults it before each
// call: a forced errno makes the call fail without reaching the kernel (`EINTR` N times proves a
// call retries, `ENOMEM` that an error path cleans up), and a length limit makes a write short.
// Work the library hands to its launcher thread carries the caller's driver with it.

#if ENABLE_MOCKING
#if canImport(Glibc)
import Glibc
#endif
package import SystemPackage

package final class MockingDriver: @unchecked Sendable {
    private var forcedErrors: [String: [Errno]] = [:]
    private var lengthLimits: [String: Int] = [:]
    /// Every call the funnel made (or refused) on this driver's thread, by name.
    package private(set) var trace: [String] = []

    package init() {}

    /// Makes the next calls named `call` (`"send"`, `"recvmsg"`, `"socketpair"`, `"posix_spawn"`, …)
    /// fail with `errors`, one per attempt, before any real call is made.
    package func forceErrors(_ call: String, _ errors: [Errno]) {
        forcedErrors[call, default: []] += errors
    }

    /// Makes each call named `call` transfer at most `limit` bytes (a short write or read).
    package func limitLength(_ call: String, to limit: Int) {
        lengthLimits[call] = limit
    }

    /// Runs `body` with this driver installed on the calling thread.
    package func withMocking<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = Self.current
        Self.current = self
        defer { Self.current = previous }
        return try body()
    }

    func record(_ call: String) -> Errno? {
        let name = Self.baseName(call)
        trace.append(name)
        guard var queue = forcedErrors[name], !queue.isEmpty else { return nil }
        let error = queue.removeFirst()
        forcedErrors[name] = queue
        return error
    }

    func limit(_ call: String, _ count: Int) -> Int {
        guard let limit = lengthLimits[call] else { return count }
        return min(count, limit)
    }

    private static func baseName(_ call: String) -> String {
        String(call.prefix { $0 != "(" && $0 != " " })
    }

    // MARK: - The current thread's driver

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    package static var current: MockingDriver? {
        get {
            pthread_getspecific(key).map { Unmanaged<MockingDriver>.fromOpaque($0).takeUnretainedValue() }
        }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<MockingDriver>.fromOpaque(old).release() }
            pthread_setspecific(key, newValue.map { Unmanaged.passRetained($0).toOpaque() })
        }
    }
}
#endif
