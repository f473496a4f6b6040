import SystemPackage
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Connection in one process")
struct ConnectionTests {
    @Test("values of many types round-trip through a pipe")
    func roundTrip() throws {
        let (a, b) = try Connection.pipe()
        try a.send(42)
        try a.send(Int?.none)
        try a.send("héllo 🌍")
        try a.send([1.5, -2.25])
        try a.send(["a": 1, "b": 2])
        #expect(try b.receive(Int.self) == 42)
        #expect(try b.receive(Int?.self) == nil)
        #expect(try b.receive(String.self) == "héllo 🌍")
        #expect(try b.receive([Double].self) == [1.5, -2.25])
        #expect(try b.receive([String: Int].self) == ["a": 1, "b": 2])
        try b.send(7)
        #expect(try a.receive(Int.self) == 7)
    }

    @Test("bytes frames, receiveBytes(into:) and an empty frame")
    func bytes() throws {
        let (a, b) = try Connection.pipe()
        try a.sendBytes([1, 2, 3])
        try a.sendBytes([])
        try a.sendBytes([UInt8](repeating: 9, count: 100_000))
        #expect(try b.receiveBytes() == [1, 2, 3])
        #expect(try b.receiveBytes() == [])
        var small = [UInt8](repeating: 0, count: 10)
        let error = #expect(throws: ConnectionError.self) {
            try small.withUnsafeMutableBytes { try b.receiveBytes(into: $0) }
        }
        #expect(error?.code == .frameTooLarge)
        var large = [UInt8](repeating: 0, count: 200_000)
        let count = try large.withUnsafeMutableBytes { try b.receiveBytes(into: $0) }
        #expect(count == 100_000 && large[99_999] == 9 && large[100_000] == 0)
    }

    @Test("a batch of a hundred thousand frames arrives in order")
    func batch() throws {
        let (a, b) = try Connection.pipe()
        let count = 100_000
        let reader = WorkerThread { () throws -> Int in
            var sum = 0
            for expected in 0..<count {
                let value = try b.receive(Int.self)
                precondition(value == expected)
                sum += value
            }
            return sum
        }
        try reader.start()
        try a.send(contentsOf: 0..<count)
        #expect(try reader.value() == count * (count - 1) / 2)
    }

    @Test("receiveBatch returns what is buffered, and a bad frame's error comes with the next call")
    func receiveBatch() throws {
        let (a, b) = try Connection.pipe()
        try a.send(contentsOf: [1, 2, 3])
        try a.send("not an Int")
        try a.send(contentsOf: [4, 5])
        // One send per value: wait until all are buffered on the receiving side.
        var values: [Int] = []
        while values.count < 3 { values += try b.receiveBatch(Int.self, maximumCount: 2) }
        #expect(values == [1, 2, 3])
        #expect(throws: CodecError.self) { try b.receiveBatch(Int.self) }
        var rest: [Int] = []
        while rest.count < 2 { rest += try b.receiveBatch(Int.self) }
        #expect(rest == [4, 5])
    }

    @Test("poll reports data, and times out without it")
    func poll() throws {
        let (a, b) = try Connection.pipe()
        #expect(try b.poll() == false)
        #expect(try b.poll(timeout: .milliseconds(10)) == false)
        try a.send(1)
        #expect(try b.poll(timeout: nil))
        #expect(try b.receive(Int.self) == 1)
        a.close()
        #expect(try b.poll(timeout: .seconds(5)))
    }

    @Test("a closed peer gives end of stream on receive and on send, without SIGPIPE")
    func closedPeer() throws {
        let (a, b) = try Connection.pipe()
        try a.send(5)
        a.close()
        #expect(try b.receive(Int.self) == 5)
        #expect { try b.receive(Int.self) } throws: { ($0 as? ConnectionError)?.code == .endOfStream }
        #expect { try b.send(1) } throws: { ($0 as? ConnectionError)?.code == .endOfStream }
        #expect { try a.send(1) } throws: { ($0 as? ConnectionError)?.code == .closed }
        a.close()
        #expect(a.isClosed)
    }

    @Test("a one-way pipe only reads at one end and only writes at the other")
    func oneWay() throws {
        let (reader, writer) = try Connection.pipe(duplex: false)
        try writer.send("one way")
        #expect(try reader.receive(String.self) == "one way")
        #expect { try reader.send(1) } throws: { ($0 as? ConnectionError)?.code == .closed }
        #expect { try writer.receive(Int.self) } throws: { ($0 as? ConnectionError)?.code == .closed }
    }

    @Test("a wrong type throws a codec error and the next frame still reads")
    func wrongType() throws {
        let (a, b) = try Connection.pipe()
        try a.send("text")
        try a.send(8)
        #expect(throws: CodecError.self) { try b.receive(Int.self) }
        #expect(try b.receive(Int.self) == 8)
    }

    @Test("oversized frames are refused on both sides before allocation")
    func frameTooLarge() throws {
        let (a, b) = try Connection.pipe(maximumFrameSize: 1024)
        #expect { try a.sendBytes([UInt8](repeating: 0, count: 2000)) } throws: {
            ($0 as? ConnectionError)?.code == .frameTooLarge
        }
        #expect { try a.send([UInt8](repeating: 0, count: 2000)) } throws: {
            ($0 as? ConnectionError)?.code == .frameTooLarge
        }
        try a.send(3)  // nothing of the refused sends reached the wire
        #expect(try b.receive(Int.self) == 3)
        try writeRaw([0xFF, 0xFF, 0xFF, 0x7F], to: a)  // announces 2^31 - 1 bytes
        #expect { try b.receive(Int.self) } throws: { ($0 as? ConnectionError)?.code == .frameTooLarge }
    }

    @Test("garbage frames: a bad descriptor count and missing descriptors")
    func garbageFrames() throws {
        let (a, b) = try Connection.pipe()
        try writeRaw([0x01, 0x00, 0x00, 0x80, 0x00, 0x00], to: a)  // descriptor flag with count 0
        #expect { try b.receive(Int.self) } throws: { ($0 as? ConnectionError)?.code == .malformedFrame }
        let (c, d) = try Connection.pipe()
        try writeRaw([0x01, 0x00, 0x00, 0x80, 0x02, 0x00], to: c)  // claims 2 descriptors, sends none
        #expect { try d.receive(Int.self) } throws: { ($0 as? ConnectionError)?.code == .descriptorMismatch }
    }

    @Test("random garbage never crashes or hangs the reader")
    func randomGarbage() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let (a, b) = try Connection.pipe(maximumFrameSize: 4096)
            let bytes = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255) }
            try writeRaw(bytes, to: a)
            a.close()
            // Read until the stream ends or is rejected; every outcome must be a thrown error or a value.
            for _ in 0..<400 {
                do { _ = try b.receiveBytes() } catch { break }
            }
        }
    }

    @Test("descriptors cross a connection and a Connection cannot be JSON-encoded")
    func descriptors() throws {
        let (a, b) = try Connection.pipe()
        let pipe = try FileDescriptor.pipe()
        try a.send(descriptors: [pipe.writeEnd])
        let received = try b.receiveDescriptors()
        #expect(received.count == 1 && received[0] != pipe.writeEnd)
        _ = try received[0].writeAll("x".utf8)
        var byte: UInt8 = 0
        #expect(
            try withUnsafeMutableBytes(of: &byte) { try pipe.readEnd.read(into: $0) } == 1 && byte == UInt8(ascii: "x")
        )
        for fd in received + [pipe.readEnd, pipe.writeEnd] { try fd.close() }
    }

    @Test("async receive waits, and cancelling it throws CancellationError")
    func asyncReceive() async throws {
        let (a, b) = try Connection.pipe()
        try await a.send(11)
        #expect(try await b.receive(Int.self) == 11)
        let waiting = Task { try await b.receive(Int.self) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        try await a.send(12)
        #expect(try await b.receive(Int.self) == 12)
    }

    private func writeRaw(_ bytes: [UInt8], to connection: Connection) throws {
        let fd = try #require(connection.descriptor)
        _ = try fd.writeAll(bytes)
    }
}

