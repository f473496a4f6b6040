/// A server process that holds shared objects and serves operations on them to any number of
/// processes, here or over the network: Python's `multiprocessing.Manager()` (a `SyncManager`).
///
/// ```swift
/// let manager = try Manager()                       // starts the server process
/// let list = try manager.list(of: Int.self)         // Manager().list()
/// let child = ChildProcess(running: AppendTask(list: list, value: 7))
/// try child.start(); try child.join()
/// try list.toArray()                                // [7]
/// ```
///
/// The proxies (``ManagedList``, ``ManagedDictionary``, ``ManagedValue``, ``ManagedQueue``,
/// ``ManagedNamespace``, ``ManagedLock``, ``ManagedSemaphore``, ``ManagedEvent``,
/// ``ManagedObjectProxy``) are `Codable`: put them in a task and the child reaches the same object.
/// Every operation is one atomic request. Clients prove they hold the manager's authentication
/// key before any object is reachable (an HMAC challenge), frames are bounded, and the server
/// answers a malformed request with an error or a closed connection, never a crash.
///
/// The server is a daemonic child: it dies with this process, and ``shutdown()`` (or the end of
/// the last reference to the manager that started it) ends it. Objects live as long as the server.
public final class Manager: Sendable {
    /// Where the server listens.
    public let address: ConnectionAddress
    /// The key a client must prove it holds. Random per manager unless given.
    public let authenticationKey: [UInt8]

    private let server: ChildProcess<NoOutput>?

    /// The largest frame the server accepts from a client.
    public static let maximumRequestSize = 256 << 20

    /// Starts a server process: Python's `Manager()`, or `BaseManager(address, authkey).start()`.
    ///
    /// - Parameters:
    ///   - address: Where it listens: a fresh abstract Unix name by default; `.tcp(host:port:)` to
    ///     serve other machines (bind `127.0.0.1` unless they must reach it; port 0 picks one).
    ///   - authenticationKey: The key clients must prove; 32 random bytes by default.
    /// - Throws: ``ManagerError`` `.serverUnreachable` when the server cannot listen there (the
    ///   reason is in the description); ``ProcessError`` when it cannot start.
    public init(address: ConnectionAddress = .uniqueAbstract(), authenticationKey: [UInt8]? = nil) throws {
        var generator = SystemRandomNumberGenerator()
        let key = authenticationKey ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let (ready, readyForServer) = try Connection.pipe()
        let server = ChildProcess(
            running: ManagerServerTask(address: address, authenticationKey: key, ready: readyForServer),
            name: "ManagerServer",
            isDaemon: true,
            printsErrors: false
        )
        try server.start()
        readyForServer.close()
        let start: ManagerServerStart
        do { start = try ready.receive(ManagerServerStart.self) } catch {
            try? server.kill()
            _ = try? server.join()
            throw ManagerError(.serverUnreachable, "the manager's server ended before it listened: \(error)")
        }
        switch start {
        case .listening(let bound):
            self.address = bound
        case .failed(let reason):
            _ = try? server.join()
            throw ManagerError(.serverUnreachable, "the manager's server cannot listen on \(address): \(reason)")
        }
        self.authenticationKey = key
        self.server = server
    }

    private init(connectingTo address: ConnectionAddress, authenticationKey: [UInt8]) {
        self.address = address
        self.authenticationKey = authenticationKey
        server = nil
    }

    /// A manager whose server another process started: Python's `BaseManager(address,
    /// authkey).connect()`. Checks that the server answers.
    ///
    /// - Throws: ``ManagerError`` `.serverUnreachable` (nobody listens, or the key is wrong).
    public static func connect(to address: ConnectionAddress, authenticationKey: [UInt8]) throws -> Manager {
        let manager = Manager(connectingTo: address, authenticationKey: authenticationKey)
        _ = try ManagedReference(address: address, authenticationKey: authenticationKey, object: 0).call(.ping)
        return manager
    }

    deinit { shutdown() }

