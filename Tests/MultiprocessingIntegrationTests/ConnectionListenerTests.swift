import Multiprocessing
import MultiprocessingTestSupport
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Listener and client", .timeLimit(.minutes(1)))
struct ConnectionListenerTests {
    static let key = Array("the shared secret".utf8)

    static func addresses() -> [ConnectionAddress] {
        [
            .unixPath("/tmp/mp-listener-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"),
            .uniqueAbstract(),
            .tcp(host: "127.0.0.1", port: 0),
        ]
    }

    /// Serves one client: reads its greeting and answers with its length.
    private func serveOne(_ listener: ConnectionListener) async throws -> String {
        let connection = try await listener.accept()
        defer { connection.close() }
        let greeting = try await connection.receive(String.self)
        try await connection.send(greeting.count)
        return greeting
    }

    @Test(
        "a client in another process connects on each address family, with and without a key",
        arguments: [false, true]
    )
    func families(keyed: Bool) async throws {
        for address in Self.addresses() {
            let key = keyed ? Self.key : nil
            let listener = try ConnectionListener(address: address, authenticationKey: key)
            let client = ChildProcess(
                running: ConnectingClientTask(address: listener.address, key: key, greeting: "hello from \(address)")
            )
            try client.start()
            #expect(try await serveOne(listener) == "hello from \(address)")
            #expect(try await client.value() == "answer \("hello from \(address)".count)")
            listener.close()
            if case .unixPath(let path) = address { #expect(access(path, F_OK) != 0) }
        }
    }

    @Test("a wrong key is refused on both sides, and the listener serves the next client")
    func wrongKey() async throws {
        let listener = try ConnectionListener(authenticationKey: Self.key)
        let intruder = ChildProcess(
            running: ConnectingClientTask(address: listener.address, key: Array("guess".utf8), greeting: "let me in")
        )
        try intruder.start()
        do {
            _ = try await listener.accept()
            Issue.record("a client with the wrong key was accepted")
        } catch let error as ConnectionError {
            #expect(error.code == .authenticationFailed)
        }
        #expect(try await intruder.value() == "error authentication failed")

        let friend = ChildProcess(
            running: ConnectingClientTask(address: listener.address, key: Self.key, greeting: "hi")
        )
        try friend.start()
        #expect(try await serveOne(listener) == "hi")
        #expect(try await friend.value() == "answer 2")
    }

    @Test("a keyed client meets an unkeyed listener, and an unkeyed client a keyed one: both refused")
    func mismatchedKeying() async throws {
        let open = try ConnectionListener(handshakeTimeout: .seconds(1))
        let keyedClient = Task {
            try await Connection.connect(to: open.address, authenticationKey: Self.key, timeout: .seconds(1))
        }
        let accepted = try await open.accept()
        await #expect(throws: ConnectionError.self) { _ = try await keyedClient.value }
        accepted.close()

        let keyed = try ConnectionListener(authenticationKey: Self.key, handshakeTimeout: .seconds(1))
        let plainClient = Task {
            let connection = try await Connection.connect(to: keyed.address)
            try await connection.send(String(repeating: "x", count: 1000))  // not an answer
            return connection
        }
        do {
            _ = try await keyed.accept()
            Issue.record("an unkeyed client was accepted by a keyed listener")
        } catch let error as ConnectionError {
            #expect(error.code == .authenticationFailed)
        }
        _ = try await plainClient.value
    }

    @Test("garbage, a silent peer and a truncated frame are refused; the listener goes on")
    func hostilePeers() async throws {
        // Long enough for the friend below, a new process, to do its half on a loaded machine (it
        // failed at 300 ms under ASan next to the whole suite); the silent peer costs this long.
        let listener = try ConnectionListener(authenticationKey: Self.key, handshakeTimeout: .seconds(5))
        let address = listener.address
        // Raw bytes straight to the socket, no frames at all; then one that says nothing; then a
        // frame header announcing a gigabyte and stopping there.
        let garbage: [[UInt8]] = [
            (0..<4096).map { _ in UInt8.random(in: 0...255) },
            [],
            [0xFF, 0xFF, 0xFF, 0x3F, 0, 0, 0, 0],
        ]
        for bytes in garbage {
            let raw = try RawSocket(connectingTo: address)
            raw.write(bytes)
            await #expect(throws: ConnectionError.self) { _ = try await listener.accept() }
            raw.close()
        }
        let friend = ChildProcess(
            running: ConnectingClientTask(address: address, key: Self.key, greeting: "still here?")
        )
        try friend.start()
        #expect(try await serveOne(listener) == "still here?")
        #expect(try await friend.value() == "answer 11")
    }

    @Test("connections beyond a full Unix backlog wait their turn instead of failing")
    func fullBacklog() async throws {
        let listener = try ConnectionListener(backlog: 1)
        let address = listener.address
        // More clients than the backlog holds, before any accept: the kernel refuses the extra ones
        // at once (EAGAIN), and connect tries again until there is room.
        let clients = (0..<6).map { index in
            Task {
                let connection = try await Connection.connect(to: address, timeout: .seconds(60))
                try await connection.send(index)
                return connection
            }
        }
        var received: [Int] = []
        for _ in 0..<6 {
            let connection = try await listener.accept()
            received.append(try await connection.receive(Int.self))
            connection.close()
        }
        #expect(received.sorted() == Array(0..<6))
        for client in clients { try await client.value.close() }
    }

    @Test("a second listener on a bound address is a clear error")
    func addressInUse() throws {
        for address in Self.addresses() {
            let first = try ConnectionListener(address: address)
            do {
                _ = try ConnectionListener(address: first.address)
                Issue.record("a second listener bound \(first.address)")
            } catch let error as ConnectionError {
                #expect(error.code == .systemCallFailed)
                #expect(error.underlyingError == .addressInUse)
            }
            first.close()
        }
        #expect(throws: ConnectionError.self) {
            _ = try ConnectionListener(address: .unixPath("/tmp/" + String(repeating: "p", count: 200)))
        }
        #expect(throws: ConnectionError.self) { _ = try Connection.connect(to: .uniqueAbstract()) }
    }