@Suite("Frame format")
struct FrameFormatTests {
    @Test("header round trip with and without descriptors")
    func header() throws {
        for descriptorCount in [0, 1, 253] {
            var buffer: [UInt8] = [0, 0, 0, 0, 10, 20, 30]
            FrameFormat.writeHeader(in: &buffer, frameStart: 0, payloadLength: 3, descriptorCount: descriptorCount)
            let header = try buffer.withUnsafeBytes { try FrameFormat.parseHeader($0, maximumPayload: 100) }
            #expect(header?.payloadLength == 3)
            #expect(header?.descriptorCount == descriptorCount)
            #expect(header.map { Array(buffer[$0.headerLength...]) } == [10, 20, 30])
        }
    }

    @Test("incomplete headers ask for more bytes")
    func incomplete() throws {
        for bytes: [UInt8] in [[], [1], [1, 0, 0], [1, 0, 0, 0x80]] {
            #expect(try bytes.withUnsafeBytes { try FrameFormat.parseHeader($0, maximumPayload: 100) } == nil)
        }
    }

    @Test("a too-large length is refused")
    func tooLarge() {
        #expect(throws: FrameFormatError.tooLarge(length: 101, maximum: 100)) {
            try [UInt8]([101, 0, 0, 0]).withUnsafeBytes { try FrameFormat.parseHeader($0, maximumPayload: 100) }
        }
    }
}

@Suite("System call funnel")
struct SyscallTests {
    @Test("EINTR is retried when allowed and thrown otherwise")
    func interrupted() throws {
        var calls = 0
        let value = try valueOrErrno("test") { () -> CInt in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(value == 7 && calls == 3)
        let error = #expect(throws: SystemCallError.self) {
            try valueOrErrno("test", retryOnInterrupt: false) { () -> CInt in
                errno = EINTR
                return -1
            }
        }
        #expect(error?.errno == .interrupted && error?.call == "test")
    }

    @Test("other errnos are thrown with the call's name")
    func otherErrors() {
        let error = #expect(throws: SystemCallError.self) {
            try system_duplicate(-1, atLeast: 10)
        }
        #expect(error?.errno == .badFileDescriptor)
        #expect(error?.call.hasPrefix("fcntl") == true)
    }

    @Test("exit statuses describe themselves")
    func exitStatus() {
        #expect(ExitStatus.exited(0).isSuccess)
        #expect(!ExitStatus.signaled(9).isSuccess)
        #expect(ExitStatus.signaled(9).pythonExitCode == -9)
        #expect(ExitStatus.exited(3).description == "exited(3)")
    }
}
