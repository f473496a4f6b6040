import MultiprocessingTestSupport
import SystemPackage
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Manager: a server process with shared objects", .timeLimit(.minutes(1)))
struct ManagerTests {
    /// For raw connections in these tests: a new server process on a machine loaded by the whole
    /// suite under a sanitizer has taken more than 10 s to answer a handshake.
    static let patience = Duration.seconds(120)

    @Test("appends from four processes all arrive")
    func concurrentAppends() async throws {
        let manager = try Manager()
        let list = try manager.list(of: Int.self)
        let children = (0..<4).map { worker in
            ChildProcess(running: AppendToManagedListTask(list: list, values: (0..<50).map { worker * 1000 + $0 }))
        }
        for child in children { try child.start() }
        for child in children { _ = try await child.value() }
        let all = try list.toArray()
        #expect(all.count == 200)
        #expect(Set(all) == Set((0..<4).flatMap { worker in (0..<50).map { worker * 1000 + $0 } }))
        // Each process's own appends keep their order.
        for worker in 0..<4 {
            let mine = all.filter { $0 / 1000 == worker }
            #expect(mine == mine.sorted())
        }
        manager.shutdown()
    }

    @Test("list, dictionary and value behave as Python's, errors included")
    func semantics() throws {
        let manager = try Manager()
        let list = try manager.list([1, 2, 3])
        try list.append(4)
        try list.insert(0, at: 0)
        try list.setElement(20, at: 2)
        #expect(try list.remove(at: 1) == 1)
        #expect(try list.toArray() == [0, 20, 3, 4])
        #expect(try list.count() == 4)
        #expect(try list.element(at: 3) == 4)
        #expect(throws: ManagerError.self) { try list.element(at: 4) }
        do { _ = try list.element(at: -1) } catch let error as ManagerError { #expect(error.code == .indexOutOfRange) }

        let dictionary = try manager.dictionary(of: [String: Int].self)
        #expect(try dictionary.updateValue(1, forKey: "b") == nil)
        try dictionary.updateValue(2, forKey: "a")
        #expect(try dictionary.updateValue(3, forKey: "b") == 1)
        #expect(try dictionary.value(forKey: "b") == 3)
        #expect(try dictionary.value(forKey: "zz") == nil)
        #expect(try dictionary.entries().map(\.key) == ["b", "a"])  // insertion order
        #expect(try dictionary.removeValue(forKey: "b") == 3)
        #expect(try dictionary.toDictionary() == ["a": 2])

        let value = try manager.value("first")
        #expect(try value.load() == "first")
        #expect(try value.exchange("second") == "first")
        #expect(try value.load() == "second")

        // A proxy of the wrong type over the same object: a clear error, not garbage.
        let mistyped = try manager.list(["text"])
        let confused = ManagedList<Int>(reference: mistyped.reference)
        #expect(throws: ManagerError.self) { try confused.toArray() }
        manager.shutdown()
    }

    @Test("a queue get waits for a put from another process, times out, and loses nothing to a killed taker")
    func queues() async throws {
        let manager = try Manager()
        let queue = try manager.queue(of: String.self)
        do { _ = try await queue.get(timeout: .milliseconds(50)) } catch let error as ManagerError {
            #expect(error.code == .timedOut)
        }
        let (ready, readyForChild) = try Connection.pipe()
        let taker = ChildProcess(running: TakeFromManagedQueueTask(queue: queue, ready: readyForChild))
        try taker.start()
        readyForChild.close()
        _ = try await ready.receive(Int.self)
        try await queue.put("for the child")
        #expect(try await taker.value() == "for the child")

        let (ready2, readyForVictim) = try Connection.pipe()
        let victim = ChildProcess(running: TakeFromManagedQueueTask(queue: queue, ready: readyForVictim))
        try victim.start()
        readyForVictim.close()
        _ = try await ready2.receive(Int.self)
        try victim.kill()
        _ = try await victim.join()
        try await queue.put("kept")
        #expect(try await queue.get(timeout: .seconds(5)) == "kept")
        #expect(try queue.count() == 0)
        manager.shutdown()
    }

    @Test("200 awaited gets wait in the server, not on threads; a cancelled get loses nothing")
    func awaitedGets() async throws {
        let manager = try Manager()
        let queue = try manager.queue(of: Int.self)
        // With only the cooperative pool's few threads, 200 gets that blocked a thread each could
        // never let the puts below run: this finishes only because they suspend.
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 { group.addTask { try await queue.get(timeout: Self.patience) } }
            for value in 1...200 { try await queue.put(value) }
            return try await group.reduce(0, +)
        }
        #expect(total == 200 * 201 / 2)

        let cancelled = Task { try await queue.get(timeout: Self.patience) }
        cancelled.cancel()
        _ = try? await cancelled.value
        try await queue.put(42)
        #expect(try await queue.get(timeout: Self.patience) == 42)
        manager.shutdown()
    }

