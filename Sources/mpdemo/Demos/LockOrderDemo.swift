import ArgumentParser
import Foundation
import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// The slides' `f(l, i)`: says which thread it runs on, takes the lock, and appends `index` to the
/// shared list (the even ones after a sleep). Runs on a thread (Demo #3) or in a process (Demo #4).
struct LockOrderWorker: ParallelTask {
    var index: Int32
    var pauseSeconds: Double
    var lock: ProcessLock?
    var list: LockOrderList
    var arrival: Connection

    func run() throws -> NoOutput {
        try arrival.send(WorkerContext.nativeThreadID)
        if let lock { try lock.lock() }
        defer { lock?.unlock() }
        if index % 2 == 0 { Thread.sleep(forTimeInterval: pauseSeconds) }
        try list.append(index)
        return NoOutput()
    }
}

/// Where the workers append: a `Manager().list()` as on the slide, or an array in shared memory.
enum LockOrderList: Codable, Sendable {
    case managed(ManagedList<Int32>)
    case shared(SharedArray<Int32>, count: SharedValue<Int>)

    func append(_ value: Int32) throws {
        switch self {
        case .managed(let list): try list.append(value)
        // Python's list.append: one slot, taken atomically, so nothing is lost without the lock either.
        case .shared(let slots, let count): slots[count.wrappingAdd(1) - 1] = value
        }
    }

    func contents() throws -> [Int32] {
        switch self {
        case .managed(let list): try list.toArray()
        case .shared(let slots, let count): Array(slots.toArray().prefix(count.loadWithoutLock()))
        }
    }
}

/// Demo #3 and #4: 100 workers append their numbers under a lock, the even ones after a sleep.
struct LockOrderDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock-order",
        abstract: "Workers append 1...N under a lock (even ones sleep first): in order with a fair lock, every time.",
        discussion: """
            The slides' claim "in order with the lock" needs two things: the workers must reach the lock \
            in the order they were started, and the lock must serve its waiters in the order they came. \
            Python's lock promises neither. Here each worker is started once the previous one is waiting \
            (or done), and the default lock is first come, first served, so the list is 1...N every time. \
            --lock unordered shows the fastest lock, which a newcomer can take ahead of a waiter; \
            --free-start starts the workers as fast as possible, as the slides do.
            """
    )

    enum LockKind: String, ExpressibleByArgument {
        case fair, unordered
    }

    @Option(
        name: [.customLong("threads"), .customLong("workers"), .customLong("count")],
        help: "The number of workers."
    )
    var workers = 100

    @Flag(help: "Workers are processes (Demo #4) instead of threads (Demo #3).")
    var processes = false

    @Option(help: "Seconds each even worker sleeps while holding the lock.")
    var sleep = 0.5

    @Flag(help: "Append without the lock (the slide's commented-out version).")
    var noLock = false

    @Option(help: "fair: first come, first served. unordered: whoever takes it first, as Python's.")
    var lock: LockKind = .fair

    @Flag(help: "Start the workers as fast as possible instead of each once the previous one waits.")
    var freeStart = false

    enum ListKind: String, ExpressibleByArgument {
        case managed, shared
    }

    @Option(help: "managed: a Manager's list, as on the slide (Manager().list()). shared: an array in shared memory.")
    var list: ListKind = .managed

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard sleep >= 0, sleep.isFinite else { throw ValidationError("--sleep must be a number of seconds ≥ 0") }
    }

    func run() throws {
        let quiet = common.json
        let run = try LockOrderRun(
            workers: workers,
            processes: processes,
            pauseSeconds: sleep,
            fairness: noLock ? nil : (lock == .fair ? .firstComeFirstServed : .unordered),
            orderedStart: !freeStart,
            managedList: list == .managed
        )
        let lockName = noLock ? "none" : (lock == .fair ? "first-come-first-served" : "unordered")
        if !quiet {
            print(run.list)
            print()
            print(
                "\(run.outOfOrder) of \(workers) out of order, \(String(format: "%.2f", run.seconds)) s "
                    + "(\(processes ? "processes" : "threads"), lock: \(lockName)"
                    + "\(freeStart ? ", free start" : ""), list: \(list.rawValue))"
            )
        }

        var figures = JSONObject()
        figures["demo"] = "lock-order"
        figures["language"] = "swift"
        figures["workers"] = processes ? "processes" : "threads"
        figures["lock"] = lockName
        figures["ordered_start"] = !freeStart
        figures["list_kind"] = list.rawValue
        figures["list"] = run.list.map(Int.init)
        figures["out_of_order"] = run.outOfOrder
        figures["seconds"] = run.seconds
        if common.vsPython {
            var arguments = ["--threads", "\(workers)", "--sleep", "\(sleep)"]
            if processes { arguments.append("--processes") }
            if noLock { arguments.append("--no-lock") }
            let python = try PythonRunner(interpreter: common.python).run("lock_order.py", arguments)
            figures["python"] = python.asJSONObject
            if !quiet {
                let pythonList = (python["list"] as? [Int]) ?? []
                print("\nCPython (Benchmarks/python/lock_order.py, \(python["lock"] ?? "?")):")
                print(pythonList)
                print("\(python["out_of_order"] ?? "?") of \(workers) out of order")
            }
        }
        if quiet { print(figures.text) }
    }
}

