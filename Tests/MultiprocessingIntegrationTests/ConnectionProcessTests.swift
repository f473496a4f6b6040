import Multiprocessing
import MultiprocessingTestSupport
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Connection between processes", .timeLimit(.minutes(1)))
struct ConnectionProcessTests {
    @Test("a connection in a task reaches a spawned child: echo round trips")
    func echo() throws {
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: EchoTask(connection: childEnd))
        try child.start()
        childEnd.close()
        for value in 0..<200 {
            try parent.send(value)
            #expect(try parent.receive(Int.self) == value)
        }
        parent.close()
        #expect(try child.value() == 200)
    }

    @Test("a 64 MiB message crosses a connection intact")
    func largeMessage() throws {
        let byteCount = 64 << 20
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: LargePayloadTask(connection: childEnd, byteCount: byteCount))
        try child.start()
        childEnd.close()
        let received = try parent.receive([UInt8].self)
        #expect(received.count == byteCount)
        #expect(LargePayloadTask.matchesPattern(received))
        _ = try child.value()
    }

    @Test("a peer that dies mid-message gives end of stream, not a hang")
    func peerDiesMidFrame() throws {
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: DieMidFrameTask(connection: childEnd))
        try child.start()
        childEnd.close()
        let error = #expect(throws: ConnectionError.self) { try parent.receive([UInt8].self) }
        #expect(error?.code == .endOfStream)
        #expect(try child.join() == .signaled(SIGKILL))
    }

    @Test("descriptors pass to a spawned child with SCM_RIGHTS")
    func descriptorPassing() throws {
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(running: ReadPassedDescriptorTask(connection: childEnd))
        try child.start()
        childEnd.close()
        let pipe = try FileDescriptor.pipe()
        try parent.send(descriptors: [pipe.readEnd])
        try pipe.readEnd.close()
        _ = try pipe.writeEnd.writeAll("through a passed descriptor".utf8)
        try pipe.writeEnd.close()
        #expect(try child.value() == "through a passed descriptor")
    }

    @Test("a connection crosses another connection")
    func connectionInsideMessage() throws {
        let (left, right) = try Connection.pipe()
        let (inner, innerPeer) = try Connection.pipe()
        try left.send(innerPeer)
        innerPeer.close()
        let received = try right.receive(Connection.self)
        try received.send("hello through a sent connection")
        #expect(try inner.receive(String.self) == "hello through a sent connection")
    }

    @Test("a forked child uses an inherited connection")
    func forkUsesInheritedConnection() throws {
        let (parent, childEnd) = try Connection.pipe()
        let child = ChildProcess(forking: { () throws -> Void in
            try childEnd.send(42)
            try childEnd.send(Int?.none)
            try childEnd.send("hello")
            try childEnd.send([1, 2, 3])
        })
        try child.start()
        childEnd.close()
        #expect(try parent.receive(Int.self) == 42)
        #expect(try parent.receive(Int?.self) == nil)
        #expect(try parent.receive(String.self) == "hello")
        #expect(try parent.receive([Int].self) == [1, 2, 3])
        #expect(try child.join() == .exited(0))
    }
}
