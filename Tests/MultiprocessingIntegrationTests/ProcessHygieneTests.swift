import Multiprocessing
import MultiprocessingTestSupport
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide checks (open descriptors, children, resource limits) run in exit tests: each body runs
/// in a process of its own, so sibling suites running in parallel cannot disturb the counts.
@Suite("Process hygiene: descriptors, children, limits", .timeLimit(.minutes(2)))
struct ProcessHygieneTests {
    @Test("starting, using and joining children leaks no descriptor and leaves no child")
    func noLeaks() async {
        await #expect(processExitsWith: .success) {
            // Warm up once: the launcher thread's eventfd is created on first use and kept.
            let first = ChildProcess(running: FibonacciTask(n: 5))
            try first.start()
            _ = try first.value()
            let before = openDescriptorCount()
            for round in 0..<10 {
                let (parent, childEnd) = try Connection.pipe()
                let echo = ChildProcess(running: EchoTask(connection: childEnd))
                try echo.start()
                childEnd.close()
                try parent.send(round)
                let echoed = try parent.receive(Int.self)
                precondition(echoed == round)
                parent.close()
                let count = try echo.value()
                precondition(count == 1)
                let forked = ChildProcess(forking: { round * 2 })
                try forked.start()
                let doubled = try forked.value()
                precondition(doubled == round * 2)
                let failing = ChildProcess(running: ThrowingTask(codable: true))
                try failing.start()
                _ = try? failing.value()
            }
            let after = openDescriptorCount()
            precondition(after == before, "descriptors before: \(before), after: \(after)")
            precondition(childPids().isEmpty, "children left: \(childPids())")
        }
    }

    @Test("running out of descriptors is a clear error, and the process goes on")
    func exhaustedDescriptors() async {
        await #expect(processExitsWith: .success) {
            let warm = ChildProcess(running: FibonacciTask(n: 5))
            try warm.start()
            _ = try warm.value()
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            let saved = limit
            // Fill the table up to a low limit, then ask for a child.
            limit.rlim_cur = rlim_t(openDescriptorCount() + 3)
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            var hoard: [Int32] = []
            while true {
                let fd = dup(0)
                if fd < 0 { break }
                hoard.append(fd)
            }
            let child = ChildProcess(running: FibonacciTask(n: 5))
            var sawClearError = false
            do { try child.start() } catch let error as ProcessError {
                sawClearError = error.code == .systemCallFailed && error.underlyingError == .tooManyOpenFiles
            } catch {}
            precondition(sawClearError, "expected ProcessError.systemCallFailed(EMFILE)")
            for fd in hoard { close(fd) }
            var restored = saved
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &restored)
            let again = ChildProcess(running: FibonacciTask(n: 10))
            try again.start()
            let value = try again.value()
            precondition(value == 34)
        }
    }

    @Test("at exit, daemonic children are terminated and the others are waited for")
    func exitHandler() async {
        await #expect(processExitsWith: .exitCode(0)) {
            let (ready, readyForChild) = try Connection.pipe()
            let daemon = ChildProcess(running: WaitForSignalTask(ready: readyForChild), isDaemon: true)
            try daemon.start()
            readyForChild.close()
            _ = try ready.receive(Int32.self)
            // Neither child is joined: the exit handler must end the daemon (or exit would hang
            // until the time limit) and wait for the other.
            let worker = ChildProcess(running: FibonacciTask(n: 20))
            try worker.start()
            exit(0)
        }
    }
}

private func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 3  // ".", ".." and the directory's own descriptor
}

/// Pids of this process's children, read from /proc/self/task/*/children.
private func childPids() -> [Int32] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var pids: [Int32] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard Int32(name) != nil, let file = fopen("/proc/self/task/\(name)/children", "r") else { continue }
        var buffer = [CChar](repeating: 0, count: 4096)
        if fgets(&buffer, 4096, file) != nil {
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            pids += text.split(separator: " ").compactMap { Int32($0.filter { !$0.isWhitespace }) }
        }
        fclose(file)
    }
    return pids
}
