public import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

// Task types for the shared-memory and lock tests.

/// The slide's `square_list`: fills `squares` and stores their sum in `sum`.
public struct SquareListTask: ParallelTask {
    public var numbers: [Int32]
    public var squares: SharedArray<Int32>
    public var sum: SharedValue<Int32>
    public init(numbers: [Int32], squares: SharedArray<Int32>, sum: SharedValue<Int32>) {
        self.numbers = numbers
        self.squares = squares
        self.sum = sum
    }
    public func run() -> NoOutput {
        for (index, number) in numbers.enumerated() { squares[index] = number * number }
        sum.value = numbers.reduce(0) { $0 + $1 * $1 }
        return NoOutput()
    }
}

/// Increments `counter` with a plain read-then-write under `lock`, from `threads` threads: only
/// the lock keeps the count exact.
public struct LockedIncrementTask: ParallelTask {
    public var counter: SharedValue<Int>
    public var lock: ProcessLock
    public var iterations: Int
    public var threads: Int
    public init(counter: SharedValue<Int>, lock: ProcessLock, iterations: Int, threads: Int) {
        self.counter = counter
        self.lock = lock
        self.iterations = iterations
        self.threads = threads
    }
    public func run() throws -> NoOutput {
        let workers = (0..<threads).map { _ in
            WorkerThread { [counter, lock, iterations] in
                for _ in 0..<iterations {
                    try lock.withLock { counter.storeWithoutLock(counter.loadWithoutLock() + 1) }
                }
            }
        }
        for worker in workers { try worker.start() }
        for worker in workers { try worker.value() }
        return NoOutput()
    }
}

/// Adds 1 to `counter` `iterations` times with the atomic add.
public struct AtomicIncrementTask: ParallelTask {
    public var counter: SharedValue<Int>
    public var iterations: Int
    public init(counter: SharedValue<Int>, iterations: Int) {
        self.counter = counter
        self.iterations = iterations
    }
    public func run() -> NoOutput {
        for _ in 0..<iterations { counter.wrappingAdd(1) }
        return NoOutput()
    }
}

/// Takes `lock`, says so on `ready`, and dies holding it.
public struct DieHoldingLockTask: ParallelTask {
    public var lock: ProcessLock
    public var ready: Connection
    public init(lock: ProcessLock, ready: Connection) {
        self.lock = lock
        self.ready = ready
    }
    public func run() throws -> NoOutput {
        try lock.lock()
        try ready.send(1)
        raise(SIGKILL)
        return NoOutput()
    }
}

/// Whether the lock could be taken within `milliseconds` (released again if so): a plain or a
/// recursive lock, whichever is given.
public struct TimedLockTask: ParallelTask {
    public var lock: ProcessLock?
    public var recursiveLock: ProcessRecursiveLock?
    public var milliseconds: Int
    public init(lock: ProcessLock, milliseconds: Int) {
        self.lock = lock
        self.milliseconds = milliseconds
    }
    public init(recursiveLock: ProcessRecursiveLock, milliseconds: Int) {
        self.recursiveLock = recursiveLock
        self.milliseconds = milliseconds
    }
    public func run() throws -> Bool {
        let timeout = Duration.milliseconds(milliseconds)
        if let lock {
            guard try lock.lock(timeout: timeout) != nil else { return false }
            lock.unlock()
        } else if let recursiveLock {
            guard try recursiveLock.lock(timeout: timeout) != nil else { return false }
            recursiveLock.unlock()
        }
        return true
    }
}

/// Attaches to the named segment and writes `value` at its start; returns the segment's size.
public struct AttachNamedTask: ParallelTask {
    public var name: String
    public var value: Int
    public init(name: String, value: Int) {
        self.name = name
        self.value = value
    }
    public func run() throws -> Int {
        let segment = try SharedMemory(attachingName: name)
        segment.bytes.storeBytes(of: value, as: Int.self)
        return segment.byteCount
    }
}

/// Writes `value` at the start of `segment`, then crashes or returns.
public struct WriteSegmentTask: ParallelTask {
    public var segment: SharedMemory
    public var value: Int
    public var crash: Bool
    public init(segment: SharedMemory, value: Int, crash: Bool) {
        self.segment = segment
        self.value = value
        self.crash = crash
    }
    public func run() -> NoOutput {
        segment.bytes.storeBytes(of: value, as: Int.self)
        if crash { raise(SIGKILL) }
        return NoOutput()
    }
}

/// Sums a shared array in the child: the array crosses as a descriptor, not a copy.
public struct SumSharedArrayTask: ParallelTask {
    public var array: SharedArray<Int>
    public init(array: SharedArray<Int>) { self.array = array }
    public func run() -> Int {
        array.withUnsafeMutableBufferPointer { elements in
            var total = 0
            for element in elements { total &+= element }
            return total
        }
    }
}

/// The names in /dev/shm, for leak checks.
public func sharedMemoryNames() -> Set<String> {
    guard let directory = opendir("/dev/shm") else { return [] }
    defer { closedir(directory) }
    var names: Set<String> = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.insert(name) }
    }
    return names
}

