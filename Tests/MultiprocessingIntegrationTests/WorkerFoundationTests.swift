import MultiprocessingTestSupport
import SystemPackage
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Reports, inherited descriptors, threads and context in children", .timeLimit(.minutes(1)))
struct ChildRegressionTests {
    @Test("an output that fails to encode is outputEncodingFailed, never a made-up value", arguments: [true, false])
    func unencodableOutput(optionalFields: Bool) throws {
        let child = ChildProcess(running: UnencodableOutputTask(optionalFields: optionalFields), printsErrors: false)
        try child.start()
        let error = try #require(throws: ProcessError.self) { try child.value() }
        #expect(error.code == .outputEncodingFailed)
        #expect(child.exitStatus == .exited(1))
        #expect(isReaped(try #require(child.pid)))
    }

    @Test("an output holding a closed connection is outputEncodingFailed, not a vanished parent")
    func closedConnectionOutput() throws {
        let child = ChildProcess(running: ReturnClosedConnectionTask(), printsErrors: false)
        try child.start()
        let error = try #require(throws: ProcessError.self) { try child.value() }
        #expect(error.code == .outputEncodingFailed)
        #expect(child.exitStatus == .exited(1))
    }

    @Test("a 32 MiB output crosses intact; short joins return while it is still arriving")
    func largeOutput() async throws {
        let child = ChildProcess(running: LargeOutputTask(byteCount: 32 << 20))
        try child.start()
        // Each short join reads what has arrived and returns; none waits for the whole report.
        var status: Multiprocessing.ExitStatus?
        while status == nil { status = try child.joinWithoutWaiting() }
        let bytes = try await child.value()
        #expect(bytes.count == 32 << 20 && LargePayloadTask.matchesPattern(bytes))

        let awaited = ChildProcess(running: LargeOutputTask(byteCount: 32 << 20))
        try awaited.start()
        #expect(LargePayloadTask.matchesPattern(try await awaited.value()))
    }

