import MultiprocessingTestSupport
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("ChildProcess: spawn, fork, exit statuses, errors", .timeLimit(.minutes(1)))
struct ChildProcessTests {
    @Test("spawn from the test runner returns the task's result")
    func spawnReturnsResult() throws {
        let child = ChildProcess(running: FibonacciTask(n: 25))
        try child.start()
        let pid = try #require(child.pid)
        #expect(try child.value() == 46368)
        #expect(child.exitStatus == .exited(0))
        #expect(!child.isAlive)
        #expect(isReaped(pid))
    }

    @Test("an async task runs in a spawned child")
    func asyncTask() async throws {
        let child = ChildProcess(running: AsyncSumTask(values: Array(1...100)))
        try child.start()
        #expect(try await child.value() == 5050)
    }

    @Test("fork runs a closure and returns its result")
    func forkReturnsResult() throws {
        let child = ChildProcess(forking: { fibonacci(20) })
        try child.start()
        #expect(try child.value() == 4181)
        #expect(child.exitStatus == .exited(0))
        #expect(isReaped(try #require(child.pid)))
    }

    @Test("a forked child changes its own copy of memory, not the parent's")
    func forkMemoryIsNotShared() throws {
        let box = Box()
        let child = ChildProcess(forking: { () -> [Int] in
            box.values.append(contentsOf: [1, 4, 9, 16])
            return box.values
        })
        try child.start()
        #expect(try child.value() == [1, 4, 9, 16])
        #expect(box.values.isEmpty)
    }

    @Test("a spawned child starts with fresh globals")
    func spawnMemoryIsFresh() throws {
        let child = ChildProcess(running: AppendSquaresTask(numbers: [1, 2, 3, 4]))
        try child.start()
        #expect(try child.value() == [1, 4, 9, 16])
    }

    @Test("exit codes arrive as values", arguments: [0, 3, 77] as [Int32])
    func exitCode(code: Int32) throws {
        let child = ChildProcess(running: ExitTask(code: code))
        try child.start()
        #expect(try child.join() == .exited(code))
        let error = #expect(throws: ProcessError.self) { try child.value() }
        #expect(error?.code == .exitedWithoutResult)
        #expect(error?.exitStatus == .exited(code))
    }

    @Test("a signal that ends the child arrives as a value", arguments: [SIGABRT, SIGSEGV, SIGKILL])
    func signaled(signal: Int32) throws {
        let child = ChildProcess(running: RaiseSignalTask(signal: signal))
        try child.start()
        #expect(try child.join() == .signaled(signal))
        #expect(child.exitStatus?.pythonExitCode == -signal)
    }

    @Test("a forked child's exit code and signal arrive as values")
    func forkExitStatus() throws {
        let exiting = ChildProcess(forking: { () -> Void in _exit(5) })
        try exiting.start()
        #expect(try exiting.join() == .exited(5))
        let signaled = ChildProcess(forking: { () -> Void in raise(SIGTERM) })
        try signaled.start()
        #expect(try signaled.join() == .signaled(SIGTERM))
    }

    @Test("a Codable error thrown in the child is rethrown as itself")
    func codableErrorCrosses() throws {
        let child = ChildProcess(running: ThrowingTask(codable: true))
        try child.start()
        #expect(throws: FixtureError(message: "thrown in the child", number: 42)) { try child.value() }
        #expect(child.exitStatus == .exited(1))
    }

    @Test("another error thrown in the child arrives as RemoteTaskError")
    func opaqueErrorCrosses() throws {
        let child = ChildProcess(running: ThrowingTask(codable: false))
        try child.start()
        let error = #expect(throws: RemoteTaskError.self) { try child.value() }
        #expect(error?.errorDescription == "opaque failure")
        #expect(error?.typeName.hasSuffix("OpaqueFixtureError") == true)
    }

    @Test("an error thrown by a forked closure reaches the parent")
    func forkErrorCrosses() throws {
        let child = ChildProcess(forking: { () throws -> Int in throw FixtureError(message: "forked", number: 1) })
        try child.start()
        #expect(throws: FixtureError(message: "forked", number: 1)) { try child.value() }
    }

    @Test("a private task type is refused in the parent before anything starts")
    func privateTaskType() throws {
        let child = ChildProcess(running: PrivateTask())
        let error = #expect(throws: ProcessError.self) { try child.start() }
        #expect(error?.code == .unsupportedTaskType)
        #expect(child.pid == nil)
    }

