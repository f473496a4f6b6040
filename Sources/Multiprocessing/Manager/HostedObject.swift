/// One object in a manager's server: its state behind its own lock, so requests on different
/// objects never wait for each other, and a custom object sees one request at a time.
final class HostedObject: Sendable {
    private let kind: ManagedObjectKind
    private let state: ProtectedState<Storage>

    fileprivate struct Storage: @unchecked Sendable {
        var elements: [[UInt8]] = []
        /// A dictionary's keys in insertion order (Python's dict keeps it), and its entries.
        var keys: [[UInt8]] = []
        var entries: [[UInt8]: [UInt8]] = [:]
        var value: [UInt8]?
        /// A queue's elements are `elements` from `head` on.
        var head = 0
        /// Who waits (a queue's takers, a lock's or semaphore's acquirers, an event's waiters), in
        /// arrival order; each is resumed with a value (an element, or `[]` for "granted") or `nil`
        /// when its timeout passes.
        var waiters: [Waiter] = []
        var nextWaiter: UInt64 = 0
        /// A lock's or semaphore's free permits, and who holds the others (by client).
        var permits = 0
        var holders: [UInt64: Int] = [:]
        var isSet = false
        /// A custom object's request handler (it owns the instance).
        var handler: (([UInt8]) throws -> [UInt8])?
    }

    fileprivate struct Waiter {
        var id: UInt64
        var client: UInt64
        var continuation: CheckedContinuation<[UInt8]?, Never>
    }

    init(kind: ManagedObjectKind, initialCount: Int? = nil) {
        self.kind = kind
        var storage = Storage()
        storage.permits = kind == .lock ? 1 : max(0, initialCount ?? 1)
        state = ProtectedState(storage)
    }

    init(custom type: any ManagedObject.Type) {
        kind = .custom
        var storage = Storage()
        storage.handler = Self.makeHandler(type)
        state = ProtectedState(storage)
    }

    private static func makeHandler<Object: ManagedObject>(_: Object.Type) -> ([UInt8]) throws -> [UInt8] {
        var object = Object()
        return { bytes in
            let request: Object.Request
            do { request = try BinaryDecoder().decode(Object.Request.self, from: bytes) } catch {
                throw ManagerError(.undecodable, "a request for \(Object.self) could not be decoded: \(error)")
            }
            let response: Object.Response
            do { response = try object.handle(request) } catch {
                throw ManagerError(
                    .remoteFailure,
                    "\(Object.self) threw \(String(reflecting: type(of: error))): \(error)"
                )
            }
            return try BinaryEncoder().encode(response)
        }
    }

    func handle(_ operation: ManagerOperation, client: UInt64) async -> ManagerResponse {
        switch (kind, operation) {
        case (.queue, .take(let timeout)):
            return .optionalBytes(await wait(client: client, timeout: timeout) { $0.takeElement() })
        case (.lock, .acquire(let timeout)), (.semaphore, .acquire(let timeout)):
            return .optionalBytes(await wait(client: client, timeout: timeout) { $0.takePermit(for: client) })
        case (.event, .waitEvent(let timeout)):
            return .optionalBytes(await wait(client: client, timeout: timeout) { $0.isSet ? [] : nil })
        default:
            return handleImmediately(operation, client: client)
        }
    }

    /// Every operation but those that may wait: answered at once.
    func handleImmediately(_ operation: ManagerOperation, client: UInt64 = 0) -> ManagerResponse {
        let (response, woken) = state.withLock { storage in apply(operation, client: client, to: &storage) }
        for wake in woken { wake.continuation.resume(returning: wake.element) }
        return response
    }

    /// Puts an element taken for a client that vanished back at the front of the queue.
    func giveBack(_ element: [UInt8]) {
        let woken = state.withLock { storage -> Woken? in
            if !storage.waiters.isEmpty {
                return Woken(continuation: storage.waiters.removeFirst().continuation, element: element)
            }
            if storage.head > 0 {
                storage.head -= 1
                storage.elements[storage.head] = element
            } else {
                storage.elements.insert(element, at: 0)
            }
            return nil
        }
        woken?.continuation.resume(returning: woken?.element)
    }