/// Waits for `go`, then sets `done`: two events crossing processes in both directions.
public struct EventRelayTask: ParallelTask {
    public var go: ProcessEvent
    public var done: ProcessEvent
    public init(go: ProcessEvent, done: ProcessEvent) {
        self.go = go
        self.done = done
    }
    public func run() -> Bool {
        let woke = go.wait(timeout: .seconds(30))
        done.set()
        return woke
    }
}

/// Takes a permit `rounds` times; while holding it, counts the holders and records the most seen.
public struct SemaphoreHolderTask: ParallelTask {
    public var semaphore: ProcessSemaphore
    public var active: SharedValue<Int>
    public var mostActive: SharedValue<Int>
    public var rounds: Int
    public init(semaphore: ProcessSemaphore, active: SharedValue<Int>, mostActive: SharedValue<Int>, rounds: Int) {
        self.semaphore = semaphore
        self.active = active
        self.mostActive = mostActive
        self.rounds = rounds
    }
    public func run() throws -> NoOutput {
        for _ in 0..<rounds {
            semaphore.acquire()
            let now = active.wrappingAdd(1)
            while true {
                let most = mostActive.atomicLoad()
                if now <= most || mostActive.compareExchange(expected: most, desired: now) { break }
            }
            sched_yield()
            active.wrappingAdd(-1)
            try semaphore.release()
        }
        return NoOutput()
    }
}

/// Waits at `barrier` `rounds` times and returns its arrival indices.
public struct BarrierTask: ParallelTask {
    public var barrier: ProcessBarrier
    public var rounds: Int
    public init(barrier: ProcessBarrier, rounds: Int) {
        self.barrier = barrier
        self.rounds = rounds
    }
    public func run() throws -> [Int] {
        try (0..<rounds).map { _ in try barrier.wait(timeout: .seconds(30)) }
    }
}

/// Waits on `condition` until `flag` is set (or 30 s pass); returns whether it saw the flag.
public struct ConditionWaiterTask: ParallelTask {
    public var condition: ProcessCondition
    public var flag: SharedValue<Int>
    public var waiting: ProcessEvent
    public init(condition: ProcessCondition, flag: SharedValue<Int>, waiting: ProcessEvent) {
        self.condition = condition
        self.flag = flag
        self.waiting = waiting
    }
    public func run() throws -> Bool {
        try condition.withLock {
            waiting.set()
            return try condition.wait(for: { flag.loadWithoutLock() == 1 }, timeout: .seconds(30))
        }
    }
}

/// Whether thread `tid` of process `pid` is asleep (state `S` in its `/proc` stat line).
public func isThreadAsleep(pid: Int32, tid: Int32) -> Bool {
    guard let file = fopen("/proc/\(pid)/task/\(tid)/stat", "r") else { return false }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    guard fgets(&line, Int32(line.count), file) != nil else { return false }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // "tid (name) S …": the name may hold spaces and parentheses, so read after the last ')'.
    guard let close = text.lastIndex(of: ")") else { return false }
    return text[close...].dropFirst().drop { $0 == " " }.first == "S"
}

/// Says which thread it runs on (over `arrival`), then takes `lock` and appends `index` to the
/// list kept in `slots` and `count`: one worker of the lock-order demo, for a thread or a process.
public struct AppendUnderLockTask: ParallelTask {
    public var lock: ProcessLock
    public var slots: SharedArray<Int32>
    public var count: SharedValue<Int>
    public var index: Int32
    public var arrival: Connection
    public var timeoutMilliseconds: Int?
    public init(
        lock: ProcessLock,
        slots: SharedArray<Int32>,
        count: SharedValue<Int>,
        index: Int32,
        arrival: Connection,
        timeoutMilliseconds: Int? = nil
    ) {
        self.lock = lock
        self.slots = slots
        self.count = count
        self.index = index
        self.arrival = arrival
        self.timeoutMilliseconds = timeoutMilliseconds
    }
    /// Whether it got the lock (always, without a timeout).
    public func run() throws -> Bool {
        try arrival.send(WorkerContext.nativeThreadID)
        if let timeoutMilliseconds {
            guard try lock.lock(timeout: .milliseconds(timeoutMilliseconds)) != nil else { return false }
        } else {
            try lock.lock()
        }
        defer { lock.unlock() }
        let position = count.loadWithoutLock()
        slots[position] = index
        count.storeWithoutLock(position + 1)
        return true
    }
}

/// Where its `run` executes: the thread's name (from `/proc/thread-self/comm`) and whether it is
/// the process's main thread.
public struct WhereDoesItRunTask: ParallelTask {
    public init() {}
    public func run() async -> [String] {
        await Task.yield()  // resumes where it was; still the same thread
        guard let file = fopen("/proc/thread-self/comm", "r") else { return [] }
        defer { fclose(file) }
        var name = [CChar](repeating: 0, count: 32)
        _ = fgets(&name, Int32(name.count), file)
        let text = String(decoding: name.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return [text, WorkerContext.nativeThreadID == getpid() ? "main" : "other"]
    }
}
