import SystemPackage
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Async connections on the event loop", .timeLimit(.minutes(1)))
struct AsyncConnectionTests {
    @Test("awaited receives on 200 pipes complete whatever order the data arrives in")
    func manyAwaitedReceives() async throws {
        let pairs = try (0..<200).map { _ in try Connection.pipe() }
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for (index, pair) in pairs.enumerated() {
                group.addTask { (index, try await pair.readEnd.receive(Int.self)) }
            }
            for index in pairs.indices.shuffled() { try await pairs[index].writeEnd.send(index * 3) }
            for try await (index, value) in group { #expect(value == index * 3) }
        }
    }

    @Test("cancelling an awaited receive ends it at once; the next receive gets the value")
    func cancelReceive() async throws {
        let (reader, writer) = try Connection.pipe()
        let waiter = Task { try await reader.receive(String.self) }
        await Task.yield()
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        try await writer.send("kept")
        #expect(try await reader.receive(String.self) == "kept")
    }

    @Test("a frame that arrives in pieces is assembled across suspensions, nothing lost")
    func partialFrames() async throws {
        let (reader, writer) = try Connection.pipe()
        let fd = try #require(writer.descriptor?.rawValue)
        let waiter = Task { try await reader.receive([UInt8].self) }
        // Encode a frame by hand and write it a few bytes at a time.
        var frame: [UInt8] = []
        let payload = try BinaryEncoder().encode([UInt8](repeating: 9, count: 1000))
        var length = UInt32(payload.count).littleEndian
        withUnsafeBytes(of: &length) { frame += $0 }
        frame += payload
        for start in stride(from: 0, to: frame.count, by: 97) {
            let piece = Array(frame[start..<min(start + 97, frame.count)])
            _ = piece.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            await Task.yield()
        }
        #expect(try await waiter.value == [UInt8](repeating: 9, count: 1000))
    }

    @Test("closing a connection wakes its awaited receive with .closed")
    func closeWakesWaiter() async throws {
        let (reader, writer) = try Connection.pipe()
        defer { writer.close() }
        let waiter = Task { try await reader.receive(Int.self) }
        while EventLoop.shared.pendingWaitCount == 0 { await Task.yield() }
        reader.close()
        let error = await #expect(throws: ConnectionError.self) { try await waiter.value }
        #expect(error?.code == .closed)
    }

    @Test("an async send larger than the socket buffer suspends until the reader drains it")
    func largeAsyncSend() async throws {
        let (reader, writer) = try Connection.pipe()
        let big = [UInt8](repeating: 5, count: 8 << 20)
        let sender = Task { try await writer.send(big) }
        let received = try await reader.receive([UInt8].self)
        try await sender.value
        #expect(received.count == big.count && received.allSatisfy { $0 == 5 })
        // Frames queued behind a half-written one come out in order.
        async let first: Void = writer.send(big)
        async let second: Void = writer.send([UInt8]([1, 2, 3]))
        let one = try await reader.receive([UInt8].self)
        let two = try await reader.receive([UInt8].self)
        _ = try await (first, second)
        #expect(Set([one.count, two.count]) == Set([big.count, 3]))
    }

    @Test("async poll with a timeout returns false, then true once data arrives")
    func asyncPoll() async throws {
        let (reader, writer) = try Connection.pipe()
        #expect(try await reader.poll(timeout: .milliseconds(20)) == false)
        try await writer.send(1)
        #expect(try await reader.poll(timeout: .seconds(10)) == true)
        #expect(try await reader.receiveBytes().isEmpty == false)
    }
}

@Suite("A hostile peer's headers cost what its bytes cost")
struct HostileHeaderTests {
    /// Writes raw bytes to `connection`'s descriptor, bypassing the frame writer.
    private func writeRaw(_ bytes: [UInt8], to connection: Connection) {
        let fd = connection.descriptor!.rawValue
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    @Test("a header announcing 1 GiB followed by close allocates the first buffer only")
    func hugeHeaderThenClose() throws {
        let (reader, writer) = try Connection.pipe()
        writeRaw([0x00, 0x00, 0x00, 0x40] + [UInt8](repeating: 1, count: 10), to: writer)  // 1 << 30
        writer.close()
        let error = try #require(throws: ConnectionError.self) { try reader.receiveBytes() }
        #expect(error.code == .endOfStream)
        #expect(reader.readBufferCapacity <= FrameReader.initialCapacity)
    }

    @Test("2,000 hostile headers on fresh connections each cost at most the first buffer")
    func manyHostileHeaders() throws {
        var largest = 0
        for _ in 0..<2000 {
            let (reader, writer) = try Connection.pipe()
            writeRaw([0xFF, 0xFF, 0xFF, 0x3F, 7], to: writer)
            writer.close()
            #expect(throws: ConnectionError.self) { try reader.receive(Int.self) }
            largest = max(largest, reader.readBufferCapacity)
        }
        #expect(largest <= FrameReader.initialCapacity)
    }

    @Test("the buffer grows with the bytes that arrive, not with the announced length")
    func growsWithBytes() throws {
        let (reader, writer) = try Connection.pipe()
        let sent = 300 * 1024
        // More than a socket buffer holds: write from a thread while this one reads.
        let bytes: [UInt8] = [0x00, 0x00, 0x00, 0x01] + [UInt8](repeating: 2, count: sent)  // 16 MiB announced
        let fd = try #require(writer.descriptor?.rawValue)
        let thread = WorkerThread {
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                offset += count
            }
            writer.close()
        }
        try thread.start()
        #expect(throws: ConnectionError.self) { try reader.receiveBytes() }
        try thread.join()
        #expect(reader.readBufferCapacity <= 2 * sent + FrameReader.initialCapacity)
        #expect(reader.readBufferCapacity < 16 << 20)
    }

    @Test("descriptors that no frame announces are closed, not hoarded until the table is full")
    func descriptorFlood() throws {
        let (reader, writer) = try Connection.pipe()
        let sender = try #require(writer.descriptor?.rawValue)
        let copies = [CInt](repeating: sender, count: FrameFormat.maximumDescriptorsPerFrame)
        // Zero-length frames (header 0) each carrying 253 descriptors they do not announce.
        var sentMessages = 0
        var largestQueue = 0
        let error = try #require(throws: ConnectionError.self) {
            while true {
                let header: [UInt8] = [0, 0, 0, 0]
                _ = try header.withUnsafeBytes { try system_sendmsg(sender, $0, descriptors: copies) }
                sentMessages += 1
                _ = try reader.receiveBytes()
                largestQueue = max(largestQueue, reader.queuedDescriptorCount)
                if sentMessages > 100 { break }
            }
        }
        #expect(error.code == .descriptorMismatch)
        #expect(sentMessages <= 5)
        #expect(largestQueue <= FrameReader.maximumQueuedDescriptors)
        #expect(reader.queuedDescriptorCount == 0)
    }

    @Test("a descriptor that is not open fails that send only; the connection goes on")
    func badDescriptorInPayload() throws {
        let (reader, writer) = try Connection.pipe()
        let error = try #require(throws: ConnectionError.self) {
            try writer.send(descriptors: [FileDescriptor(rawValue: 19_999)])
        }
        #expect(error.code == .descriptorMismatch)
        try writer.send("still fine")
        #expect(try reader.receive(String.self) == "still fine")
    }
}
