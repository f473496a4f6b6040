import MultiprocessingTestSupport
import SystemPackage
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Shared memory between processes", .timeLimit(.minutes(1)))
struct SharedMemoryTests {
    @Test("the slide's square_list: a child fills a shared Array and Value, the parent reads them")
    func squareList() throws {
        let squares = try SharedArray<Int32>(repeating: 0, count: 4)
        let sum = try SharedValue<Int32>(0)
        let child = ChildProcess(running: SquareListTask(numbers: [1, 2, 3, 4], squares: squares, sum: sum))
        try child.start()
        try child.join()
        #expect(squares.toArray() == [1, 4, 9, 16])
        #expect(sum.value == 30)
    }

    @Test("an anonymous segment reaches a spawned child by descriptor and a forked child by inheritance")
    func anonymousSegment() throws {
        let segment = try SharedMemory(byteCount: 4096)
        let spawned = ChildProcess(running: WriteSegmentTask(segment: segment, value: 7, crash: false))
        try spawned.start()
        try spawned.join()
        #expect(segment.bytes.load(as: Int.self) == 7)
        let forked = ChildProcess(forking: { segment.bytes.storeBytes(of: 8, as: Int.self) })
        try forked.start()
        try forked.join()
        #expect(segment.bytes.load(as: Int.self) == 8)
    }

    @Test("a named segment: another process attaches by name; wrong size and missing names are clear errors")
    func namedSegment() throws {
        let name = "mp-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let segment = try SharedMemory(creatingName: name, byteCount: 8192)
            #expect(sharedMemoryNames().contains(name))
            let child = ChildProcess(running: AttachNamedTask(name: name, value: 99))
            try child.start()
            #expect(try child.value() == 8192)
            #expect(segment.bytes.load(as: Int.self) == 99)

            let tooBig = try #require(throws: SharedMemoryError.self) {
                try SharedMemory(attachingName: name, byteCount: 1 << 20)
            }
            #expect(tooBig.code == .sizeMismatch)
            let twice = try #require(throws: SharedMemoryError.self) {
                try SharedMemory(creatingName: name, byteCount: 10)
            }
            #expect(twice.code == .alreadyExists)
        }
        // The creator went away: the name is gone.
        #expect(!sharedMemoryNames().contains(name))
        let missing = try #require(throws: SharedMemoryError.self) { try SharedMemory(attachingName: name) }
        #expect(missing.code == .notFound)
        let bad = try #require(throws: SharedMemoryError.self) { try SharedMemory(creatingName: "a/b", byteCount: 1) }
        #expect(bad.code == .invalidArgument)
    }

    @Test("a child that crashes while holding anonymous segments leaves nothing in /dev/shm")
    func noLeakAfterCrash() throws {
        let before = sharedMemoryNames()
        let segment = try SharedMemory(byteCount: 1 << 20)
        let child = ChildProcess(running: WriteSegmentTask(segment: segment, value: 5, crash: true))
        try child.start()
        #expect(try child.join() == .signaled(SIGKILL))
        #expect(segment.bytes.load(as: Int.self) == 5)
        let added = sharedMemoryNames().subtracting(before).filter { $0.hasPrefix("mp-test") == false }
        #expect(added.isEmpty)
    }

    @Test("a 64 MiB shared array crosses to a child as a descriptor and is summed there")
    func bigArrayByReference() throws {
        let count = 8 << 20
        let array = try SharedArray<Int>(repeating: 3, count: count)
        let child = ChildProcess(running: SumSharedArrayTask(array: array))
        try child.start()
        #expect(try child.value() == 3 * count)
    }
}

@Suite("ProcessLock and shared counters across processes", .timeLimit(.minutes(1)))
struct ProcessLockTests {
    @Test("counters incremented by 3 processes × 2 threads under a ProcessLock end exact")
    func lockedCounters() throws {
        let counter = try SharedValue(0)
        let lock = try ProcessLock()
        let children = (0..<3).map { _ in
            ChildProcess(running: LockedIncrementTask(counter: counter, lock: lock, iterations: 500, threads: 2))
        }
        for child in children { try child.start() }
        _ = try LockedIncrementTask(counter: counter, lock: lock, iterations: 500, threads: 2).run()
        for child in children { #expect(try child.join() == .exited(0)) }
        #expect(counter.value == 4 * 2 * 500)
    }

    @Test("atomic adds from two processes end exact")
    func atomicCounters() throws {
        let counter = try SharedValue(0)
        let child = ChildProcess(running: AtomicIncrementTask(counter: counter, iterations: 20_000))
        try child.start()
        _ = AtomicIncrementTask(counter: counter, iterations: 20_000).run()
        try child.join()
        #expect(counter.atomicLoad() == 40_000)
    }

    @Test(
        "a holder SIGKILLed inside the lock: the next acquirer learns it and the lock works again",
        arguments: [ProcessLock.Fairness.unordered, .firstComeFirstServed]
    )
    func ownerDied(fairness: ProcessLock.Fairness) throws {
        let lock = try ProcessLock(fairness: fairness)
        let (ready, readyForChild) = try Connection.pipe()
        let child = ChildProcess(running: DieHoldingLockTask(lock: lock, ready: readyForChild))
        try child.start()
        readyForChild.close()
        #expect(try ready.receive(Int.self) == 1)
        #expect(try child.join() == .signaled(SIGKILL))
        #expect(try lock.lock() == .previousOwnerDied)
        lock.unlock()
        #expect(try lock.lock() == .acquired)
        lock.unlock()
    }

    @Test(
        "a timed acquire gives up while another process holds the lock, and succeeds after",
        arguments: [ProcessLock.Fairness.unordered, .firstComeFirstServed]
    )
    func timeouts(fairness: ProcessLock.Fairness) throws {
        let lock = try ProcessLock(fairness: fairness)
        try lock.lock()
        let blocked = ChildProcess(running: TimedLockTask(lock: lock, milliseconds: 50))
        try blocked.start()
        #expect(try blocked.value() == false)
        #expect(try lock.tryLock() == nil)  // held, even by this thread: not recursive
        lock.unlock()
        let free = ChildProcess(running: TimedLockTask(lock: lock, milliseconds: 5000))
        try free.start()
        #expect(try free.value() == true)
    }
}
