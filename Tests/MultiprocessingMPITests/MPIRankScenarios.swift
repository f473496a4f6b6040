#if MPI
import Foundation
import Multiprocessing
import MultiprocessingMPI
import MultiprocessingTestSupport
import Testing

/// What every rank of a job runs (see ``MPIJob``); skipped in the ordinary test run.
@Suite("MPI rank scenarios", .enabled(if: MPIJob.isScenarioRun))
struct MPIRankScenarios {
    @Test func pointToPoint() async throws {
        let world = try MPICommunicator.world
        try #require(world.size == 2)
        try Self.pointToPointBlocking(world)
        let peer = 1 - world.rank
        let point = Point(x: 1.5, y: -2, label: "from \(world.rank)")
        let doubles = (0..<131_072).map { Double($0) * 0.5 + Double(world.rank) }

        // The async forms, both ways at once.
        async let sent: Void = world.send(point, to: peer, tag: 9)
        let echoed = try await world.receive(Point.self, from: peer, tag: 9)
        try await sent
        #expect(echoed.label == "from \(peer)")
        async let sentArray: Void = world.send(contentsOf: doubles, to: peer, tag: 10)
        let array = try await world.receive(arrayOf: Double.self, from: peer, tag: 10)
        try await sentArray
        #expect(array.count == doubles.count && array[1] == 0.5 + Double(peer))

        // A cancelled async receive leaves its message for the next receiver.
        let waiting = Task { try await world.receive(String.self, from: peer, tag: 11) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        try await world.barrier()
        try await world.send("after the cancel", to: peer, tag: 11)
        #expect(try await world.receive(String.self, from: peer, tag: 11) == "after the cancel")

        try await world.barrier()
        MPIJob.markPassed("pointToPoint", rank: world.rank)
    }

    /// The blocking forms (in an async function, Swift would pick the async overloads).
    static func pointToPointBlocking(_ world: MPICommunicator) throws {
        let peer = 1 - world.rank
        let point = Point(x: 1.5, y: -2, label: "from \(world.rank)")

        // Values, matched by tag: the second sent is received first.
        if world.rank == 0 {
            try world.send(point, to: 1, tag: 3)
            try world.send(["a", "b", "c"], to: 1, tag: 4)
        } else {
            #expect(try world.receive([String].self, from: 0, tag: 4) == ["a", "b", "c"])
            let message = try world.receiveMessage(Point.self)
            #expect(message.value == Point(x: 1.5, y: -2, label: "from 0"))
            #expect(message.source == 0 && message.tag == 3)
        }

        // A message that is not the type asked for: a clear error, and the next message is intact.
        if world.rank == 0 {
            try world.send(UInt8(7), to: 1, tag: 5)
            try world.send(point, to: 1, tag: 5)
        } else {
            let error = try #require(throws: MPIError.self) { try world.receive(Point.self, from: 0, tag: 5) }
            #expect(error.code == .decodingFailed)
            #expect(try world.receive(Point.self, from: 0, tag: 5).label == "from 0")
        }

        // Bad arguments are refused before MPI sees them.
        #expect(throws: MPIError.self) { try world.send(1, to: 2) }
        #expect(throws: MPIError.self) { try world.send(1, to: peer, tag: -1) }

        // Numbers as their own memory: a megabyte of doubles, an empty array, a receive into a buffer.
        let doubles = (0..<131_072).map { Double($0) * 0.5 + Double(world.rank) }
        if world.rank == 0 {
            try world.send(contentsOf: doubles, to: 1, tag: 6)
            try world.send(contentsOf: [Int32](), to: 1, tag: 7)
            try world.send(contentsOf: [Int64](1...5), to: 1, tag: 8)
            try world.send(contentsOf: [UInt8](repeating: 9, count: 7), to: 1, tag: 12)
            try world.send(contentsOf: [UInt8(1)], to: 1, tag: 12)
        } else {
            let received = try world.receive(arrayOf: Double.self, from: 0, tag: 6)
            #expect(received == (0..<131_072).map { Double($0) * 0.5 })
            #expect(try world.receive(arrayOf: Int32.self, from: 0, tag: 7).isEmpty)
            // Seven bytes are no whole number of doubles: refused, consumed, and the next one arrives.
            let error = try #require(throws: MPIError.self) {
                try world.receive(arrayOf: Double.self, from: 0, tag: 12)
            }
            #expect(error.code == .decodingFailed)
            #expect(try world.receive(arrayOf: UInt8.self, from: 0, tag: 12) == [1])
            var buffer = [Int64](repeating: 0, count: 8)
            let message = try buffer.withUnsafeMutableBufferPointer { try world.receive(into: $0, from: 0, tag: 8) }
            #expect(message.value == 5 && Array(buffer.prefix(5)) == [1, 2, 3, 4, 5])
        }

    }

