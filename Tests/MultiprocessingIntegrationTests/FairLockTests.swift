import Multiprocessing
import MultiprocessingTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("A first-come-first-served lock", .timeLimit(.minutes(1)))
struct FairLockTests {
    /// Queues workers on `lock` (held by the caller) one at a time: each is started only once the
    /// previous one is asleep in `lock()`, so the order they asked in is known.
    private func queueInOrder(
        _ count: Int,
        start: (Int32, Connection) throws -> Int32
    ) throws -> Connection {
        let (arrivals, arrivalForWorkers) = try Connection.pipe()
        for index in 0..<Int32(count) {
            let pid = try start(index, arrivalForWorkers)
            let tid = try arrivals.receive(Int32.self)
            while !isThreadAsleep(pid: pid, tid: tid) { sched_yield() }
        }
        return arrivals
    }

    @Test("12 threads get the lock in the order they asked; one that times out leaves the queue")
    func threadsInOrder() throws {
        let lock = try ProcessLock(fairness: .firstComeFirstServed)
        #expect(lock.fairness == .firstComeFirstServed)
        let slots = try SharedArray<Int32>(repeating: -1, count: 12)
        let count = try SharedValue(0)
        try lock.lock()
        var workers: [WorkerThread<Bool>] = []
        var quitter: WorkerThread<Bool>?
        _ = try queueInOrder(12) { index, arrival in
            let task = AppendUnderLockTask(
                lock: lock,
                slots: slots,
                count: count,
                index: index,
                arrival: arrival,
                timeoutMilliseconds: index == 5 ? 20 : nil
            )
            let worker = WorkerThread(running: task)
            try worker.start()
            if index == 5 { quitter = worker } else { workers.append(worker) }
            return getpid()
        }
        #expect(try quitter?.value() == false)  // timed out in the middle of the queue
        lock.unlock()
        for worker in workers { #expect(try worker.value() == true) }
        #expect(count.loadWithoutLock() == 11)
        #expect(Array(slots.toArray().prefix(11)) == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11])
    }

    @Test("spawned processes get the lock in the order they asked; one killed while waiting leaves the queue")
    func processesInOrder() throws {
        let lock = try ProcessLock(fairness: .firstComeFirstServed)
        let slots = try SharedArray<Int32>(repeating: -1, count: 6)
        let count = try SharedValue(0)
        try lock.lock()
        var children: [Int32: ChildProcess<Bool>] = [:]
        _ = try queueInOrder(6) { index, arrival in
            let child = ChildProcess(
                running: AppendUnderLockTask(lock: lock, slots: slots, count: count, index: index, arrival: arrival)
            )
            try child.start()
            children[index] = child
            return child.pid!
        }
        let killed = children.removeValue(forKey: 2)!
        try killed.kill()
        #expect(try killed.join() == .signaled(SIGKILL))
        lock.unlock()
        for index in children.keys.sorted() { #expect(try children[index]!.value() == true) }
        #expect(count.loadWithoutLock() == 5)
        #expect(Array(slots.toArray().prefix(5)) == [0, 1, 3, 4, 5])
        #expect(try lock.lock() == .acquired)  // a waiter's death is nothing to recover from
        lock.unlock()
    }
}
