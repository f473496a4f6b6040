import Dispatch
import Multiprocessing
import MultiprocessingTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Fork server start method", .timeLimit(.minutes(1)))
struct ForkServerTests {
    @Test("a task runs in a worker the fork server forked, which knows who it is and who started it")
    func runsTask() async throws {
        try StartMethod.forkServer.prepare()
        let child = ChildProcess(running: ReportContextTask(), name: "served", startMethod: .forkServer)
        try child.start()
        let report = try await child.value()
        #expect(report.current == "served")
        #expect(report.currentPid == child.pid)
        #expect(report.startMethod == "forkServer")
        #expect(report.parentPid == getpid())
        #expect(try await child.join() == .exited(0))
        #expect(isReaped(try #require(child.pid)))

        // The kernel's parent is the server, which is not listed among the program's children.
        let parentCheck = ChildProcess(running: KernelParentTask(), startMethod: .forkServer)
        try parentCheck.start()
        let kernelParent = try await parentCheck.value()
        #expect(kernelParent != getpid())
        #expect(!WorkerContext.activeChildren().contains { $0.pid == kernelParent })
    }

    @Test("a forked worker holds fds 0–4 only: nothing of the server's or of its siblings'")
    func descriptors() throws {
        let (keep, keepForChild) = try Connection.pipe()
        let sibling = ChildProcess(running: WaitForValueTask(connection: keepForChild), startMethod: .forkServer)
        try sibling.start()
        keepForChild.close()
        let child = ChildProcess(running: OpenDescriptorsTask(), startMethod: .forkServer)
        try child.start()
        #expect(try child.value() == [0, 1, 2, 3, 4])
        try keep.send(1)
        #expect(try sibling.value() == 1)
    }

    @Test(
        "exit codes and signals arrive through the server",
        arguments: [
            (Multiprocessing.ExitStatus.exited(3), 3 as Int32?, nil as Int32?), (.signaled(SIGKILL), nil, SIGKILL),
        ]
    )
    func exitStatuses(expected: Multiprocessing.ExitStatus, exitCode: Int32?, signal: Int32?) async throws {
        let child = ChildProcess(
            running: MaybeCrashTask(1, signal: signal, exitCode: exitCode),
            startMethod: .forkServer
        )
        try child.start()
        #expect(try await child.join() == expected)
        #expect(throws: ProcessError.self) { try child.value() }
    }

    @Test("workers started from eight threads at once all run")
    func concurrentStarts() throws {
        let outputs = ProtectedCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            for _ in 0..<3 {
                let child = ChildProcess(running: FibonacciTask(n: 10 + index), startMethod: .forkServer)
                guard (try? child.start()) != nil, (try? child.value()) == fibonacci(10 + index) else { continue }
                outputs.increment()
            }
        }
        #expect(outputs.value == 24)
    }

    /// In a process of its own: killing the server would fail the other tests' workers.
    @Test("a killed server takes its running workers with it and is replaced at the next start")
    func killedServer() async {
        await #expect(processExitsWith: .success) {
            let (ready, readyForChild) = try Connection.pipe()
            let waiting = ChildProcess(running: WaitForSignalTask(ready: readyForChild), startMethod: .forkServer)
            try waiting.start()
            readyForChild.close()
            let pid = try ready.receive(Int32.self)
            let server = kernelParent(of: pid)
            precondition(server > 1 && server != getpid(), "the worker's parent is \(server)")
            kill(server, SIGKILL)
            precondition(waitForExit(of: pid, milliseconds: 5000), "the worker outlived its server")
            let status = try waiting.join(timeout: .seconds(5))
            precondition(status != nil, "the worker's join did not return")

            let next = ChildProcess(running: KernelParentTask(), startMethod: .forkServer)
            try next.start()
            let newServer = try next.value()
            precondition(newServer != server && newServer != getpid(), "no new server: \(newServer)")
        }
    }

    @Test("a program killed with fork-server workers leaves no orphan")
    func noOrphans() throws {
        let (report, reportForChild) = try Connection.pipe()
        let program = ChildProcess(running: StartGrandchildTask(report: reportForChild, startMethod: .forkServer))
        try program.start()
        reportForChild.close()
        let worker = try report.receive(Int32.self)
        let server = kernelParent(of: worker)
        #expect(kill(worker, 0) == 0)
        try program.kill()
        #expect(try program.join() == .signaled(SIGKILL))
        #expect(waitForExit(of: worker, milliseconds: 2000))
        #expect(waitForExit(of: server, milliseconds: 2000))
    }
}

/// The parent pid the kernel records for `pid` (field 4 of `/proc/<pid>/stat`), or -1.
private func kernelParent(of pid: Int32) -> Int32 {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return -1 }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, 512, file) != nil else { return -1 }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = line.lastIndex(of: ")") else { return -1 }
    let fields = line[line.index(after: close)...].split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) ?? -1 : -1
}
