import MultiprocessingTestSupport
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Synchronization primitives across processes", .timeLimit(.minutes(1)))
struct SynchronizationTests {
    @Test("an event set in one process wakes a waiter in another, both ways")
    func eventAcrossProcesses() throws {
        let go = try ProcessEvent()
        let done = try ProcessEvent()
        let child = ChildProcess(running: EventRelayTask(go: go, done: done))
        try child.start()
        #expect(done.wait(timeout: .milliseconds(20)) == false)
        go.set()
        #expect(done.wait(timeout: .seconds(30)))
        #expect(try child.value())
        done.clear()
        #expect(!done.isSet)
    }

    @Test("a semaphore of 2 permits never has more than 2 holders across 4 processes")
    func semaphoreBound() throws {
        let semaphore = try ProcessSemaphore(value: 2)
        let active = try SharedValue(0)
        let mostActive = try SharedValue(0)
        let children = (0..<4).map { _ in
            ChildProcess(
                running: SemaphoreHolderTask(semaphore: semaphore, active: active, mostActive: mostActive, rounds: 300)
            )
        }
        for child in children { try child.start() }
        for child in children { #expect(try child.join() == .exited(0)) }
        #expect(mostActive.atomicLoad() <= 2)
        #expect(mostActive.atomicLoad() >= 1)
        #expect(active.atomicLoad() == 0)
        #expect(semaphore.value == 2)
    }

    @Test("timeouts, try-acquire and the bound of a bounded semaphore")
    func semaphoreEdges() throws {
        let semaphore = try ProcessSemaphore(value: 1, maximum: 1)
        #expect(semaphore.tryAcquire())
        #expect(!semaphore.tryAcquire())
        #expect(!semaphore.acquire(timeout: .milliseconds(20)))
        try semaphore.release()
        let error = try #require(throws: SharedMemoryError.self) { try semaphore.release() }
        #expect(error.code == .invalidArgument)
        #expect(semaphore.value == 1)
        #expect(throws: SharedMemoryError.self) { try ProcessSemaphore(value: 3, maximum: 2) }
        #expect(throws: SharedMemoryError.self) { try ProcessSemaphore(value: -1) }
    }

    @Test("a recursive lock is taken twice by its holder and kept from another process until released twice")
    func recursiveLock() throws {
        let lock = try ProcessRecursiveLock()
        try lock.lock()
        #expect(try lock.tryLock() == .acquired)  // again, same thread
        let blocked = ChildProcess(running: TimedLockTask(recursiveLock: lock, milliseconds: 30))
        try blocked.start()
        #expect(try blocked.value() == false)
        lock.unlock()
        let stillBlocked = ChildProcess(running: TimedLockTask(recursiveLock: lock, milliseconds: 30))
        try stillBlocked.start()
        #expect(try stillBlocked.value() == false)
        lock.unlock()
        let free = ChildProcess(running: TimedLockTask(recursiveLock: lock, milliseconds: 5000))
        try free.start()
        #expect(try free.value() == true)
    }

    @Test("a barrier for 4 parties: 3 children and the parent meet 3 times, indices 0...3 each time")
    func barrierAcrossProcesses() throws {
        let barrier = try ProcessBarrier(parties: 4)
        let children = (0..<3).map { _ in ChildProcess(running: BarrierTask(barrier: barrier, rounds: 3)) }
        for child in children { try child.start() }
        let mine = try BarrierTask(barrier: barrier, rounds: 3).run()
        let all = try children.map { try $0.value() } + [mine]
        for round in 0..<3 {
            #expect(Set(all.map { $0[round] }) == [0, 1, 2, 3])
        }
    }

    @Test("a barrier wait that times out breaks it for everyone until reset")
    func barrierTimeout() throws {
        let barrier = try ProcessBarrier(parties: 2)
        let error = try #require(throws: SharedMemoryError.self) { try barrier.wait(timeout: .milliseconds(20)) }
        #expect(error.code == .brokenBarrier)
        #expect(barrier.isBroken)
        #expect(throws: SharedMemoryError.self) { try barrier.wait(timeout: .seconds(5)) }
        barrier.reset()
        #expect(!barrier.isBroken)
        let partner = ChildProcess(running: BarrierTask(barrier: barrier, rounds: 1))
        try partner.start()
        _ = try barrier.wait(timeout: .seconds(30))
        #expect(try partner.value().count == 1)
    }

    @Test("a condition: a child waits for a predicate, the parent changes it and notifies")
    func conditionAcrossProcesses() throws {
        let condition = try ProcessCondition()
        let flag = try SharedValue(0)
        let waiting = try ProcessEvent()
        let child = ChildProcess(running: ConditionWaiterTask(condition: condition, flag: flag, waiting: waiting))
        try child.start()
        #expect(waiting.wait(timeout: .seconds(30)))
        try condition.withLock {
            flag.storeWithoutLock(1)
            condition.notifyAll()
        }
        #expect(try child.value() == true)
        // A wait with nobody to notify times out and returns false, holding the lock again.
        let notified = try condition.withLock { try condition.wait(timeout: .milliseconds(20)) }
        #expect(notified == false)
    }

    @Test("abort wakes a waiter however the two interleave; huge timeouts do not overflow")
    func abortAndHugeTimeouts() throws {
        let barrier = try ProcessBarrier(parties: 3)
        let waiter = WorkerThread { () -> SharedMemoryError.Code? in
            do {
                _ = try barrier.wait()
                return nil
            } catch let error as SharedMemoryError {
                return error.code
            }
        }
        try waiter.start()
        sched_yield()
        barrier.abort()
        #expect(try waiter.value() == .brokenBarrier)

        let event = try ProcessEvent()
        event.set()
        #expect(event.wait(timeout: .seconds(Int64.max)))
        let lock = try ProcessLock()
        #expect(try lock.lock(timeout: .seconds(Int64.max)) == .acquired)
        lock.unlock()
        let semaphore = try ProcessSemaphore(value: 1)
        #expect(semaphore.acquire(timeout: .seconds(Int64.max)))
    }

    @Test("an anonymous segment is sealed: its size cannot change under a receiver")
    func sealedSegments() throws {
        let segment = try SharedMemory(byteCount: 4096)
        #expect(system_is_size_sealed(segment.rawDescriptor))
        #expect(ftruncate(segment.rawDescriptor, 16) == -1)
    }
}
