import Multiprocessing
import Testing

@testable import mpdemo

@Suite("mpdemo lock-order: Demo #3 and #4", .timeLimit(.minutes(1)))
struct LockOrderDemoTests {
    @Test("out of order counts the numbers that must move: one late worker counts once")
    func outOfOrderMetric() {
        #expect(LockOrderRun.countOutOfOrder([1, 2, 3, 4]) == 0)
        #expect(LockOrderRun.countOutOfOrder([2, 3, 4, 1]) == 1)
        #expect(LockOrderRun.countOutOfOrder([1, 3, 2, 4]) == 1)
        #expect(LockOrderRun.countOutOfOrder([4, 3, 2, 1]) == 3)
        #expect(LockOrderRun.countOutOfOrder([]) == 0)
    }

    @Test(
        "with the fair lock the list is 1...N, for threads and for processes, in shared memory or a Manager's list",
        arguments: [(false, false), (true, false), (true, true)]
    )
    func fairLockInOrder(processes: Bool, managedList: Bool) throws {
        let workers = processes ? 8 : 40
        let run = try LockOrderRun(
            workers: workers,
            processes: processes,
            pauseSeconds: 0.002,
            fairness: .firstComeFirstServed,
            orderedStart: true,
            managedList: managedList
        )
        #expect(run.list == Array(1...Int32(workers)))
        #expect(run.outOfOrder == 0)
    }

    @Test("without the lock every worker still appends exactly once")
    func noLockLosesNothing() throws {
        let run = try LockOrderRun(
            workers: 40,
            processes: false,
            pauseSeconds: 0.001,
            fairness: nil,
            orderedStart: false
        )
        #expect(run.list.sorted() == Array(1...40))
    }
}

@Suite("mpdemo queue: Demo #6", .timeLimit(.minutes(1)))
struct QueueDemoTests {
    @Test("every kind delivers every number to the reader process", arguments: QueueKind.allCases)
    func everyKind(kind: QueueKind) throws {
        #expect(try measureQueueRun(kind: kind, count: 5000) > 0)
    }
}

@Suite("mpdemo pool: Demo #2", .timeLimit(.minutes(1)))
struct PoolDemoTests {
    @Test("the demo maps fib(n) over a pool of processes: the slide's list")
    func demo() throws {
        let (results, seconds) = try PoolDemo.measure(n: 20, workers: 2, tasks: 3)
        #expect(results == [4181, 4181, 4181])
        #expect(seconds > 0)
    }
}
