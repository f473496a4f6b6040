import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// What a wait on a descriptor asks for.
struct Readiness: OptionSet, Hashable, Sendable {
    let rawValue: UInt8

    static let readable = Readiness(rawValue: 1)
    static let writable = Readiness(rawValue: 2)
}

/// The one epoll loop that resumes Swift tasks waiting for descriptors: sockets, pidfds, eventfds.
///
/// Why not a thread per wait: `async` calls used to park a Dispatch thread each while they waited,
/// and Dispatch adds a thread for blocked work only about once a second (40 awaited receives took
/// 38.8 s). Here an awaiting task registers its descriptors and suspends; one thread blocks in
/// `epoll_wait` for all of them and resumes each task when its descriptor is ready, so a thousand
/// waits hold no thread at all.
///
/// Why not swift-nio's `EventLoop`: it owns its channels' descriptors and reads them itself; it has
/// no descriptor passing (`SCM_RIGHTS`) and no pidfds, and our callers only need "tell me when this
/// descriptor is ready", after which they read with the code the synchronous calls use.
///
/// Protocol: every registration is `EPOLLONESHOT` and level-triggered, so a descriptor that is
/// already ready when armed fires at once (no lost wake-up between a failed non-blocking attempt
/// and the arm), and fires once per arm. The event's data holds the descriptor and a generation,
/// so an event for a descriptor number that was forgotten and reused is recognised and dropped.
/// Every descriptor a wait may name must be passed to ``forget(_:)`` before it is closed.
final class EventLoop: @unchecked Sendable {
    static let shared: EventLoop = {
        do {
            let loop = try EventLoop()
            isStarted.withLock { $0 = true }
            return loop
        } catch {
            fatalError("swift-multiprocessing cannot start its event loop: \(error)")
        }
    }()

    private static let isStarted = ProtectedState(false)

    /// Set in a forked child before its body runs. The child shares the parent's epoll instance
    /// (an inherited descriptor) and a copy of its tables, but not its loop thread: touching them
    /// would delete the parent's registrations and resume the parent's continuations here.
    /// Written once, by the only thread of a new child, before anything reads it there.
    nonisolated(unsafe) private static var isDisabled = false

    static func disableInForkedChild() { isDisabled = true }

    /// ``forget(_:)`` on the shared loop if it runs in this process; closing a descriptor never
    /// starts the loop, and a forked child's closes leave the parent's loop alone.
    static func forgetIfRunning(_ fd: CInt) {
        if isDisabled { return }
        if isStarted.withLock({ $0 }) { shared.forget(fd) }
    }

    /// One descriptor a wait watches.
    struct Interest {
        var fd: CInt
        var readiness: Readiness
    }

    private final class Wait {
        let interests: [Interest]
        let deadline: ContinuousClock.Instant?
        let continuation: UnsafeContinuation<[Int], any Error>

        init(
            interests: [Interest],
            deadline: ContinuousClock.Instant?,
            continuation: UnsafeContinuation<[Int], any Error>
        ) {
            self.interests = interests
            self.deadline = deadline
            self.continuation = continuation
        }
    }

    private enum WaitState {
        case starting
        case cancelledBeforeStart
        case waiting(Wait)
    }

    private struct Registration {
        var generation: UInt32
        var isAdded = false
        var waits: [UInt64: Readiness] = [:]
    }

    private struct State {
        var nextWaitID: UInt64 = 0
        var nextGeneration: UInt32 = 0
        var waits: [UInt64: WaitState] = [:]
        var registrations: [CInt: Registration] = [:]
        var timedWaits: Set<UInt64> = []
    }

    private typealias Completion = (UnsafeContinuation<[Int], any Error>, Result<[Int], any Error>)

    private static let wakeMarker = UInt64.max

    private let epollFd: CInt
    private let wakeFd: CInt
    private let state = ProtectedState(State())

    private init() throws(SystemCallError) {
        epollFd = try system_epoll_create()
        wakeFd = try system_eventfd()
        try system_epoll_ctl(epollFd, mpshim_EPOLL_CTL_ADD, wakeFd, events: mpshim_EPOLLIN, data: Self.wakeMarker)
        try startDetachedThread(name: "mp-events") { [unowned self] in
            mpshim_block_all_signals()
            self.run()
        }
    }

    // MARK: - Waiting