    @Test func collectives() async throws {
        let world = try MPICommunicator.world
        try #require(world.size == 2)
        try await world.barrier()
        try Self.collectivesBlocking(world)

        // The async forms: the same results, each rank suspended on the progress thread meanwhile.
        let rank = world.rank
        #expect(
            try await world.broadcast(rank == 1 ? Point(x: 0, y: 0, label: "async") : nil, root: 1).label == "async"
        )
        #expect(try await world.allReduce([rank, 10], .sum) == [1, 20])
        #expect(try await world.allReduce(Double(rank), .max) == 1)
        #expect(try await world.reduce(rank + 1, .product, root: 1) == (rank == 1 ? 2 : nil))
        #expect(try await world.allReduce([rank - 5, rank], .custom { abs($0) >= abs($1) ? $0 : $1 }) == [-5, 1])
        #expect(try await world.gather("r\(rank)", root: 0) == (rank == 0 ? ["r0", "r1"] : nil))
        #expect(try await world.allGather([rank]) == [[0], [1]])
        #expect(
            try await world.scatter(rank == 1 ? [[0.5], [1.5, 2]] : nil, root: 1) == (rank == 0 ? [0.5] : [1.5, 2])
        )
        MPIJob.markPassed("collectives", rank: world.rank)
    }

    static func collectivesBlocking(_ world: MPICommunicator) throws {
        let rank = world.rank
        try world.barrier()

        #expect(try world.broadcast(rank == 0 ? Point(x: 1, y: 2, label: "root") : nil, root: 0).label == "root")
        #expect(try world.broadcast(rank == 1 ? ["one"] : nil, root: 1) == ["one"])
        var numbers: [Double] = rank == 0 ? [1, 2, 3] : []
        try world.broadcast(&numbers, root: 0)
        #expect(numbers == [1, 2, 3])

        // Rank 0 holds 10, rank 1 holds 20.
        let value = 10 * (rank + 1)
        #expect(try world.reduce(value, .sum, root: 0) == (rank == 0 ? 30 : nil))
        #expect(try world.allReduce(value, .sum) == 30)
        #expect(try world.allReduce(value, .min) == 10)
        #expect(try world.allReduce(value, .max) == 20)
        #expect(try world.allReduce(Double(value), .product) == 200)
        #expect(try world.allReduce([value, -value], .max) == [20, -10])
        // A custom operation, element by element: the larger absolute value.
        let largerMagnitude = MPIReduction<Int>.custom { abs($0) >= abs($1) ? $0 : $1 }
        #expect(try world.allReduce([value, -3 * value], largerMagnitude) == [20, -60])
        #expect(
            try world.reduce(Float(value), .custom { $0 + $1 * 2 }, root: 1).map { $0 > 0 } == (rank == 1 ? true : nil)
        )
        // Any Codable value, folded in rank order.
        #expect(try world.allReduce("r\(rank)") { $0 + "," + $1 } == "r0,r1")
        #expect(try world.reduce([rank], root: 0, combining: +) == (rank == 0 ? [0, 1] : nil))

        #expect(
            try world.gather(Point(x: Double(rank), y: 0, label: "\(rank)"), root: 0)?.map(\.label)
                == (rank == 0 ? ["0", "1"] : nil)
        )
        #expect(try world.allGather(rank * 100) == [0, 100])
        #expect(try world.scatter(rank == 0 ? ["zero", "one"] : nil, root: 0) == (rank == 0 ? "zero" : "one"))
    }

    @Test func thousandWaiters() async throws {
        let world = try MPICommunicator.world
        try #require(world.size == 2)
        let count = 1_000
        if world.rank == 1 {
            // A thousand receives suspended at once, each for its own tag; the sender goes in reverse.
            let before = currentThreadCount()
            let received = try await withThrowingTaskGroup(of: Int.self) { group in
                for tag in 1...count {
                    group.addTask { try await world.receive(Int.self, from: 0, tag: tag) - tag }
                }
                try await world.send("all waiting", to: 0, tag: 0)
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(received.count == count && received.allSatisfy { $0 == 1_000_000 })
            // The receives held no thread each: a cooperative pool and one progress thread.
            #expect(currentThreadCount() < before + 24, "threads: \(before) before, \(currentThreadCount()) after")
        } else {
            try Self.sendInReverse(world, count: count)
        }
        try await world.barrier()

        // The other way round, both sides at once: a thousand concurrent async sends from one rank
        // (MPI called from many threads together) to a thousand waiting receives on the other.
        let peer = 1 - world.rank
        try await withThrowingTaskGroup(of: Void.self) { group in
            for tag in 1...count {
                if world.rank == 0 {
                    group.addTask {
                        let received = try await world.receive([Int].self, from: peer, tag: tag)
                        #expect(received == [tag, -tag])
                    }
                } else {
                    group.addTask { try await world.send([tag, -tag], to: peer, tag: tag) }
                }
            }
            try await group.waitForAll()
        }
        try await world.barrier()
        MPIJob.markPassed("thousandWaiters", rank: world.rank)
    }

    static func sendInReverse(_ world: MPICommunicator, count: Int) throws {
        #expect(try world.receive(String.self, from: 1, tag: 0) == "all waiting")
        for tag in (1...count).reversed() { try world.send(tag + 1_000_000, to: 1, tag: tag) }
    }

    @Test func pool() async throws {
        let world = try MPICommunicator.world
        guard let pool = try MPIPool() else {
            // A worker rank: it served until the root closed the pool.
            #expect(world.rank != 0)
            MPIJob.markPassed("pool", rank: world.rank)
            return
        }
        #expect(world.rank == 0 && pool.workerCount == world.size - 1)

        let inputs = Array(10...30)
        let expected = inputs.map(fibonacci)
        #expect(try await pool.map(inputs.map(FibonacciTask.init)) == expected)
        #expect(try await pool.map(inputs.map(FibonacciTask.init), chunkSize: 1) == expected)
        var unordered: [Int] = []
        for try await output in pool.imapUnordered(inputs.map(FibonacciTask.init)) { unordered.append(output) }
        #expect(unordered.sorted() == expected.sorted())
        #expect(try await pool.submit(FibonacciTask(n: 20)).value == fibonacci(20))

        // A thousand callers at once: each waits for a worker as a suspended task, not a thread.
        let threadsBefore = currentThreadCount()
        let futures = (0..<1_000).map { pool.submit(FibonacciTask(n: $0 % 20)) }
        var sum = 0
        for future in futures { sum += try await future.value }
        #expect(sum == (0..<1_000).map { fibonacci($0 % 20) }.reduce(0, +))
        #expect(
            currentThreadCount() < threadsBefore + 24,
            "threads: \(threadsBefore) before, \(currentThreadCount()) after"
        )

        // Dynamic balancing: slow tasks spread over both worker ranks.
        let ranks = try await pool.map(Array(repeating: RankTask(sleepMilliseconds: 20), count: 12), chunkSize: 1)
        #expect(Set(ranks) == Set(1..<world.size))

        // A task's error reaches its caller as itself (Codable) or described (not Codable).
        await #expect(throws: FixtureError(message: "thrown in the child", number: 42)) {
            try await pool.apply(ThrowingTask(codable: true))
        }
        await #expect(throws: RemoteTaskError.self) { try await pool.apply(ThrowingTask(codable: false)) }
        await #expect(throws: PlannedFailure(value: 7)) {
            try await pool.map((0..<20).map { FailOnTask($0, failing: 7) })
        }

        // A timeout frees the caller; the late answer is read and dropped, and the pool goes on.
        let error = await #expect(throws: PoolError.self) {
            try await pool.apply(SleepTask(milliseconds: 1_500), timeout: .milliseconds(100))
        }
        #expect(error?.code == .timedOut)
        #expect(try await pool.map((1...25).map(FibonacciTask.init)) == (1...25).map(fibonacci))

        pool.close()
        let closed = await #expect(throws: PoolError.self) { try await pool.apply(FibonacciTask(n: 3)) }
        #expect(closed?.code == .closed)
        MPIJob.markPassed("pool", rank: world.rank)
    }

    @Test func poolInitializer() async throws {
        let world = try MPICommunicator.world
        if let pool = try MPIPool(initializer: SetGlobalInitializer(value: 7)) {
            let values = try await pool.map(Array(repeating: ReadGlobalTask(), count: 10), chunkSize: 1)
            #expect(values == Array(repeating: 7, count: 10))
            #expect(fixtureInitializedValue == 0)  // the root is no worker
            pool.close()
        }
        // Every rank again: a pool whose workers' initializer throws fails each task with that error.
        if let pool = try MPIPool(initializer: SetGlobalInitializer(value: 1, fails: true)) {
            await #expect(throws: FixtureError(message: "initializer failed", number: 1)) {
                try await pool.apply(ReadGlobalTask())
            }
            pool.close()
        }
        MPIJob.markPassed("poolInitializer", rank: world.rank)
    }

    @Test func workerDies() async throws {
        guard let pool = try MPIPool() else {
            Issue.record("a worker rank must not return: one of them is killed, and mpirun ends the job")
            return
        }
        // One task kills its rank: MPI cannot go on without a rank, so mpirun ends every rank
        // (this one too, while it waits) instead of leaving the job hanging.
        _ = try await pool.map((0..<8).map { SuicideTask(victim: $0 == 5) }, chunkSize: 1)
        Issue.record("the map returned although a worker rank was killed")
    }

    @Test func singleThreadLevel() async throws {
        // Asked before anything else initialises MPI; later requests get the level already set.
        #expect(try MPICommunicator.initialize(threadLevel: .single) == .single)
        #expect(try MPICommunicator.initialize(threadLevel: .multiple) == .single)
        let world = try MPICommunicator.world
        try Self.singletonBlocking(world)
        // The async forms need several threads in MPI at once: refused, not racing.
        let error = await #expect(throws: MPIError.self) { try await world.receive(Int.self, from: 0, tag: 1) }
        #expect(error?.code == .threadSupport)
        MPIJob.markPassed("singleThreadLevel", rank: world.rank)
    }

    @Test func singleton() async throws {
        let world = try MPICommunicator.world
        try #require(world.size == 1 && world.rank == 0)
        // A job of one: messages to itself, collectives of one.
        try Self.singletonBlocking(world)
        try await world.send(Point(x: 0, y: 1, label: "async self"), to: 0, tag: 2)
        #expect(try await world.receive(Point.self, from: 0, tag: 2).label == "async self")
        // The pool runs on local worker processes instead.
        let pool = try #require(try MPIPool(localWorkers: 2))
        #expect(pool.workerCount == 2)
        let initialized = try #require(try MPIPool(localWorkers: 1, initializer: SetGlobalInitializer(value: 5)))
        #expect(try await initialized.apply(ReadGlobalTask()) == 5)
        initialized.close()
        #expect(try await pool.map((15...25).map(FibonacciTask.init)) == (15...25).map(fibonacci))
        await #expect(throws: PlannedFailure(value: 3)) { try await pool.apply(FailOnTask(3, failing: 3)) }
        pool.close()
        MPIJob.markPassed("singleton", rank: world.rank)
    }
}

extension MPIRankScenarios {
    static func singletonBlocking(_ world: MPICommunicator) throws {
        try world.send(Point(x: 0, y: 1, label: "self"), to: 0, tag: 1)
        #expect(try world.receive(Point.self, from: 0, tag: 1).label == "self")
        #expect(try world.allReduce(5, .sum) == 5)
        #expect(try world.allGather("only") == ["only"])
        #expect(try world.scatter(["mine"], root: 0) == "mine")
    }
}

struct Point: Codable, Equatable, Sendable {
    var x: Double
    var y: Double
    var label: String
}

/// Kills its own rank when it is the victim.
struct SuicideTask: ParallelTask {
    var victim: Bool
    func run() -> Int {
        if victim { kill(getpid(), SIGKILL) }
        usleep(50_000)
        return 0
    }
}

/// Sleeps a little, then says which rank ran it.
struct RankTask: ParallelTask {
    var sleepMilliseconds: Int
    func run() throws -> Int {
        usleep(UInt32(sleepMilliseconds * 1000))
        return try MPICommunicator.world.rank
    }
}
#endif