    @Test("accept times out, fails on a closed listener, and a close wakes a blocked accept")
    func closing() async throws {
        let listener = try ConnectionListener()
        #expect(throws: ConnectionError.self) { _ = try listener.accept(timeout: .milliseconds(20)) }
        let waiting = Task { try await listener.accept() }
        let blocked = Task.detached { try listener.accept() }
        listener.close()
        do {
            _ = try await waiting.value
            Issue.record("an awaited accept returned after close")
        } catch let error as ConnectionError {
            #expect(error.code == .closed)
        }
        await #expect(throws: ConnectionError.self) { _ = try await blocked.value }
        #expect(throws: ConnectionError.self) { _ = try listener.accept(timeout: .zero) }
    }

    @Test("fifty clients at once from threads, all served by awaited accepts")
    func manyClients() async throws {
        // `accept` authenticates one peer at a time, so the last client waits for the 49 handshakes
        // before it: generous deadlines on both sides keep a slow machine (a sanitizer build next
        // to the rest of the suite) from turning that wait into a failure.
        let listener = try ConnectionListener(
            address: .tcp(host: "127.0.0.1", port: 0),
            authenticationKey: Self.key,
            handshakeTimeout: .seconds(120)
        )
        let address = listener.address
        let answers = ProtectedCounter()
        // Blocking clients on threads of their own: on Dispatch's threads they would starve the
        // cooperative pool that serves them.
        let clients = (0..<50).map { index in
            WorkerThread(isDaemon: true) {
                guard
                    let connection = try? Connection.connect(
                        to: address,
                        authenticationKey: Self.key,
                        timeout: .seconds(120)
                    )
                else { return }
                defer { connection.close() }
                try? connection.send("client \(index)")
                if (try? connection.receive(Int.self)) == "client \(index)".count { answers.increment() }
            }
        }
        for client in clients { try client.start() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                let connection = try await listener.accept()
                group.addTask {
                    defer { connection.close() }
                    let greeting = try await connection.receive(String.self)
                    try await connection.send(greeting.count)
                }
            }
            try await group.waitForAll()
        }
        for client in clients { _ = try client.join() }
        #expect(answers.value == 50)
    }
}

/// A socket that writes raw bytes, not frames: what a hostile or broken peer sends.
private final class RawSocket {
    let fd: Int32

    init(connectingTo address: ConnectionAddress) throws {
        guard case .abstract(let name) = address else { preconditionFailure("raw sockets connect to abstract names") }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8](name.utf8)
        withUnsafeMutableBytes(of: &storage.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        precondition(result == 0, "raw connect failed: \(errno)")
    }

    func write(_ bytes: [UInt8]) {
        if bytes.isEmpty { return }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func close() { _ = Glibc.close(fd) }
}
