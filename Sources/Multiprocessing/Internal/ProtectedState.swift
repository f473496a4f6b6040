#if canImport(Glibc)
import Glibc
#endif

/// State behind a `pthread_mutex`, for classes that must block while holding it (a receive waits
/// for the kernel with its reader locked). Unlike the stdlib `Mutex`, the body may return values
/// that are not `Sendable`; callers only touch the state inside `withLock`.
///
/// The state lives behind a pointer rather than in a stored `var`: the mutex already makes access
/// exclusive, and a class `var` would add the runtime's dynamic exclusivity checks to every call
/// (measured: a visible share of a small-message receive).
package final class ProtectedState<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let state: UnsafeMutablePointer<State>

    package init(_ initial: State) {
        state = .allocate(capacity: 1)
        state.initialize(to: initial)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    package func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }

    /// In a forked child only, before anything else touches it: a fresh mutex (another thread of
    /// the parent may have held the old one at the fork, and that thread does not exist here) and
    /// a new state.
    func resetAfterFork(_ state: State) {
        pthread_mutex_init(mutex, nil)
        self.state.pointee = state
    }
}

/// A one-shot event that threads can wait for with a timeout (`pthread_cond` on `CLOCK_MONOTONIC`).
final class OneShotEvent: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var isSet = false

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func set() {
        pthread_mutex_lock(mutex)
        isSet = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until ``set()`` was called or `timeout` passed; `nil` waits forever. Returns whether set.
    func wait(timeout: Duration?) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let timeout else {
            while !isSet { pthread_cond_wait(condition, mutex) }
            return true
        }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let (seconds, attoseconds) = max(timeout, .zero).components
        var nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        deadline.tv_nsec = nanoseconds
        while !isSet {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        return isSet
    }
}

/// A condition that threads wait on until a predicate holds; ``broadcast()`` makes them re-check.
final class ConditionSignal: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var generation = 0

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// In a forked child only: fresh primitives, as ``ProtectedState/resetAfterFork(_:)``.
    func resetAfterFork() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        generation = 0
    }

    func broadcast() {
        pthread_mutex_lock(mutex)
        generation += 1
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Blocks until `predicate` is true; it is checked again after every ``broadcast()``.
    func wait(until predicate: () -> Bool) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !predicate() {
            let seen = generation
            while generation == seen { pthread_cond_wait(condition, mutex) }
        }
    }
}