    /// Ends the server this manager started (Python's `shutdown()`): its objects are gone, and
    /// proxies throw ``ManagerError`` `.serverUnreachable`. Nothing for a manager from
    /// ``connect(to:authenticationKey:)``.
    public func shutdown() {
        guard let server else { return }
        try? server.terminate()
        _ = try? server.join()
    }

    /// The server's process id, when this manager started it.
    public var serverProcessID: Int32? { server?.pid }

    // MARK: - Objects

    /// A new shared list: Python's `Manager().list(initial)`.
    public func list<Element: Codable & Sendable>(
        _ initial: [Element] = [],
        of type: Element.Type = Element.self
    ) throws -> ManagedList<Element> {
        let list = ManagedList<Element>(reference: try create(.list))
        if !initial.isEmpty { try list.append(contentsOf: initial) }
        return list
    }

    /// A new shared dictionary: Python's `Manager().dict()`.
    public func dictionary<Key: Codable & Hashable & Sendable, Value: Codable & Sendable>(
        _ initial: [Key: Value] = [:],
        of type: [Key: Value].Type = [Key: Value].self
    ) throws -> ManagedDictionary<Key, Value> {
        let dictionary = ManagedDictionary<Key, Value>(reference: try create(.dictionary))
        for (key, value) in initial { try dictionary.updateValue(value, forKey: key) }
        return dictionary
    }

    /// A new shared value: Python's `Manager().Value(typecode, initial)`.
    public func value<Value: Codable & Sendable>(_ initial: Value) throws -> ManagedValue<Value> {
        let value = ManagedValue<Value>(reference: try create(.value))
        try value.store(initial)
        return value
    }

    /// A new shared queue: Python's `Manager().Queue()`.
    public func queue<Element: Codable & Sendable>(of type: Element.Type = Element.self) throws -> ManagedQueue<Element>
    {
        ManagedQueue(reference: try create(.queue))
    }

    /// A new instance of your own ``ManagedObject`` type in the server: Python's `register` plus
    /// calling the registered name.
    ///
    /// - Throws: ``ProcessError`` `.unsupportedTaskType` when the type cannot be found by name
    ///   (declared `private` or inside a function).
    public func object<Object: ManagedObject>(_ type: Object.Type) throws -> ManagedObjectProxy<Object> {
        guard let name = _mangledTypeName(type), _typeByName(name) != nil else {
            throw ProcessError(
                .unsupportedTaskType,
                "the type \(type) cannot be found by name; declare it at file scope, not private or local"
            )
        }
        return ManagedObjectProxy(reference: try create(.custom, typeName: name))
    }

    /// A new lock: Python's `Manager().Lock()`.
    public func lock() throws -> ManagedLock {
        ManagedLock(reference: try create(.lock))
    }

    /// A new counting semaphore with `value` permits: Python's `Manager().Semaphore(value)`.
    public func semaphore(value: Int = 1) throws -> ManagedSemaphore {
        precondition(value >= 0, "a semaphore starts with 0 or more permits, not \(value)")
        return ManagedSemaphore(reference: try create(.semaphore, initialCount: value))
    }

    /// A new event, not set: Python's `Manager().Event()`.
    public func event() throws -> ManagedEvent {
        ManagedEvent(reference: try create(.event))
    }

    /// A new namespace: Python's `Manager().Namespace()`.
    public func namespace() throws -> ManagedNamespace {
        ManagedNamespace(reference: try create(.dictionary))
    }

    private func create(
        _ kind: ManagedObjectKind,
        typeName: String? = nil,
        initialCount: Int? = nil
    ) throws -> ManagedReference {
        let manager = ManagedReference(address: address, authenticationKey: authenticationKey, object: 0)
        let response = try manager.call(.create(kind: kind, typeName: typeName, initialCount: initialCount))
        guard case .object(let id) = response else { throw ManagedReference.unexpected(response) }
        return ManagedReference(address: address, authenticationKey: authenticationKey, object: id)
    }
}