/// One run of the lock-order experiment.
struct LockOrderRun {
    var list: [Int32]
    var seconds: Double
    /// How many numbers landed out of order: the fewest that must move to sort the list (its
    /// length minus its longest increasing subsequence), so one late worker counts once.
    var outOfOrder: Int { Self.countOutOfOrder(list) }

    static func countOutOfOrder(_ list: [Int32]) -> Int {
        var tails: [Int32] = []  // tails[k]: the smallest last element of an increasing run of k + 1
        for value in list {
            var low = 0
            var high = tails.count
            while low < high {
                let middle = (low + high) / 2
                if tails[middle] < value { low = middle + 1 } else { high = middle }
            }
            if low == tails.count { tails.append(value) } else { tails[low] = value }
        }
        return list.count - tails.count
    }

    init(
        workers: Int,
        processes: Bool,
        pauseSeconds: Double,
        fairness: ProcessLock.Fairness?,
        orderedStart: Bool,
        managedList: Bool = false
    ) throws {
        let lock = try fairness.map { try ProcessLock(fairness: $0) }
        let manager = managedList ? try Manager() : nil
        defer { manager?.shutdown() }
        let destination: LockOrderList =
            if let manager {
                .managed(try manager.list(of: Int32.self))
            } else {
                .shared(try SharedArray<Int32>(repeating: 0, count: workers), count: try SharedValue(0))
            }
        let (arrivals, arrivalForWorkers) = try Connection.pipe()
        let clock = ContinuousClock()
        let start = clock.now
        var threads: [WorkerThread<NoOutput>] = []
        var children: [ChildProcess<NoOutput>] = []
        for index in 1...Int32(workers) {
            let worker = LockOrderWorker(
                index: index,
                pauseSeconds: pauseSeconds,
                lock: lock,
                list: destination,
                arrival: arrivalForWorkers
            )
            let pid: Int32
            if processes {
                let child = ChildProcess(running: worker, name: "worker-\(index)")
                try child.start()
                children.append(child)
                pid = child.pid ?? 0
            } else {
                let thread = WorkerThread(name: "worker-\(index)", running: worker)
                try thread.start()
                threads.append(thread)
                pid = getpid()
            }
            if orderedStart {
                // The next worker starts only once this one waits in the lock (or sleeps, or is done),
                // so the workers reach the lock in the order they were started.
                let tid = try arrivals.receive(Int32.self)
                while !ThreadState.isAsleepOrGone(pid: pid, tid: tid) { sched_yield() }
            }
        }
        for thread in threads { _ = try thread.value() }
        for child in children { _ = try child.value() }
        seconds = Double((clock.now - start) / .milliseconds(1)) / 1000
        list = try destination.contents()
    }
}

/// A thread's scheduler state, read from `/proc`.
enum ThreadState {
    /// Whether thread `tid` of `pid` is asleep (state `S`: blocked in a lock, a sleep, a read) or
    /// no longer exists.
    static func isAsleepOrGone(pid: Int32, tid: Int32) -> Bool {
        guard let file = fopen("/proc/\(pid)/task/\(tid)/stat", "r") else { return true }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        guard fgets(&line, Int32(line.count), file) != nil else { return true }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // "tid (name) S …": the name may hold spaces and parentheses, so read after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return true }
        let state = text[close...].dropFirst().drop { $0 == " " }.first
        return state == "S" || state == "Z" || state == "X"
    }
}