    /// A client disconnected: the permits it held go back (to waiters first), and its waits end.
    func clientLeft(_ client: UInt64) {
        guard kind == .lock || kind == .semaphore else { return }
        let woken = state.withLock { storage -> [Woken] in
            let held = storage.holders.removeValue(forKey: client) ?? 0
            storage.permits += held
            return storage.grantPermits()
        }
        for wake in woken { wake.continuation.resume(returning: wake.element) }
    }

    fileprivate struct Woken {
        var continuation: CheckedContinuation<[UInt8]?, Never>
        var element: [UInt8]
    }

    private func wrongKind(_ operation: ManagerOperation) -> ManagerResponse {
        .failure(ManagerError(.wrongKind, "a \(kind) does not support \(operation.name)"))
    }

    private func outOfRange(_ index: Int, _ count: Int) -> ManagerResponse {
        .failure(ManagerError(.indexOutOfRange, "index \(index) is outside 0..<\(count)"))
    }

    // swift-format-ignore: FunctionLength
    private func apply(
        _ operation: ManagerOperation,
        client: UInt64,
        to storage: inout Storage
    ) -> (ManagerResponse, [Woken]) {
        switch (kind, operation) {
        case (.list, .append(let element)):
            storage.elements.append(element)
        case (.list, .appendContents(let elements)):
            storage.elements.append(contentsOf: elements)
        case (.list, .element(let index)):
            guard storage.elements.indices.contains(index) else {
                return (outOfRange(index, storage.elements.count), [])
            }
            return (.bytes(storage.elements[index]), [])
        case (.list, .setElement(let index, let element)):
            guard storage.elements.indices.contains(index) else {
                return (outOfRange(index, storage.elements.count), [])
            }
            storage.elements[index] = element
        case (.list, .insert(let index, let element)):
            guard (0...storage.elements.count).contains(index) else {
                return (outOfRange(index, storage.elements.count + 1), [])
            }
            storage.elements.insert(element, at: index)
        case (.list, .remove(let index)):
            guard storage.elements.indices.contains(index) else {
                return (outOfRange(index, storage.elements.count), [])
            }
            return (.bytes(storage.elements.remove(at: index)), [])
        case (.list, .snapshot):
            return (.list(storage.elements), [])
        case (.list, .removeAll):
            storage.elements.removeAll()
        case (.list, .count):
            return (.count(storage.elements.count), [])
        case (.dictionary, .lookUp(let key)):
            return (.optionalBytes(storage.entries[key]), [])
        case (.dictionary, .update(let key, let value)):
            let old = storage.entries.updateValue(value, forKey: key)
            if old == nil { storage.keys.append(key) }
            return (.optionalBytes(old), [])
        case (.dictionary, .removeKey(let key)):
            guard let old = storage.entries.removeValue(forKey: key) else { return (.optionalBytes(nil), []) }
            storage.keys.removeAll { $0 == key }
            return (.optionalBytes(old), [])
        case (.dictionary, .entries):
            return (.pairs(storage.keys.flatMap { [$0, storage.entries[$0] ?? []] }), [])
        case (.dictionary, .count):
            return (.count(storage.entries.count), [])
        case (.dictionary, .removeAll):
            storage.entries.removeAll()
            storage.keys.removeAll()
        case (.value, .load):
            return (.optionalBytes(storage.value), [])
        case (.value, .store(let value)):
            storage.value = value
        case (.value, .exchange(let value)):
            defer { storage.value = value }
            return (.optionalBytes(storage.value), [])
        case (.queue, .put(let element)):
            if !storage.waiters.isEmpty {
                return (.done, [Woken(continuation: storage.waiters.removeFirst().continuation, element: element)])
            }
            storage.elements.append(element)
        case (.queue, .count):
            return (.count(storage.elements.count - storage.head), [])
        case (.custom, .call(let request)):
            guard let handler = storage.handler else { return (wrongKind(operation), []) }
            do { return (.bytes(try handler(request)), []) } catch let error as ManagerError {
                return (.failure(error), [])
            } catch {
                return (.failure(ManagerError(.remoteFailure, "\(error)")), [])
            }
        case (.lock, .release), (.semaphore, .release):
            if kind == .lock && storage.permits > 0 {
                return (.failure(ManagerError(.remoteFailure, "release of a lock nobody holds")), [])
            }
            // Any client may release (Python's Lock); the permit is counted back from its taker.
            if let holder = storage.holders.first(where: { $0.key == client }) ?? storage.holders.first {
                storage.holders[holder.key] = holder.value > 1 ? holder.value - 1 : nil
            }
            storage.permits += 1
            return (.done, storage.grantPermits())
        case (.event, .setEvent):
            storage.isSet = true
            let woken = storage.waiters.map { Woken(continuation: $0.continuation, element: []) }
            storage.waiters.removeAll()
            return (.done, woken)
        case (.event, .clearEvent):
            storage.isSet = false
        case (.event, .isEventSet):
            return (.count(storage.isSet ? 1 : 0), [])
        default:
            return (wrongKind(operation), [])
        }
        return (.done, [])
    }