    @Test("a spawned child does not inherit a descriptor the parent left inheritable")
    func noInheritedDescriptors() throws {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)  // no SOCK_CLOEXEC
        let high = fcntl(fds[0], F_DUPFD, 300)  // F_DUPFD: inheritable, as a careless library leaves it
        #expect(high >= 300)
        defer {
            close(high)
            close(fds[0])
            close(fds[1])
        }
        let child = ChildProcess(running: IsDescriptorOpenTask(descriptor: high))
        try child.start()
        #expect(try child.value() == false)
        // The control check: the same descriptor number is open in a forked child (a copy).
        let forked = ChildProcess(forking: { fcntl(high, F_GETFD) != -1 })
        try forked.start()
        #expect(try forked.value() == true)
    }

    @Test("a child waits for its non-daemon threads before it exits")
    func waitsForNonDaemonThreads() throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let child = ChildProcess(
            running: BackgroundThreadTask(connection: childEnd, isDaemon: false, delayMilliseconds: 200)
        )
        try child.start()
        childEnd.close()
        #expect(try child.value() == "returned")
        #expect(child.exitStatus == .exited(0))
        #expect(try parentEnd.receive(String.self) == "sent by the thread")
    }

    @Test("a daemon thread does not keep a child alive")
    func daemonThreadsAreAbandoned() throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let child = ChildProcess(
            running: BackgroundThreadTask(connection: childEnd, isDaemon: true, delayMilliseconds: 30_000)
        )
        try child.start()
        childEnd.close()
        #expect(try child.value() == "returned")
        let error = try #require(throws: ConnectionError.self) { try parentEnd.receive(String.self) }
        #expect(error.code == .endOfStream)
    }

    @Test("a forked child waits for its non-daemon threads too")
    func forkedChildWaitsForThreads() throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let forked = ChildProcess(forking: {
            let thread = WorkerThread {
                usleep(100_000)
                try childEnd.send(7)
            }
            try thread.start()
            return 1
        })
        try forked.start()
        childEnd.close()
        #expect(try forked.value() == 1)
        #expect(try parentEnd.receive(Int.self) == 7)
    }

    @Test("a forked child does not wait for the parent's non-daemon threads, which it does not have")
    func forkWhileParentThreadRuns() throws {
        let (release, releaseEnd) = try Connection.pipe()
        let parentThread = WorkerThread { try releaseEnd.receive(Int.self) }  // non-daemon, blocked
        try parentThread.start()
        let forked = ChildProcess(forking: { 5 })
        try forked.start()
        #expect(try forked.value() == 5)
        try release.send(1)
        #expect(try parentThread.value() == 1)
    }

    @Test("a forked child closing an inherited connection leaves the parent's awaited receive alone")
    func forkedCloseKeepsParentWaits() async throws {
        let (reader, writer) = try Connection.pipe()
        let waiter = Task { try await reader.receive(Int.self) }
        while EventLoop.shared.pendingWaitCount == 0 { await Task.yield() }
        let forked = ChildProcess(forking: {
            reader.close()  // the child's copy only
            return 0
        })
        try forked.start()
        #expect(try await forked.value() == 0)
        try await writer.send(42)
        #expect(try await waiter.value == 42)
    }

    @Test("a task's error is printed on the child's standard error, unless turned off", arguments: [true, false])
    func errorsArePrinted(printsErrors: Bool) throws {
        let child = ChildProcess(running: CaptureGrandchildErrorTask(printsErrors: printsErrors))
        try child.start()
        let printed = try child.value()
        if printsErrors {
            #expect(printed.contains("grandchild: task MultiprocessingTestSupport.ThrowingTask threw"))
            #expect(printed.contains("FixtureError"))
            #expect(printed.contains("thrown in the child"))
        } else {
            #expect(!printed.contains("ThrowingTask"))
        }
    }

    @Test("a child knows its name, pid, daemon flag, start method and parent; grandchildren inherit the flag")
    func context() throws {
        let daemon = ChildProcess(running: ReportContextTask(), name: "ctx-daemon", isDaemon: true)
        try daemon.start()
        let report = try daemon.value()
        #expect(report.current == "ctx-daemon")
        #expect(report.currentPid == daemon.pid)
        #expect(report.isDaemon)
        #expect(report.startMethod == "spawn")
        #expect(report.parentName == "MainProcess")
        #expect(report.parentPid == getpid())
        #expect(report.grandchildIsDaemon)

        let plain = ChildProcess(running: ReportContextTask())
        try plain.start()
        #expect(try plain.value().grandchildIsDaemon == false)
        #expect(WorkerContext.currentProcess.name == "MainProcess")
        #expect(WorkerContext.parentProcess == nil)
    }

    @Test("activeChildren lists a running child; close refuses a running child and accepts a joined one")
    func activeChildrenAndClose() throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: WaitForValueTask(connection: childEnd), name: "active-one")
        try child.start()
        childEnd.close()
        let pid = try #require(child.pid)
        #expect(WorkerContext.activeChildren().contains { $0.pid == pid && $0.name == "active-one" })
        #expect(child.sentinel != nil)
        let error = try #require(throws: ProcessError.self) { try child.close() }
        #expect(error.code == .stillRunning)
        try parentEnd.send(5)
        #expect(try child.value() == 5)
        try child.close()
        #expect(child.sentinel == nil)
        #expect(!WorkerContext.activeChildren().contains { $0.pid == pid })
    }

    @Test("a task runs on its own thread: a WorkerThread's, a spawned child's main thread; never the shared pool")
    func tasksRunOnTheirOwnThread() throws {
        let thread = WorkerThread(name: "own-thread", running: WhereDoesItRunTask())
        try thread.start()
        #expect(try thread.value() == ["own-thread", "other"])
        let child = ChildProcess(running: WhereDoesItRunTask())
        try child.start()
        #expect(try child.value().last == "main")
    }

    @Test("cpuCount is at least 1 and at most the CPUs online")
    func cpuCount() {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(WorkerContext.cpuCount >= 1)
        #expect(WorkerContext.cpuCount <= online)
    }
}

@Suite("WorkerProcess: one worker, many tasks", .timeLimit(.minutes(1)))
struct WorkerProcessTests {
    @Test("a worker serves many tasks in one process, errors included, and exits when closed")
    func servesManyTasks() throws {
        let worker = WorkerProcess()
        try worker.start()
        let pid = try #require(worker.pid)
        for n in 1...30 {
            #expect(try worker.run(FibonacciTask(n: n % 15 + 2)) == fibonacci(n % 15 + 2))
            #expect(try worker.run(PidTask()) == pid)
        }
        let error = try #require(throws: FixtureError.self) { try worker.run(ThrowingTask(codable: true)) }
        #expect(error.number == 42)
        #expect(try worker.run(PidTask()) == pid)
        #expect(try worker.close() == .exited(0))  // the last task's code
        #expect(isReaped(pid))
    }