    @Test("a type name the child cannot find is a clear error in the parent")
    func unknownTaskType() throws {
        let child = ChildProcess<NoOutput>(uncheckedTypeName: "NoSuchModule.NoSuchTask", payload: NoOutput())
        try child.start()
        let error = #expect(throws: ProcessError.self) { try child.value() }
        #expect(error?.code == .unknownTaskType)
        #expect(child.exitStatus == .exited(1))
    }

    @Test("a task the child cannot decode is a clear error in the parent")
    func undecodableTask() throws {
        let child = ChildProcess(running: UndecodableInChildTask())
        try child.start()
        let error = #expect(throws: ProcessError.self) { try child.value() }
        #expect(error?.code == .taskDecodingFailed)
    }

    @Test("join with a timeout returns nil while the child runs; terminate ends it")
    func joinTimeoutAndTerminate() throws {
        let (ready, readyForChild) = try Connection.pipe()
        let child = ChildProcess(running: WaitForSignalTask(ready: readyForChild))
        try child.start()
        readyForChild.close()
        #expect(try ready.receive(Int32.self) == child.pid)
        #expect(try child.join(timeout: .milliseconds(50)) == nil)
        #expect(child.isAlive)
        try child.terminate()
        #expect(try child.join(timeout: .seconds(30)) == .signaled(SIGTERM))
        #expect(!child.isAlive)
        #expect(isReaped(try #require(child.pid)))
    }

    @Test("kill ends a child with SIGKILL; signalling an ended child does nothing")
    func killChild() throws {
        let (ready, readyForChild) = try Connection.pipe()
        let child = ChildProcess(running: WaitForSignalTask(ready: readyForChild))
        try child.start()
        readyForChild.close()
        _ = try ready.receive(Int32.self)
        try child.kill()
        #expect(try child.join() == .signaled(SIGKILL))
        try child.kill()
        try child.terminate()
    }

    @Test("start twice and join before start are errors")
    func misuse() throws {
        let child = ChildProcess(running: FibonacciTask(n: 3))
        #expect { try child.join() } throws: { ($0 as? ProcessError)?.code == .notStarted }
        try child.start()
        #expect { try child.start() } throws: { ($0 as? ProcessError)?.code == .alreadyStarted }
        #expect(try child.value() == 1)
    }

    @Test("names default to ChildProcess-n and reach the child")
    func names() throws {
        let named = ChildProcess(running: FibonacciTask(n: 3), name: "worker-7")
        #expect(named.name == "worker-7")
        #expect(ChildProcess(running: FibonacciTask(n: 3)).name.hasPrefix("ChildProcess-"))
        let reporting = ChildProcess(name: "forked-name", forking: { WorkerContext.currentProcessName })
        try reporting.start()
        #expect(try reporting.value() == "forked-name")
        #expect(WorkerContext.currentProcessName == "MainProcess")
    }

    @Test("a child whose parent is SIGKILLed exits within a second")
    func orphanDies() throws {
        let (report, reportForChild) = try Connection.pipe()
        let parent = ChildProcess(running: StartGrandchildTask(report: reportForChild))
        try parent.start()
        reportForChild.close()
        let grandchild = try report.receive(Int32.self)
        #expect(kill(grandchild, 0) == 0)
        try parent.kill()
        #expect(try parent.join() == .signaled(SIGKILL))
        #expect(waitForExit(of: grandchild, milliseconds: 1000))
    }

    @Test("a child dropped without join is reaped by the library")
    func abandonedChildIsReaped() throws {
        var pid: pid_t = 0
        do {
            let child = ChildProcess(running: FibonacciTask(n: 5))
            try child.start()
            pid = try #require(child.pid)
        }
        #expect(waitForExit(of: pid, milliseconds: 30_000))
        var reaped = false
        for _ in 0..<3000 where !reaped {
            reaped = isReaped(pid)
            if !reaped { sched_yield() }
        }
        #expect(reaped)
    }

    @Test("many children at once, all reaped")
    func manyChildren() throws {
        let children = (1...8).map { ChildProcess(running: FibonacciTask(n: 10 + $0)) }
        for child in children { try child.start() }
        let values = try children.map { try $0.value() }
        #expect(values == (1...8).map { fibonacci(10 + $0) })
        for child in children { #expect(isReaped(try #require(child.pid))) }
    }
}

private struct PrivateTask: ParallelTask {
    func run() -> Int { 1 }
}

private final class Box: @unchecked Sendable {
    var values: [Int] = []
}
