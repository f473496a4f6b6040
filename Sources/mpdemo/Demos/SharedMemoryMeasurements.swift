import Multiprocessing

/// Adds 1 to a shared counter under its lock, `count` times: one side of the locked-increment race.
struct LockedIncrementsTask: ParallelTask {
    var counter: SharedValue<Int>
    var count: Int
    /// Set once this side is ready; it then waits for `go`, so the race starts for both at once.
    var ready: ProcessEvent?
    var go: ProcessEvent?

    func run() throws -> NoOutput {
        ready?.set()
        go?.wait()
        for _ in 0..<count { try counter.withLock { $0 += 1 } }
        return NoOutput()
    }
}

/// Sums a shared array in the child it was handed to (it crossed as a descriptor).
struct SumArrayTask: ParallelTask {
    var array: SharedArray<Int64>

    func run() -> Int64 {
        array.withUnsafeMutableBufferPointer { elements in elements.reduce(0, &+) }
    }
}

/// Receives shared arrays on `inbox` and answers each with its element count, until the parent
/// closes the connection: the far side of the hand-off measurement.
struct ArrayReceiverTask: ParallelTask {
    var inbox: Connection

    func run() throws -> NoOutput {
        while let array = try? inbox.receive(SharedArray<Int64>.self) { try inbox.send(array.count) }
        return NoOutput()
    }
}

/// The shared-memory benchmark rows, shared by `mpdemo bench` (against `shared_bench.py`).
struct SharedMemoryMeasurements {
    var increments: Int
    var lockOperations: Int
    var bandwidthMiB: Int
    var bigArrayMiB: Int

    /// Increments per second of a `SharedValue` under its lock, two processes at once.
    func lockedIncrements() throws -> Double {
        let counter = try SharedValue(0)
        let ready = try ProcessEvent()
        let go = try ProcessEvent()
        let child = ChildProcess(
            running: LockedIncrementsTask(counter: counter, count: increments, ready: ready, go: go)
        )
        try child.start()
        ready.wait()  // the child's start is not what is measured
        let seconds = try measure {
            go.set()
            _ = try LockedIncrementsTask(counter: counter, count: increments).run()
            try child.join()
        }
        precondition(counter.value == 2 * increments, "lost increments: \(counter.value)")
        return Double(2 * increments) / seconds
    }

    /// Uncontended `ProcessLock` acquire + release pairs per second.
    func uncontendedLock() throws -> Double {
        let lock = try ProcessLock()
        let seconds = try measure {
            for _ in 0..<lockOperations {
                try lock.lock()
                lock.unlock()
            }
        }
        return Double(lockOperations) / seconds
    }

    /// MB/s to copy into a shared array and back out again (two memcpy's of the size, into buffers
    /// already touched, so page faults are not what is measured).
    func bandwidth() throws -> Double {
        let byteCount = bandwidthMiB << 20
        let source = [UInt8](repeating: 0x5A, count: byteCount)
        var copy = [UInt8](repeating: 0, count: byteCount)
        let array = try SharedArray<UInt8>(repeating: 0, count: byteCount)
        let seconds = measure {
            for _ in 0..<4 {
                array.withUnsafeMutableBufferPointer { shared in
                    source.withUnsafeBytes { UnsafeMutableRawBufferPointer(shared).copyMemory(from: $0) }
                    copy.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(shared)) }
                }
            }
        }
        precondition(copy[byteCount - 1] == 0x5A)
        return Double(2 * 4 * byteCount) / seconds / 1e6
    }

    /// Seconds to hand a `bigArrayMiB` array of Int64 to a new child task and have it summed there,
    /// start to result (the array is built before the clock starts, as Python's is).
    func bigArrayToChild() throws -> Double {
        let count = (bigArrayMiB << 20) / 8
        let array = try SharedArray<Int64>(repeating: 1, count: count)
        var total: Int64 = 0
        let seconds = try measure {
            let child = ChildProcess(running: SumArrayTask(array: array))
            try child.start()
            total = try child.value()
        }
        precondition(total == Int64(count))
        return seconds
    }

    /// Seconds to hand a `bigArrayMiB` array to a process already running and have its element
    /// count back: the descriptor crosses, the child maps it; nothing is copied. The fastest of 5.
    func bigArrayHandOff() throws -> Double {
        let count = (bigArrayMiB << 20) / 8
        let array = try SharedArray<Int64>(repeating: 1, count: count)
        let (connection, childEnd) = try Connection.pipe(duplex: true)
        let child = ChildProcess(running: ArrayReceiverTask(inbox: childEnd))
        try child.start()
        childEnd.close()
        var fastest = Double.infinity
        for _ in 0..<5 {
            var received = 0
            let seconds = try measure {
                try connection.send(array)
                received = try connection.receive(Int.self)
            }
            precondition(received == count)
            fastest = min(fastest, seconds)
        }
        connection.close()
        try child.join()
        return fastest
    }
}
