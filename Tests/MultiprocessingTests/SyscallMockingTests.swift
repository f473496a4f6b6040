#if ENABLE_MOCKING
import SystemPackage
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// Error paths a real kernel rarely gives on demand, forced through the syscall funnel's mocking
/// driver (debug builds only). Each test is synchronous so the driver stays on its thread.
@Suite("The syscall funnel under mocking")
struct SyscallMockingTests {
    @Test("EINTR in the middle of a send is retried; the frame arrives whole")
    func interruptedSend() throws {
        let (reader, writer) = try Connection.pipe()
        let driver = MockingDriver()
        driver.forceErrors("send", [.interrupted, .interrupted])
        try driver.withMocking { try writer.send("hello") }
        #expect(driver.trace.filter { $0 == "send" }.count == 3)
        #expect(try reader.receive(String.self) == "hello")
    }

    @Test("EINTR in the middle of a receive is retried")
    func interruptedReceive() throws {
        let (reader, writer) = try Connection.pipe()
        try writer.send([1, 2, 3])
        let driver = MockingDriver()
        driver.forceErrors("recvmsg", [.interrupted])
        let values = try driver.withMocking { try reader.receive([Int].self) }
        #expect(values == [1, 2, 3])
        #expect(driver.trace.filter { $0 == "recvmsg" }.count == 2)
    }

    @Test("a short write sends the rest; a short read reads the rest")
    func shortTransfers() throws {
        let (reader, writer) = try Connection.pipe()
        let driver = MockingDriver()
        driver.limitLength("send", to: 3)
        driver.limitLength("recvmsg", to: 5)
        let text = String(repeating: "abcdefgh", count: 40)
        try driver.withMocking {
            try writer.send(text)
            #expect(try reader.receive(String.self) == text)
        }
        #expect(driver.trace.filter { $0 == "send" }.count > 50)
    }

    @Test("EAGAIN on a non-blocking read is would-block, not an error")
    func wouldBlockIsAValue() throws {
        let (reader, writer) = try Connection.pipe()
        let driver = MockingDriver()
        driver.forceErrors("recvmsg", [.resourceTemporarilyUnavailable])
        #expect(throws: FrameNotReady.self) {
            try driver.withMocking { try reader.receiveValue(Int.self, wait: false) }
        }
        try writer.send(4)
        #expect(try reader.receiveValue(Int.self, wait: false) == 4)
    }

    @Test("a real error from a send is a ConnectionError carrying the errno, and sticks")
    func sendFailure() throws {
        let (_, writer) = try Connection.pipe()
        let driver = MockingDriver()
        driver.forceErrors("send", [.noBufferSpace])
        let error = try #require(throws: ConnectionError.self) { try driver.withMocking { try writer.send(1) } }
        #expect(error.code == .systemCallFailed)
        #expect(error.underlyingError == .noBufferSpace)
        // The stream may hold part of a frame now: every later send throws the same error.
        let again = try #require(throws: ConnectionError.self) { try writer.send(2) }
        #expect(again.underlyingError == .noBufferSpace)

        let (_, other) = try Connection.pipe()
        driver.forceErrors("send", [.brokenPipe])
        let gone = try #require(throws: ConnectionError.self) { try driver.withMocking { try other.send(1) } }
        #expect(gone.code == .endOfStream)
    }

    @Test("EMFILE from socketpair is a clear error from pipe() and from start()")
    func descriptorTableFull() throws {
        let driver = MockingDriver()
        driver.forceErrors("socketpair", [.tooManyOpenFiles, .tooManyOpenFiles])
        let error = try #require(throws: ConnectionError.self) { try driver.withMocking { try Connection.pipe() } }
        #expect(error.code == .systemCallFailed)
        #expect(error.underlyingError == .tooManyOpenFiles)
        let child = ChildProcess(running: NoInitializer())
        let startError = try #require(throws: ProcessError.self) { try driver.withMocking { try child.start() } }
        #expect(startError.code == .systemCallFailed)
        #expect(startError.underlyingError == .tooManyOpenFiles)
        #expect(child.pid == nil)
    }

    @Test("ENOMEM from posix_spawn is startFailed; the child can be started again later")
    func spawnOutOfMemory() throws {
        let driver = MockingDriver()
        driver.forceErrors("posix_spawn", [.noMemory])
        let child = ChildProcess(running: NoInitializer())
        let error = try #require(throws: ProcessError.self) { try driver.withMocking { try child.start() } }
        #expect(error.code == .startFailed)
        #expect(error.underlyingError == .noMemory)
        #expect(child.pid == nil)
        #expect(driver.trace.contains("posix_spawn"))
    }

    @Test("an async sender whose frame a failed blocking flush dropped gets the error, not a spin")
    func asyncSenderLearnsOfFailure() async throws {
        let (reader, writer) = try Connection.pipe()
        let big = [UInt8](repeating: 1, count: 4 << 20)
        // The async send queues its frame and suspends with most of it unwritten (nobody reads).
        let sender = Task { try await writer.send(big) }
        while EventLoop.shared.pendingWaitCount == 0 { await Task.yield() }
        // A blocking send from another thread hits a failure while flushing what is queued.
        let failing = WorkerThread {
            let driver = MockingDriver()
            driver.forceErrors("send", [.noBufferSpace])
            try driver.withMocking { try writer.send(7) }
        }
        try failing.start()
        #expect(throws: ConnectionError.self) { try failing.value() }
        // Drain raw bytes (the frame will never be whole): the socket turns writable, waking the sender.
        var drain = [UInt8](repeating: 0, count: 256 * 1024)
        let fd = try #require(reader.descriptor?.rawValue)
        _ = drain.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let error = await #expect(throws: ConnectionError.self) { try await sender.value }
        #expect(error?.underlyingError == .noBufferSpace)
    }
}
#endif
