import Dispatch
import Multiprocessing

/// `ThreadPool.map` against what a Swift user would write instead on the same work: a task group
/// and `DispatchQueue.concurrentPerform`. The work is `count` tasks of fib(`n`) on `workers`
/// threads; the time covers the map only (the pool is started first, as Dispatch's threads are).
enum ThreadPoolMeasurements {
    struct Figures {
        var threadPool: Double
        var taskGroup: Double
        var concurrentPerform: Double
    }

    static func measure(n: Int, count: Int, workers: Int) throws -> Figures {
        let expected = fibonacci(n)
        let pool = ThreadPool(workers: workers)
        defer { pool.close() }
        _ = try pool.map((0..<workers).map { _ in FibonacciTask(n: 5, quiet: true) })
        let tasks = Array(repeating: FibonacciTask(n: n, quiet: true), count: count)
        let threadPool = try seconds {
            let outputs = try pool.map(tasks)
            precondition(outputs.allSatisfy { $0 == expected })
        }
        let taskGroup = try seconds {
            let outputs = try waitForAsync {
                await withTaskGroup(of: (Int, Int).self) { group in
                    for index in 0..<count { group.addTask { (index, fibonacci(n)) } }
                    var outputs = [Int](repeating: 0, count: count)
                    for await (index, value) in group { outputs[index] = value }
                    return outputs
                }
            }
            precondition(outputs.allSatisfy { $0 == expected })
        }
        let concurrentPerform = try seconds {
            let outputs = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            defer { outputs.deallocate() }
            let base = SendablePointer(outputs.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: count) { index in base.pointer[index] = fibonacci(n) }
            precondition(outputs.allSatisfy { $0 == expected })
        }
        return Figures(threadPool: threadPool, taskGroup: taskGroup, concurrentPerform: concurrentPerform)
    }

    private static func seconds(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return (clock.now - start) / .seconds(1)
    }

    /// Each iteration writes its own slot; nothing is shared between them.
    private struct SendablePointer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Int>
        init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
    }
}