    @Test("async tasks on a worker")
    func asyncTasks() async throws {
        let worker = WorkerProcess()
        try worker.start()
        for n in 1...10 {
            #expect(try await worker.run(FibonacciTask(n: n + 2)) == fibonacci(n + 2))
        }
        let error = try await #require(throws: ProcessError.self) {
            try await worker.run(RaiseSignalTask(signal: SIGKILL))
        }
        #expect(error.code == .exitedWithoutResult)
        #expect(error.exitStatus == .signaled(SIGKILL))
    }

    @Test("cancelling an awaited task stops its worker instead of leaving it out of step")
    func cancelStopsWorker() async throws {
        let worker = WorkerProcess()
        try worker.start()
        #expect(try await worker.run(PidTask()) == worker.pid)
        let running = Task { try await worker.run(SleepTask(milliseconds: 60_000)) }
        await Task.yield()
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(worker.exitStatus == .signaled(SIGTERM))
        #expect(isReaped(try #require(worker.pid)))
        let error = try await #require(throws: ProcessError.self) { try await worker.run(PidTask()) }
        #expect(error.code == .notStarted)
    }

    @Test("a worker killed mid-task fails that task with its signal")
    func crashFailsTheTask() throws {
        let worker = WorkerProcess()
        try worker.start()
        #expect(try worker.run(FibonacciTask(n: 10)) == 34)
        let error = try #require(throws: ProcessError.self) { try worker.run(RaiseSignalTask(signal: SIGSEGV)) }
        #expect(error.code == .exitedWithoutResult)
        #expect(error.exitStatus == .signaled(SIGSEGV))
        #expect(isReaped(try #require(worker.pid)))
    }

    @Test("an initializer runs once before the tasks; a failing one fails the start")
    func initializer() throws {
        let worker = WorkerProcess()
        try worker.start(initializer: SetGlobalInitializer(value: 99))
        #expect(try worker.run(ReadGlobalTask()) == 99)
        #expect(try worker.close() == .exited(0))

        let failing = WorkerProcess()
        let error = try #require(throws: FixtureError.self) {
            try failing.start(initializer: SetGlobalInitializer(value: 3, fails: true))
        }
        #expect(error.number == 3)
        #expect(failing.exitStatus == .exited(1))
        #expect(isReaped(try #require(failing.pid)))
    }
}

@Suite("Waiting for connections and children together", .timeLimit(.minutes(1)))
struct WaitTests {
    @Test("wait(for:timeout:) returns the ready connections and children")
    func waitForMix() throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let (idle, idlePeer) = try Connection.pipe()
        defer { idlePeer.close() }
        let child = ChildProcess(running: WaitForValueTask(connection: childEnd))
        try child.start()
        childEnd.close()
        #expect(try Connection.wait(for: [parentEnd, idle, child], timeout: .milliseconds(50)).isEmpty)
        try parentEnd.send(3)
        // The child exits after receiving.
        let readyChild = try Connection.wait(for: [idle, child], timeout: .seconds(30))
        #expect(readyChild.count == 1 && readyChild[0] === child)
        try idlePeer.send(1)
        let ready = try Connection.wait(for: [idle, child], timeout: nil)
        #expect(ready.count == 2)
        #expect(try child.value() == 3)
        // A joined child stays ready.
        #expect(try Connection.wait(for: [child], timeout: .zero).count == 1)
    }

    @Test("the async wait(for:timeout:) suspends until one is ready")
    func asyncWaitForMix() async throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let (idle, idlePeer) = try Connection.pipe()
        defer { idlePeer.close() }
        let child = ChildProcess(running: WaitForValueTask(connection: childEnd))
        try child.start()
        childEnd.close()
        #expect(try await Connection.wait(for: [idle, child], timeout: .milliseconds(30)).isEmpty)
        try await parentEnd.send(8)
        let readyChild = try await Connection.wait(for: [idle, child], timeout: .seconds(30))
        #expect(readyChild.count == 1 && readyChild[0] === child)
        try await idlePeer.send(1)
        #expect(try await Connection.wait(for: [idle], timeout: nil).count == 1)
        #expect(try await child.value() == 8)
    }

    @Test("an awaited child join can be cancelled; the child goes on")
    func cancelJoin() async throws {
        let (parentEnd, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: WaitForValueTask(connection: childEnd))
        try child.start()
        childEnd.close()
        let waiter = Task { try await child.join() }
        // Either while suspended or before: both end in CancellationError without touching the child.
        await Task.yield()
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(child.isAlive)
        try await parentEnd.send(11)
        #expect(try await child.value() == 11)
    }
}
