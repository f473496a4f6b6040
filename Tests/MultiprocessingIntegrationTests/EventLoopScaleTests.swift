import MultiprocessingTestSupport
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// The event loop's proof: a thousand awaited receives and two hundred awaited children at once,
/// made ready in random order, hold no thread each. Runs in an exit test, a process of its own, so
/// that the thread count is this test's alone.
@Suite("Event loop at scale", .timeLimit(.minutes(3)))
struct EventLoopScaleTests {
    @Test("1,000 awaited connections and 200 awaited children complete with fewer than 20 threads")
    func thousandWaiters() async {
        await #expect(processExitsWith: .success) {
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            limit.rlim_cur = limit.rlim_max
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)

            let connectionCount = 1000
            let childCount = 200
            var receivers: [Connection] = []
            var senders: [Connection] = []
            for _ in 0..<connectionCount {
                let (a, b) = try Connection.pipe()
                receivers.append(a)
                senders.append(b)
            }
            var children: [ChildProcess<Int>] = []
            var childSenders: [Connection] = []
            for _ in 0..<childCount {
                let (parentEnd, childEnd) = try Connection.pipe()
                let child = ChildProcess(running: WaitForValueTask(connection: childEnd))
                try child.start()
                childEnd.close()
                children.append(child)
                childSenders.append(parentEnd)
            }

            let sentAt = ProtectedState([Int: ContinuousClock.Instant]())
            let lateness = ProtectedState(Duration.zero)
            let sampler = try ThreadCountSampler()

            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, receiver) in receivers.enumerated() {
                    group.addTask {
                        let value = try await receiver.receive(Int.self)
                        precondition(value == index)
                        let arrived = ContinuousClock.now
                        if let sent = sentAt.withLock({ $0[index] }) {
                            lateness.withLock { $0 = max($0, arrived - sent) }
                        }
                    }
                }
                for (index, child) in children.enumerated() {
                    group.addTask {
                        let value = try await child.value()
                        precondition(value == index)
                        let arrived = ContinuousClock.now
                        if let sent = sentAt.withLock({ $0[connectionCount + index] }) {
                            lateness.withLock { $0 = max($0, arrived - sent) }
                        }
                    }
                }
                // Let every waiter register, then make them ready in random order.
                while EventLoop.shared.pendingWaitCount < connectionCount + childCount {
                    try await Task.sleep(for: .milliseconds(5))
                }
                for index in (0..<(connectionCount + childCount)).shuffled() {
                    sentAt.withLock { $0[index] = .now }
                    if index < connectionCount {
                        try await senders[index].send(index)
                    } else {
                        try await childSenders[index - connectionCount].send(index - connectionCount)
                    }
                }
                try await group.waitForAll()
            }
            let threads = sampler.stop()
            let latest = lateness.withLock { $0 }
            print("threads at most: \(threads); slowest await after its data: \(latest)")
            precondition(threads < 20, "the process used \(threads) threads")
            precondition(latest < .seconds(2), "an await completed \(latest) after its data arrived")
            for child in children { precondition(child.exitStatus == .exited(0)) }
        }
    }

    @Test("1,000 callers awaiting a busy pool, process or thread, hold no thread each; every one gets its output")
    func thousandPoolCallers() async {
        await #expect(processExitsWith: .success) {
            let sampler = try ThreadCountSampler()
            let callers = 1000
            for kind in ["processes", "threads"] {
                let pool: any TaskPool = kind == "processes" ? ProcessPool(workers: 4) : ThreadPool(workers: 4)
                let go = try ProcessEvent()
                let done = try ProcessEvent()
                // Every worker busy until `go`: the 1,000 callers behind them all have to wait.
                let blockers = (0..<4).map { _ in pool.submit(EventRelayTask(go: go, done: done)) }
                let futures = (0..<callers).map { pool.submit(TwiceTask($0)) }
                if let processes = pool as? ProcessPool {
                    while processes.busyWorkerCount < 4 { try await Task.sleep(for: .milliseconds(5)) }
                }
                go.set()
                for (index, future) in futures.enumerated() {
                    let output = try await future.value
                    precondition(output == 2 * index, "caller \(index) got \(output)")
                }
                for blocker in blockers {
                    let woke = try await blocker.value
                    precondition(woke, "a blocker timed out")
                }
                pool.close()
            }
            let threads = sampler.stop()
            print("threads at most: \(threads)")
            precondition(threads < 24, "the process used \(threads) threads")
        }
    }
}

/// Samples this process's thread count every 2 ms on a thread of its own until stopped.
private final class ThreadCountSampler: Sendable {
    private let maximum = ProtectedState(currentThreadCount())
    private let isWatching = ProtectedState(true)
    private let thread: WorkerThread<Void>

    init() throws {
        let (maximum, isWatching) = (maximum, isWatching)
        thread = WorkerThread(isDaemon: true) {
            while isWatching.withLock({ $0 }) {
                let count = currentThreadCount()
                maximum.withLock { $0 = max($0, count) }
                usleep(2000)
            }
        }
        try thread.start()
    }

    /// Stops sampling and returns the most threads seen.
    func stop() -> Int {
        isWatching.withLock { $0 = false }
        return maximum.withLock { $0 }
    }
}