    @Test("a user-defined object is called from three processes; its error reaches the caller")
    func customObject() async throws {
        let manager = try Manager()
        let counter = try manager.object(CounterObject.self)
        let children = (0..<3).map { _ in ChildProcess(running: CallCounterTask(counter: counter, times: 20)) }
        for child in children { try child.start() }
        for child in children { _ = try await child.value() }
        #expect(try counter.call(.read) == 60)
        do {
            try counter.call(.fail)
            Issue.record("the failing call returned")
        } catch let error as ManagerError {
            #expect(error.code == .remoteFailure)
            #expect(error.context.contains("the counter refuses"))
        }
        #expect(try counter.call(.add(1)) == 61)
        manager.shutdown()
    }

    @Test("a hosted lock excludes three processes; a killed holder's lock goes to the next waiter")
    func hostedLock() async throws {
        let manager = try Manager()
        let lock = try manager.lock()
        let total = try manager.value(0)
        let children = (0..<3).map { _ in
            ChildProcess(running: LockedManagedIncrementTask(lock: lock, value: total, times: 20))
        }
        for child in children { try child.start() }
        for child in children { _ = try await child.value() }
        #expect(try total.load() == 60)

        let (ready, readyForHolder) = try Connection.pipe()
        let holder = ChildProcess(running: HoldManagedLockTask(lock: lock, ready: readyForHolder))
        try holder.start()
        readyForHolder.close()
        _ = try await ready.receive(Int.self)
        #expect(try lock.tryLock() == false)
        try holder.kill()
        _ = try await holder.join()
        #expect(try await lock.lock(timeout: .seconds(10)))
        try lock.unlock()
        #expect(throws: ManagerError.self) { try lock.unlock() }
        manager.shutdown()
    }

    @Test("a hosted semaphore, event and namespace behave as Python's")
    func hostedPrimitives() async throws {
        let manager = try Manager()
        let semaphore = try manager.semaphore(value: 2)
        #expect(try await semaphore.acquire())
        #expect(try await semaphore.acquire())
        #expect(try await semaphore.acquire(timeout: .milliseconds(20)) == false)
        try semaphore.release()
        #expect(try await semaphore.acquire(timeout: .zero))

        let event = try manager.event()
        #expect(try event.isSet() == false)
        #expect(try await event.wait(timeout: .milliseconds(20)) == false)
        let (ready, readyForWaiter) = try Connection.pipe()
        let waiter = ChildProcess(running: WaitManagedEventTask(event: event, ready: readyForWaiter))
        try waiter.start()
        readyForWaiter.close()
        _ = try await ready.receive(Int.self)
        try event.set()
        #expect(try await waiter.value())
        #expect(try event.isSet())
        try event.clear()
        #expect(try event.isSet() == false)

        let namespace = try manager.namespace()
        try namespace.set(0.5, for: "threshold")
        try namespace.set("fast", for: "mode")
        #expect(try namespace.value(for: "threshold", as: Double.self) == 0.5)
        #expect(try namespace.value(for: "missing", as: Int.self) == nil)
        #expect(try namespace.names() == ["threshold", "mode"])
        #expect(throws: ManagerError.self) { try namespace.value(for: "mode", as: Double.self) }
        try namespace.remove("mode")
        #expect(try namespace.names() == ["threshold"])
        manager.shutdown()
    }

