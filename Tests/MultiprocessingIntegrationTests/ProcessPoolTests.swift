import MultiprocessingTestSupport
import Synchronization
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("ProcessPool", .timeLimit(.minutes(1)))
struct ProcessPoolTests {
    @Test(
        "map returns every output in order, with automatic chunks and with chunks of one",
        arguments: [StartMethod.spawn, .forkServer]
    )
    func mapInOrder(startMethod: StartMethod) async throws {
        let pool = ProcessPool(workers: 3, startMethod: startMethod)
        let automatic = try await pool.map((0..<500).map(TwiceTask.init))
        #expect(automatic == (0..<500).map { $0 * 2 })
        let single = try await pool.map((0..<50).map(TwiceTask.init), chunkSize: 1)
        #expect(single == (0..<50).map { $0 * 2 })
        #expect(try await pool.map([TwiceTask]()) == [])
        pool.close()
    }

    @Test("the blocking forms from synchronous code: map, apply")
    func blockingForms() throws {
        let pool = ProcessPool(workers: 2)
        #expect(try pool.map((1...5).map(TwiceTask.init)) == [2, 4, 6, 8, 10])
        #expect(try pool.apply(TwiceTask(21)) == 42)
        pool.close()
    }

    @Test("a task's error reaches its caller as itself, and the pool goes on")
    func taskErrors() async throws {
        let pool = ProcessPool(workers: 2)
        await #expect(throws: PlannedFailure(value: 3)) {
            try await pool.map((0..<10).map { FailOnTask($0, failing: 3) }, chunkSize: 1)
        }
        #expect(try await pool.apply(TwiceTask(4)) == 8)
        pool.close()
    }

    @Test("a task that cannot be encoded fails alone: the worker never sees half a request")
    func unencodableTask() async throws {
        let pool = ProcessPool(workers: 1)
        _ = try await pool.apply(WhoRunsTask())  // the one worker, started
        let (kept, closed) = try Connection.pipe()
        closed.close()
        await #expect(throws: ConnectionError.self) { try await pool.apply(EchoTask(connection: closed)) }
        #expect(try await pool.apply(TwiceTask(21)) == 42)
        // In the middle of a pipelined map: the map reports the failure, and the worker goes on.
        await #expect(throws: ConnectionError.self) {
            try await pool.map((0..<6).map { EchoTask(connection: $0 == 2 ? closed : kept) }, chunkSize: 1)
        }
        #expect(try await pool.map((0..<10).map(TwiceTask.init), chunkSize: 1) == (0..<10).map { $0 * 2 })
        kept.close()
        pool.close()
    }

    @Test(
        "a worker killed mid-task fails only that task; the others finish and the pool goes on",
        arguments: [StartMethod.spawn, .forkServer]
    )
    func crashedWorker(startMethod: StartMethod) async throws {
        let pool = ProcessPool(workers: 2, startMethod: startMethod)
        let futures = (0..<10).map { value in
            pool.submit(MaybeCrashTask(value, signal: value == 4 ? SIGKILL : nil))
        }
        var crashes: [PoolError] = []
        var outputs: [Int] = []
        for future in futures {
            do { outputs.append(try await future.value) } catch let error as PoolError { crashes.append(error) }
        }
        #expect(outputs == [0, 1, 2, 3, 5, 6, 7, 8, 9])
        #expect(crashes.count == 1)
        #expect(crashes.first?.code == .workerCrashed)
        #expect(crashes.first?.exitStatus == .signaled(SIGKILL))
        #expect(try await pool.apply(TwiceTask(7)) == 14)
        pool.close()
    }

    @Test(
        "a map in which one task kills its worker throws workerCrashed; the pool goes on",
        arguments: [StartMethod.spawn, .forkServer]
    )
    func crashInMap(startMethod: StartMethod) async throws {
        let pool = ProcessPool(workers: 2, startMethod: startMethod)
        do {
            _ = try await pool.map((0..<40).map { MaybeCrashTask($0, signal: $0 == 17 ? SIGKILL : nil) }, chunkSize: 1)
            Issue.record("the map did not report the crash")
        } catch let error as PoolError {
            #expect(error.code == .workerCrashed)
            #expect(error.exitStatus == .signaled(SIGKILL))
        }
        #expect(try await pool.map((0..<40).map(TwiceTask.init), chunkSize: 1) == (0..<40).map { $0 * 2 })
        pool.close()
    }

    @Test("a map replaces a worker after maximumTasksPerWorker tasks")
    func mapHonoursTaskLimit() async throws {
        let pool = ProcessPool(workers: 1, maximumTasksPerWorker: 2)
        let pids = try await pool.map((0..<12).map { _ in WhoRunsTask() }, chunkSize: 1)
        #expect(Set(pids).count == 6)
        pool.close()
    }

    @Test("a task that exits its process is a crash with its exit code", arguments: [StartMethod.spawn, .forkServer])
    func exitingTask(startMethod: StartMethod) async throws {
        let pool = ProcessPool(workers: 1, startMethod: startMethod)
        await #expect(throws: PoolError.self) { try await pool.apply(MaybeCrashTask(1, exitCode: 3)) }
        do {
            _ = try await pool.apply(MaybeCrashTask(1, exitCode: 5))
            Issue.record("a task that exits its process returned")
        } catch let error as PoolError {
            #expect(error.code == .workerCrashed)
            #expect(error.exitStatus == .exited(5))
        }
        #expect(try await pool.apply(TwiceTask(5)) == 10)
        pool.close()
    }

    @Test(
        "a task past its timeout is stopped with its worker, which is replaced",
        arguments: [StartMethod.spawn, .forkServer]
    )
    func timeouts(startMethod: StartMethod) async throws {
        let pool = ProcessPool(workers: 1, startMethod: startMethod)
        let first = try await pool.apply(WhoRunsTask())
        do {
            _ = try await pool.apply(NapTask(milliseconds: 30_000), timeout: .milliseconds(100))
            Issue.record("the nap was not stopped")
        } catch let error as PoolError {
            #expect(error.code == .timedOut)
        }
        #expect(kill(first, 0) == -1)  // the old worker is gone
        let second = try await pool.apply(WhoRunsTask())
        #expect(second != first)
        pool.close()
    }

    @Test(
        "maximumTasksPerWorker replaces workers; an initializer runs once in each",
        arguments: [StartMethod.spawn, .forkServer]
    )
    func lifecycle(startMethod: StartMethod) async throws {
        let pool = ProcessPool(
            workers: 1,
            maximumTasksPerWorker: 2,
            startMethod: startMethod,
            initializer: CountInitializerTask()
        )
        var pids: [Int32] = []
        for _ in 0..<6 {
            pids.append(try await pool.apply(WhoRunsTask()))
            #expect(try await pool.apply(InitializerRunsTask()) == 1)
        }
        #expect(Set(pids).count >= 3)
        pool.close()
    }

    @Test("close and terminate leave no worker process behind", arguments: [StartMethod.spawn, .forkServer])
    func shutdown(startMethod: StartMethod) async throws {
        let pool = ProcessPool(workers: 2, startMethod: startMethod)
        _ = try await pool.map((0..<20).map(TwiceTask.init), chunkSize: 1)
        let pids = pool.workerProcessIDs
        #expect(!pids.isEmpty)
        pool.close()
        for pid in pids { #expect(kill(pid, 0) == -1) }
        await #expect(throws: PoolError.self) { try await pool.apply(TwiceTask(1)) }

        let other = ProcessPool(workers: 2, startMethod: startMethod)
        let busy = other.submit(NapTask(milliseconds: 30_000))
        _ = try await other.apply(TwiceTask(1))
        let otherPids = other.workerProcessIDs
        other.terminate()
        await #expect(throws: (any Error).self) { try await busy.value }
        for pid in otherPids { #expect(kill(pid, 0) == -1) }
    }

    @Test(
        "a program interrupted with SIGINT (Ctrl-C) leaves no pool worker behind",
        arguments: [StartMethod.spawn, .forkServer]
    )
    func interrupted(startMethod: StartMethod) async throws {
        let (report, reportForChild) = try Connection.pipe()
        let program = ChildProcess(
            running: PoolProgramTask(report: reportForChild, startMethod: startMethod, workers: 3),
            printsErrors: false
        )
        try program.start()
        reportForChild.close()
        let workers = try await report.receive([Int32].self)
        #expect(workers.count == 3)
        try program.signal(.interrupt)
        #expect(try await program.join() == .signaled(SIGINT))
        for worker in workers { #expect(waitForExit(of: worker, milliseconds: 2000)) }
    }

    @Test("imap yields in order, imapUnordered as completed; both read a lazy input only as far as consumed")
    func imap() async throws {
        let pool = ProcessPool(workers: 2)
        var ordered: [Int] = []
        for try await output in pool.imap((0..<200).map(TwiceTask.init), chunkSize: 7) { ordered.append(output) }
        #expect(ordered == (0..<200).map { $0 * 2 })

        var unordered: [Int] = []
        for try await output in pool.imapUnordered((0..<100).map(TwiceTask.init)) { unordered.append(output) }
        #expect(unordered.sorted() == (0..<100).map { $0 * 2 })

        // 10^12 tasks, lazily: taking 5 outputs reads a handful of inputs, not the sequence.
        let made = ProtectedCounter()
        let endless = (0..<1_000_000_000_000).lazy.map { value -> TwiceTask in
            made.increment()
            return TwiceTask(value)
        }
        var firstFive: [Int] = []
        for try await output in pool.imap(endless, window: 3) {
            firstFive.append(output)
            if firstFive.count == 5 { break }
        }
        #expect(firstFive == [0, 2, 4, 6, 8])
        #expect(made.value <= 5 + 3)
        pool.close()
    }

    @Test("an error in imap ends the iteration with it")
    func imapError() async throws {
        let pool = ProcessPool(workers: 2)
        var seen: [Int] = []
        await #expect(throws: PlannedFailure(value: 5)) {
            for try await output in pool.imap((0..<20).map { FailOnTask($0, failing: 5) }) { seen.append(output) }
        }
        #expect(seen == [0, 1, 2, 3, 4])
        #expect(try await pool.apply(TwiceTask(1)) == 2)
        pool.close()
    }

    @Test("cancelling an awaiting map stops its workers; the pool serves the next call")
    func cancellation() async throws {
        let pool = ProcessPool(workers: 2)
        let pids = Set([try await pool.apply(WhoRunsTask()), try await pool.apply(WhoRunsTask())])
        let call = Task { try await pool.map((0..<4).map { _ in NapTask(milliseconds: 30_000) }, chunkSize: 1) }
        while pool.busyWorkerCount < 2 { await Task.yield() }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        for pid in pids { #expect(kill(pid, 0) == -1) }
        #expect(try await pool.apply(TwiceTask(3)) == 6)
        pool.close()
    }

    @Test("progress is reported after every chunk, never backwards, ending at the total", arguments: [false, true])
    func progress(withTimeout: Bool) async throws {
        let pool = ProcessPool(workers: 2)
        let reports = Mutex<[PoolProgress]>([])
        let outputs = try await pool.map(
            (0..<40).map(TwiceTask.init),
            chunkSize: 4,
            timeout: withTimeout ? .seconds(30) : nil,
            progress: { progress in reports.withLock { $0.append(progress) } }
        )
        #expect(outputs.count == 40)
        let seen = reports.withLock { $0 }
        #expect(seen.count == 10)
        #expect(seen.map(\.completed) == Array(stride(from: 4, through: 40, by: 4)))
        #expect(seen.allSatisfy { $0.total == 40 })
        #expect(seen.last?.bar(width: 10).hasPrefix("[##########] 40/40") == true)
        pool.close()
    }

    @Test("python's chunk size: the tasks over four per worker, rounded up")
    func chunkSize() {
        #expect(ProcessPool.automaticChunkSize(count: 100, workers: 5) == 5)
        #expect(ProcessPool.automaticChunkSize(count: 101, workers: 5) == 6)
        #expect(ProcessPool.automaticChunkSize(count: 3, workers: 5) == 1)
    }
}
