#if canImport(Glibc)
import Glibc
#endif

/// What a manager's server process runs: listens, authenticates each client in a task of its own,
/// and serves its requests until it disconnects. Every client is a task on the event loop, not a
/// thread: two hundred clients cost two hundred suspended tasks.
struct ManagerServerTask: ParallelTask {
    var address: ConnectionAddress
    var authenticationKey: [UInt8]
    /// The server reports here that it listens (with the address it got), or why it cannot.
    var ready: Connection

    func run() async throws -> NoOutput {
        let listener: ConnectionListener
        do {
            // Each handshake waits in a task of its own, so a long deadline costs a silent peer only a
            // suspended task, and a client process whose threads are busy elsewhere still gets in.
            listener = try ConnectionListener(
                address: address,
                authenticationKey: authenticationKey,
                backlog: 1024,
                handshakeTimeout: .seconds(60),
                maximumFrameSize: Manager.maximumRequestSize
            )
        } catch {
            try? await ready.send(ManagerServerStart.failed("\(error)"))
            throw error
        }
        try await ready.send(ManagerServerStart.listening(listener.address))
        ready.close()
        try await ManagerServer().serve(listener)
        return NoOutput()
    }
}

/// The server's first word to the process that started it.
enum ManagerServerStart: Codable, Sendable {
    case listening(ConnectionAddress)
    case failed(String)
}

/// The objects and the serving loop.
final class ManagerServer: Sendable {
    private let objects = ProtectedState<[UInt64: HostedObject]>([:])
    private let nextID = ProtectedState<UInt64>(1)
    private let nextClient = ProtectedState<UInt64>(0)

    func serve(_ listener: ConnectionListener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                let connection = try await listener.acceptWithoutHandshake()
                group.addTask {
                    // One slow or hostile peer holds up only its own task.
                    guard (try? await listener.authenticateAccepted(connection)) != nil else { return }
                    await self.serveClient(connection)
                }
            }
        }
    }

    /// Answers requests until the client disconnects or sends bytes that are not a request.
    func serveClient(_ connection: Connection) async {
        let client = nextClient.withLock { next in
            next += 1
            return next
        }
        defer {
            connection.close()
            // Locks and semaphore permits this client held are given back: a killed holder does
            // not leave them taken forever (Python's manager does).
            for object in objects.withLock({ Array($0.values) }) { object.clientLeft(client) }
        }
        while true {
            let request: ManagerRequest
            do {
                request = try await connection.receive(ManagerRequest.self)
            } catch is ConnectionError {
                // Gone, or a malformed frame after which the stream cannot be trusted: hang up.
                return
            } catch {
                // A well-formed frame that is not a request: say so, and go on.
                let failure = ManagerError(.undecodable, "the request could not be decoded: \(error)")
                guard (try? await connection.send(ManagerResponse.failure(failure))) != nil else { return }
                continue
            }
            let response = await handle(request, client: client)
            guard (try? await connection.send(response)) != nil else {
                // An element taken for a client that vanished meanwhile goes back: nothing is lost.
                if case .take = request.operation, case .optionalBytes(let taken?) = response {
                    objects.withLock { $0[request.object] }?.giveBack(taken)
                }
                return
            }
        }
    }

    func handle(_ request: ManagerRequest, client: UInt64) async -> ManagerResponse {
        if request.object == 0 {
            switch request.operation {
            case .ping: return .done
            case .create(let kind, let typeName, let initialCount):
                return create(kind, typeName: typeName, initialCount: initialCount)
            default: return .failure(ManagerError(.wrongKind, "the manager itself only creates objects"))
            }
        }
        guard let object = objects.withLock({ $0[request.object] }) else {
            return .failure(ManagerError(.objectNotFound, "no object #\(request.object) in this manager"))
        }
        return await object.handle(request.operation, client: client)
    }

    private func create(_ kind: ManagedObjectKind, typeName: String?, initialCount: Int?) -> ManagerResponse {
        let object: HostedObject
        if kind == .custom {
            guard let typeName, let type = typeByPrintableName(typeName) as? any ManagedObject.Type
            else {
                return .failure(
                    ManagerError(.objectNotFound, "the server knows no ManagedObject type named '\(typeName ?? "")'")
                )
            }
            object = HostedObject(custom: type)
        } else {
            if let initialCount, initialCount < 0 {
                return .failure(
                    ManagerError(.remoteFailure, "a semaphore cannot start below 0, not at \(initialCount)")
                )
            }
            object = HostedObject(kind: kind, initialCount: initialCount)
        }
        let id = nextID.withLock { next in
            defer { next += 1 }
            return next
        }
        objects.withLock { $0[id] = object }
        return .object(id)
    }
}