    @Test("over TCP on loopback, from another process")
    func tcp() async throws {
        let manager = try Manager(address: .tcp(host: "127.0.0.1", port: 0))
        guard case .tcp(_, let port) = manager.address else {
            Issue.record("not TCP")
            return
        }
        #expect(port != 0)
        let list = try manager.list(of: Int.self)
        let child = ChildProcess(running: AppendToManagedListTask(list: list, values: [1, 2, 3]))
        try child.start()
        _ = try await child.value()
        #expect(try list.toArray() == [1, 2, 3])
        let other = try Manager.connect(to: manager.address, authenticationKey: manager.authenticationKey)
        #expect(try other.list([5]).toArray() == [5])
        manager.shutdown()
    }

    @Test("a wrong key, garbage, undecodable and oversized requests are refused; the server goes on")
    func hostileClients() async throws {
        let manager = try Manager()
        let list = try manager.list([7])
        #expect(throws: ManagerError.self) {
            _ = try Manager.connect(to: manager.address, authenticationKey: Array("wrong".utf8))
        }
        // Authenticated, then bytes that are not requests.
        let client = try await Connection.connect(
            to: manager.address,
            authenticationKey: manager.authenticationKey,
            timeout: Self.patience
        )
        try await client.send("not a request")
        guard case .failure(let error) = try await client.receive(ManagerResponse.self) else {
            Issue.record("no error answer")
            return
        }
        #expect(error.code == .undecodable)
        // A "type name" with a symbolic reference (a control byte and an offset the runtime would follow).
        let hostileName = String(decoding: [0x01, 0xFF, 0xFF, 0xFF, 0x7F, 0x24], as: UTF8.self)
        try await client.send(
            ManagerRequest(object: 0, operation: .create(kind: .custom, typeName: hostileName, initialCount: nil))
        )
        guard case .failure(let refusal) = try await client.receive(ManagerResponse.self) else {
            Issue.record("a hostile type name was accepted")
            return
        }
        #expect(refusal.code == .objectNotFound)
        try await client.sendBytes([0xFF, 0x00, 0x13])
        _ = try? await client.receive(ManagerResponse.self)
        client.close()
        // A raw frame header announcing 1 GiB, more than the server takes: it hangs up at once,
        // without waiting for (or making room for) the payload.
        let greedy = try await Connection.connect(
            to: manager.address,
            authenticationKey: manager.authenticationKey,
            timeout: Self.patience
        )
        let header: [UInt8] = [0xFF, 0xFF, 0xFF, 0x3F]
        let fd = try #require(greedy.descriptor?.rawValue)
        #expect(header.withUnsafeBytes { send(fd, $0.baseAddress, 4, Int32(MSG_NOSIGNAL)) } == 4)
        await #expect(throws: ConnectionError.self) { try await greedy.receive(ManagerResponse.self) }
        greedy.close()
        #expect(try list.toArray() == [7])
        try list.append(8)
        #expect(try list.count() == 2)
        manager.shutdown()
    }

    @Test("a killed server gives its clients a clear error, not a hang")
    func serverGone() throws {
        let manager = try Manager()
        let list = try manager.list([1])
        #expect(try list.count() == 1)
        manager.shutdown()
        do {
            try list.append(2)
            Issue.record("an append to a stopped manager returned")
        } catch let error as ManagerError {
            #expect(error.code == .serverUnreachable)
        }
    }

    @Test("two hundred connected clients cost the server no thread each")
    func manyClients() async throws {
        let manager = try Manager()
        let serverPid = try #require(manager.serverProcessID)
        var clients: [Connection] = []
        for _ in 0..<200 {
            clients.append(
                try await Connection.connect(
                    to: manager.address,
                    authenticationKey: manager.authenticationKey,
                    timeout: Self.patience
                )
            )
        }
        for client in clients { try await client.send(ManagerRequest(object: 0, operation: .ping)) }
        for client in clients { _ = try await client.receive(ManagerResponse.self) }
        let threads = threadCount(ofProcess: serverPid)
        #expect(threads > 0 && threads < 24, "the server runs \(threads) threads")
        for client in clients { client.close() }
        manager.shutdown()
    }
}
