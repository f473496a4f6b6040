/// One object in a manager's server: its state behind its own lock, so requests on different
/// objects never wait for each other, and a custom object sees one request at a time.
final class HostedObject: Sendable {
    private let kind: ManagedObjectKind
    private let state: ProtectedState<Storage>

    private struct Storage: @unchecked Sendable {
        var elements: [[UInt8]] = []
        /// A dictionary's keys in insertion order (Python's dict keeps it), and its entries.
        var keys: [[UInt8]] = []
        var entries: [[UInt8]: [UInt8]] = [:]
        var value: [UInt8]?
        /// A queue's elements are `elements` from `head` on; takers wait here in arrival order.
        var head = 0
        var takers: [(id: UInt64, continuation: CheckedContinuation<[UInt8]?, Never>)] = []
        var nextTaker: UInt64 = 0
        /// A custom object's request handler (it owns the instance).
        var handler: (([UInt8]) throws -> [UInt8])?
    }

    init(kind: ManagedObjectKind) {
        self.kind = kind
        state = ProtectedState(Storage())
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

    func handle(_ operation: ManagerOperation) async -> ManagerResponse {
        if case .take(let timeout) = operation {
            guard kind == .queue else { return wrongKind(operation) }
            return .optionalBytes(await take(timeout: timeout))
        }
        return handleImmediately(operation)
    }

    /// Every operation but a queue's `take`, which may wait: answered at once.
    func handleImmediately(_ operation: ManagerOperation) -> ManagerResponse {
        let (response, woken) = state.withLock { storage in apply(operation, to: &storage) }
        woken?.continuation.resume(returning: woken?.element)
        return response
    }

    /// Puts an element taken for a client that vanished back at the front of the queue.
    func giveBack(_ element: [UInt8]) {
        let woken = state.withLock { storage -> (CheckedContinuation<[UInt8]?, Never>, [UInt8])? in
            if !storage.takers.isEmpty { return (storage.takers.removeFirst().continuation, element) }
            if storage.head > 0 {
                storage.head -= 1
                storage.elements[storage.head] = element
            } else {
                storage.elements.insert(element, at: 0)
            }
            return nil
        }
        if let (continuation, element) = woken { continuation.resume(returning: element) }
    }

    private struct Woken {
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
    private func apply(_ operation: ManagerOperation, to storage: inout Storage) -> (ManagerResponse, Woken?) {
        switch (kind, operation) {
        case (.list, .append(let element)):
            storage.elements.append(element)
        case (.list, .appendContents(let elements)):
            storage.elements.append(contentsOf: elements)
        case (.list, .element(let index)):
            guard storage.elements.indices.contains(index) else {
                return (outOfRange(index, storage.elements.count), nil)
            }
            return (.bytes(storage.elements[index]), nil)
        case (.list, .setElement(let index, let element)):
            guard storage.elements.indices.contains(index) else {
                return (outOfRange(index, storage.elements.count), nil)
            }
            storage.elements[index] = element
        case (.list, .insert(let index, let element)):
            guard (0...storage.elements.count).contains(index) else {
                return (outOfRange(index, storage.elements.count + 1), nil)
            }
            storage.elements.insert(element, at: index)
        case (.list, .remove(let index)):
            guard storage.elements.indices.contains(index) else {
                return (outOfRange(index, storage.elements.count), nil)
            }
            return (.bytes(storage.elements.remove(at: index)), nil)
        case (.list, .snapshot):
            return (.list(storage.elements), nil)
        case (.list, .removeAll):
            storage.elements.removeAll()
        case (.list, .count):
            return (.count(storage.elements.count), nil)
        case (.dictionary, .lookUp(let key)):
            return (.optionalBytes(storage.entries[key]), nil)
        case (.dictionary, .update(let key, let value)):
            let old = storage.entries.updateValue(value, forKey: key)
            if old == nil { storage.keys.append(key) }
            return (.optionalBytes(old), nil)
        case (.dictionary, .removeKey(let key)):
            guard let old = storage.entries.removeValue(forKey: key) else { return (.optionalBytes(nil), nil) }
            storage.keys.removeAll { $0 == key }
            return (.optionalBytes(old), nil)
        case (.dictionary, .entries):
            return (.pairs(storage.keys.flatMap { [$0, storage.entries[$0] ?? []] }), nil)
        case (.dictionary, .count):
            return (.count(storage.entries.count), nil)
        case (.dictionary, .removeAll):
            storage.entries.removeAll()
            storage.keys.removeAll()
        case (.value, .load):
            return (.optionalBytes(storage.value), nil)
        case (.value, .store(let value)):
            storage.value = value
        case (.value, .exchange(let value)):
            defer { storage.value = value }
            return (.optionalBytes(storage.value), nil)
        case (.queue, .put(let element)):
            if !storage.takers.isEmpty {
                return (.done, Woken(continuation: storage.takers.removeFirst().continuation, element: element))
            }
            storage.elements.append(element)
        case (.queue, .count):
            return (.count(storage.elements.count - storage.head), nil)
        case (.custom, .call(let request)):
            guard let handler = storage.handler else { return (wrongKind(operation), nil) }
            do { return (.bytes(try handler(request)), nil) } catch let error as ManagerError {
                return (.failure(error), nil)
            } catch {
                return (.failure(ManagerError(.remoteFailure, "\(error)")), nil)
            }
        default:
            return (wrongKind(operation), nil)
        }
        return (.done, nil)
    }

    /// The next queue element, waiting (as a suspended task) until one is put or `timeout` passes.
    private func take(timeout: Int64?) async -> [UInt8]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8]?, Never>) in
            let (element, ticket) = state.withLock { storage -> ([UInt8]?, UInt64?) in
                if storage.head < storage.elements.count {
                    let element = storage.elements[storage.head]
                    storage.head += 1
                    if storage.head > 1024, storage.head * 2 > storage.elements.count {
                        storage.elements.removeFirst(storage.head)
                        storage.head = 0
                    }
                    return (element, nil)
                }
                if let timeout, timeout <= 0 { return (nil, nil) }
                storage.nextTaker += 1
                storage.takers.append((storage.nextTaker, continuation))
                return (nil, storage.nextTaker)
            }
            guard let ticket else {
                continuation.resume(returning: element)
                return
            }
            if let timeout {
                Task {
                    try? await Task.sleep(for: .nanoseconds(timeout))
                    let expired = state.withLock { storage -> CheckedContinuation<[UInt8]?, Never>? in
                        guard let index = storage.takers.firstIndex(where: { $0.id == ticket }) else { return nil }
                        return storage.takers.remove(at: index).continuation
                    }
                    expired?.resume(returning: nil)
                }
            }
        }
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
        }
    }
}