    /// What `attempt` gives at once, or else waits (as a suspended task, in arrival order) until an
    /// operation hands this waiter a value, or `timeout` passes (`nil`).
    private func wait(
        client: UInt64,
        timeout: Int64?,
        attempt: @escaping (inout Storage) -> [UInt8]?
    ) async -> [UInt8]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8]?, Never>) in
            let (value, ticket) = state.withLock { storage -> ([UInt8]?, UInt64?) in
                if storage.waiters.isEmpty, let value = attempt(&storage) { return (value, nil) }
                if let timeout, timeout <= 0 { return (nil, nil) }
                storage.nextWaiter += 1
                storage.waiters.append(Waiter(id: storage.nextWaiter, client: client, continuation: continuation))
                return (nil, storage.nextWaiter)
            }
            guard let ticket else {
                continuation.resume(returning: value)
                return
            }
            if let timeout {
                Task {
                    try? await Task.sleep(for: .nanoseconds(timeout))
                    let expired = state.withLock { storage -> CheckedContinuation<[UInt8]?, Never>? in
                        guard let index = storage.waiters.firstIndex(where: { $0.id == ticket }) else { return nil }
                        return storage.waiters.remove(at: index).continuation
                    }
                    expired?.resume(returning: nil)
                }
            }
        }
    }
}

extension HostedObject.Storage {
    /// A queue's first element, if any.
    mutating func takeElement() -> [UInt8]? {
        guard head < elements.count else { return nil }
        let element = elements[head]
        head += 1
        if head > 1024, head * 2 > elements.count {
            elements.removeFirst(head)
            head = 0
        }
        return element
    }

    /// A permit for `client`, if one is free (`[]` means granted).
    mutating func takePermit(for client: UInt64) -> [UInt8]? {
        guard permits > 0 else { return nil }
        permits -= 1
        holders[client, default: 0] += 1
        return []
    }

    /// Hands free permits to waiting acquirers, first come first served.
    mutating func grantPermits() -> [HostedObject.Woken] {
        var woken: [HostedObject.Woken] = []
        while permits > 0, !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            _ = takePermit(for: waiter.client)
            woken.append(HostedObject.Woken(continuation: waiter.continuation, element: []))
        }
        return woken
    }
}

extension ManagerOperation {
    /// The operation's name, for messages.
    var name: String {
        switch self {
        case .create: "create"
        case .ping: "ping"
        case .append, .appendContents: "append"
        case .element: "element(at:)"
        case .setElement: "setElement(_:at:)"
        case .insert: "insert(_:at:)"
        case .remove: "remove(at:)"
        case .count: "count"
        case .snapshot: "toArray()"
        case .removeAll: "removeAll()"
        case .lookUp: "value(forKey:)"
        case .update: "updateValue(_:forKey:)"
        case .removeKey: "removeValue(forKey:)"
        case .entries: "toDictionary()"
        case .load: "load()"
        case .store: "store(_:)"
        case .exchange: "exchange(_:)"
        case .put: "put(_:)"
        case .take: "get(timeout:)"
        case .call: "call(_:)"
        case .acquire: "lock(timeout:)"
        case .release: "unlock()"
        case .setEvent: "set()"
        case .clearEvent: "clear()"
        case .isEventSet: "isSet"
        case .waitEvent: "wait(timeout:)"
        }
    }
}