    /// Suspends until one of `interests` is ready or `deadline` passes, without holding a thread.
    ///
    /// - Returns: The indices of the interests found ready (empty when the deadline passed). A
    ///   descriptor that is closed by ``forget(_:)`` while waited for counts as ready, so the waiter
    ///   retries and meets the closed state itself.
    /// - Throws: `CancellationError` as soon as the awaiting task is cancelled; `SystemCallError`
    ///   when epoll refuses a descriptor. With `cancellable: false` the wait ignores cancellation
    ///   (a frame half written must be finished whatever happens to the task).
    ///   `isStillValid`, when given, is asked once the descriptors are armed (outside the loop's lock):
    ///   `false` ends the wait at once as if ready. It closes the race with an owner that closed the
    ///   descriptor between the caller reading its number and the arm.
    func wait(
        for interests: [Interest],
        until deadline: ContinuousClock.Instant? = nil,
        cancellable: Bool = true,
        isStillValid: (@Sendable () -> Bool)? = nil
    ) async throws -> [Int] {
        let id = state.withLock { state in
            state.nextWaitID += 1
            state.waits[state.nextWaitID] = .starting
            return state.nextWaitID
        }
        guard cancellable else { return try await suspend(id, interests, deadline, isStillValid) }
        return try await withTaskCancellationHandler {
            try await suspend(id, interests, deadline, isStillValid)
        } onCancel: {
            let continuation = state.withLock { state -> UnsafeContinuation<[Int], any Error>? in
                switch state.waits[id] {
                case .starting:
                    state.waits[id] = .cancelledBeforeStart
                    return nil
                case .waiting(let wait):
                    detach(id, wait, from: &state)
                    return wait.continuation
                case .cancelledBeforeStart, nil:
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    private func suspend(
        _ id: UInt64,
        _ interests: [Interest],
        _ deadline: ContinuousClock.Instant?,
        _ isStillValid: (@Sendable () -> Bool)?
    ) async throws -> [Int] {
        try await withUnsafeThrowingContinuation { continuation in
            let (immediate, shouldWake) = state.withLock { state -> (Result<[Int], any Error>?, Bool) in
                if case .cancelledBeforeStart = state.waits[id] {
                    state.waits[id] = nil
                    return (.failure(CancellationError()), false)
                }
                if let deadline, deadline <= .now {
                    state.waits[id] = nil
                    return (.success([]), false)
                }
                let wait = Wait(interests: interests, deadline: deadline, continuation: continuation)
                state.waits[id] = .waiting(wait)
                do {
                    for interest in interests {
                        try arm(interest, for: id, in: &state)
                    }
                } catch {
                    detach(id, wait, from: &state)
                    return (.failure(error), false)
                }
                if deadline != nil {
                    state.timedWaits.insert(id)
                    return (nil, true)
                }
                return (nil, false)
            }
            if let immediate {
                continuation.resume(with: immediate)
                return
            }
            if shouldWake { wake() }
            if let isStillValid, !isStillValid() {
                let stale = state.withLock { state -> UnsafeContinuation<[Int], any Error>? in
                    guard case .waiting(let wait) = state.waits[id] else { return nil }
                    detach(id, wait, from: &state)
                    return wait.continuation
                }
                stale?.resume(returning: Array(interests.indices))
            }
        }
    }

    /// Suspends until `fd` is ready for `readiness`. Returns false when `deadline` passed first.
    func wait(for fd: CInt, _ readiness: Readiness, until deadline: ContinuousClock.Instant? = nil) async throws -> Bool
    {
        try await !wait(for: [Interest(fd: fd, readiness: readiness)], until: deadline).isEmpty
    }

    /// Stops watching `fd`, which its owner is about to close, and wakes whoever waits for it.
    ///
    /// Must be called before closing any descriptor that was ever waited for: epoll watches the open
    /// file, not the number, and a registration left behind could fire for a reused number.
    func forget(_ fd: CInt) {
        let completions = state.withLock { state -> [Completion] in
            guard let registration = state.registrations.removeValue(forKey: fd) else { return [] }
            if registration.isAdded {
                try? system_epoll_ctl(epollFd, mpshim_EPOLL_CTL_DEL, fd, events: 0, data: 0)
            }
            var completions: [Completion] = []
            for id in registration.waits.keys {
                guard case .waiting(let wait) = state.waits[id] else { continue }
                detach(id, wait, from: &state)
                let indices = wait.interests.indices.filter { wait.interests[$0].fd == fd }
                completions.append((wait.continuation, .success(indices)))
            }
            return completions
        }
        for (continuation, result) in completions { continuation.resume(with: result) }
    }

    /// How many waits are pending, for tests.
    var pendingWaitCount: Int {
        state.withLock { state in
            state.waits.values.count { if case .waiting = $0 { true } else { false } }
        }
    }

    // MARK: - Registration (under the lock)

    private func epollEvents(_ readiness: Readiness) -> UInt32 {
        var events: UInt32 = 0
        if readiness.contains(.readable) { events |= mpshim_EPOLLIN | mpshim_EPOLLRDHUP }
        if readiness.contains(.writable) { events |= mpshim_EPOLLOUT }
        return events
    }

    /// Adds `id`'s interest in a descriptor and arms it for everything its waits ask for.
    private func arm(_ interest: Interest, for id: UInt64, in state: inout State) throws(SystemCallError) {
        var registration =
            state.registrations[interest.fd]
            ?? {
                state.nextGeneration &+= 1
                return Registration(generation: state.nextGeneration)
            }()
        registration.waits[id, default: []].formUnion(interest.readiness)
        defer { state.registrations[interest.fd] = registration }
        do {
            try rearm(interest.fd, &registration)
        } catch {
            registration.waits[id] = nil
            throw error
        }
    }

    /// Arms `fd` for the union of its waits. Always a system call, even when the table says it is
    /// armed already: the table cannot see a close elsewhere that silently dropped the kernel's
    /// entry, and a skipped arm would then never fire.
    private func rearm(_ fd: CInt, _ registration: inout Registration) throws(SystemCallError) {
        let wanted = registration.waits.values.reduce(0) { $0 | epollEvents($1) }
        let data = UInt64(registration.generation) << 32 | UInt64(UInt32(bitPattern: fd))
        let events = wanted | mpshim_EPOLLONESHOT
        let epollFd = epollFd
        func control(_ operation: CInt) throws(SystemCallError) {
            try system_epoll_ctl(epollFd, operation, fd, events: events, data: data)
        }
        let (usual, other) =
            registration.isAdded
            ? (mpshim_EPOLL_CTL_MOD, mpshim_EPOLL_CTL_ADD) : (mpshim_EPOLL_CTL_ADD, mpshim_EPOLL_CTL_MOD)
        do { try control(usual) } catch  where error.errno == .noSuchFileOrDirectory || error.errno == .fileExists {
            // Our table and the kernel's disagree (the open file was closed elsewhere): use the other op.
            try control(other)
        }
        registration.isAdded = true
    }

    /// Removes a wait from every registration and from the tables; the caller resumes it.
    private func detach(_ id: UInt64, _ wait: Wait, from state: inout State) {
        state.waits[id] = nil
        state.timedWaits.remove(id)
        for interest in wait.interests {
            state.registrations[interest.fd]?.waits[id] = nil
        }
    }

    // MARK: - The loop thread

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { try? system_write(wakeFd, $0) }
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<mpshim_epoll_event>.allocate(capacity: capacity)
        while true {
            let timeout = state.withLock { state in pollTimeout(state) }
            let count: Int
            do { count = try system_epoll_wait(epollFd, events, CInt(capacity), timeout) } catch {
                fatalError("swift-multiprocessing event loop: \(error)")
            }
            var ready: [CInt: (generation: UInt32, readiness: Readiness)] = [:]
            for index in 0..<count {
                let event = events[index]
                if event.data == Self.wakeMarker {
                    var counter: UInt64 = 0
                    _ = withUnsafeMutableBytes(of: &counter) { try? system_read(wakeFd, $0) }
                    continue
                }
                var readiness: Readiness = []
                let failed = mpshim_EPOLLERR | mpshim_EPOLLHUP
                if event.events & (mpshim_EPOLLIN | mpshim_EPOLLRDHUP | failed) != 0 { readiness.insert(.readable) }
                if event.events & (mpshim_EPOLLOUT | failed) != 0 { readiness.insert(.writable) }
                let fd = CInt(bitPattern: UInt32(truncatingIfNeeded: event.data))
                ready[fd] = (UInt32(truncatingIfNeeded: event.data >> 32), readiness)
            }
            let completions = state.withLock { state in complete(ready, in: &state) }
            for (continuation, result) in completions { continuation.resume(with: result) }
        }
    }

    private func pollTimeout(_ state: State) -> CInt {
        var earliest: ContinuousClock.Instant?
        for id in state.timedWaits {
            guard case .waiting(let wait) = state.waits[id], let deadline = wait.deadline else { continue }
            if earliest == nil || deadline < earliest! { earliest = deadline }
        }
        guard let earliest else { return -1 }
        return Deadline(instant: earliest).pollTimeout
    }

    private func complete(
        _ ready: [CInt: (generation: UInt32, readiness: Readiness)],
        in state: inout State
    ) -> [Completion] {
        var completions: [Completion] = []
        for (fd, event) in ready {
            guard let registration = state.registrations[fd], registration.generation == event.generation else {
                continue
            }
            for (id, asked) in registration.waits where !asked.isDisjoint(with: event.readiness) {
                guard case .waiting(let wait) = state.waits[id] else { continue }
                detach(id, wait, from: &state)
                let indices = wait.interests.indices.filter { index in
                    let interest = wait.interests[index]
                    guard let other = ready[interest.fd] else { return false }
                    return !interest.readiness.isDisjoint(with: other.readiness)
                }
                completions.append((wait.continuation, .success(indices)))
            }
            // Waits still registered for the other direction need the descriptor armed again.
            guard var remaining = state.registrations[fd], !remaining.waits.isEmpty else { continue }
            do {
                try rearm(fd, &remaining)
                state.registrations[fd] = remaining
            } catch {
                for id in remaining.waits.keys {
                    guard case .waiting(let wait) = state.waits[id] else { continue }
                    detach(id, wait, from: &state)
                    completions.append((wait.continuation, .failure(error)))
                }
            }
        }
        if !state.timedWaits.isEmpty {
            let now = ContinuousClock.now
            for id in state.timedWaits {
                guard case .waiting(let wait) = state.waits[id], let deadline = wait.deadline, deadline <= now else {
                    continue
                }
                detach(id, wait, from: &state)
                completions.append((wait.continuation, .success([])))
            }
        }
        return completions
    }
}
