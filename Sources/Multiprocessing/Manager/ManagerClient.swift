#if canImport(Glibc)
import Glibc
#endif

/// A process's connections to one manager server, shared by every proxy of that manager in the
/// process: a call borrows an idle connection (or opens one), so calls from many threads run at
/// once, and a blocking queue `get` holds only its own connection.
final class ManagerClient: Sendable {
    let address: ConnectionAddress
    private let authenticationKey: [UInt8]
    private let idle = ProtectedState<[Connection]>([])

    private init(address: ConnectionAddress, authenticationKey: [UInt8]) {
        self.address = address
        self.authenticationKey = authenticationKey
    }

    private struct CacheKey: Hashable {
        var address: ConnectionAddress
        var authenticationKey: [UInt8]
    }

    /// Clients by address, with the pid that made them: a forked child must not use its parent's
    /// sockets (requests from both would interleave), so it makes its own.
    private static let clients = ProtectedState<(pid: Int32, clients: [CacheKey: ManagerClient])>((0, [:]))

    static func shared(address: ConnectionAddress, authenticationKey: [UInt8]) -> ManagerClient {
        let pid = system_getpid()
        return clients.withLock { cache in
            if cache.pid != pid { cache = (pid, [:]) }
            let key = CacheKey(address: address, authenticationKey: authenticationKey)
            if let client = cache.clients[key] { return client }
            let client = ManagerClient(address: address, authenticationKey: authenticationKey)
            cache.clients[key] = client
            return client
        }
    }

    /// Sends one request and returns the server's answer; a `.failure` answer is thrown.
    ///
    /// - Throws: ``ManagerError`` (the server's, or `.serverUnreachable`).
    func call(_ request: ManagerRequest) throws -> ManagerResponse {
        let connection: Connection
        if let pooled = idle.withLock({ $0.popLast() }) {
            connection = pooled
        } else {
            do {
                connection = try Connection.connect(
                    to: address,
                    authenticationKey: authenticationKey,
                    timeout: connectTimeout
                )
            } catch {
                throw unreachable(error)
            }
        }
        do {
            try connection.send(request)
            return try finish(request, on: connection, with: try connection.receive(ManagerResponse.self))
        } catch let error as ManagerError {
            throw error
        } catch {
            throw wentAway(request, on: connection, error)
        }
    }

    /// ``call(_:)`` without holding a thread while the server answers (a queue `get` or a lock
    /// may wait there for long).
    func call(_ request: ManagerRequest) async throws -> ManagerResponse {
        let connection: Connection
        if let pooled = idle.withLock({ $0.popLast() }) {
            connection = pooled
        } else {
            do {
                connection = try await Connection.connect(
                    to: address,
                    authenticationKey: authenticationKey,
                    timeout: connectTimeout
                )
            } catch {
                throw unreachable(error)
            }
        }
        do {
            try await connection.send(request)
            return try finish(request, on: connection, with: try await connection.receive(ManagerResponse.self))
        } catch let error as ManagerError {
            throw error
        } catch is CancellationError {
            // The answer may still come and would be read as the next call's: drop the connection.
            connection.close()
            throw CancellationError()
        } catch {
            throw wentAway(request, on: connection, error)
        }
    }

    /// As long as the server's own handshake deadline: a busy machine can be that slow.
    private var connectTimeout: Duration { .seconds(60) }

    /// A call answered: the connection goes back to the pool, and a `.failure` answer is thrown.
    private func finish(
        _ request: ManagerRequest,
        on connection: Connection,
        with response: ManagerResponse
    ) throws
        -> ManagerResponse
    {
        idle.withLock { $0.append(connection) }
        if case .failure(let error) = response { throw error }
        return response
    }

    /// A call whose connection broke: it is closed, never reused, and the caller told why.
    private func wentAway(_ request: ManagerRequest, on connection: Connection, _ error: any Error) -> ManagerError {
        connection.close()
        return ManagerError(
            .serverUnreachable,
            "the manager at \(address) went away during \(request.operation.name): \(error)"
        )
    }

    private func unreachable(_ error: any Error) -> ManagerError {
        ManagerError(.serverUnreachable, "cannot reach the manager at \(address): \(error)")
    }
}

/// What a proxy holds: which manager, which object. It is all a proxy sends when it crosses to
/// another process, which then opens its own connection to the manager.
struct ManagedReference: Codable, Sendable, Hashable {
    var address: ConnectionAddress
    var authenticationKey: [UInt8]
    var object: UInt64

    var client: ManagerClient { ManagerClient.shared(address: address, authenticationKey: authenticationKey) }

    func call(_ operation: ManagerOperation) throws -> ManagerResponse {
        try client.call(ManagerRequest(object: object, operation: operation))
    }

    func call(_ operation: ManagerOperation) async throws -> ManagerResponse {
        try await client.call(ManagerRequest(object: object, operation: operation))
    }

    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        try BinaryEncoder().encode(value)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        do { return try BinaryDecoder().decode(type, from: bytes) } catch {
            throw ManagerError(.undecodable, "a stored value is not a \(Value.self): \(error)")
        }
    }

    /// The number a `.count` answer carries (an object's size, an event's flag).
    func count(_ operation: ManagerOperation = .count) throws -> Int {
        let response = try call(operation)
        guard case .count(let count) = response else { throw Self.unexpected(response) }
        return count
    }

    /// A timeout as the wire carries it: nanoseconds, or `nil` for none.
    static func nanoseconds(_ timeout: Duration?) -> Int64? {
        timeout.map { duration in
            let (seconds, attoseconds) = duration.components
            return max(
                0,
                seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000
            )
        }
    }

    /// Whether a wait was granted (`[]`) or timed out (`nil`).
    func granted(_ operation: ManagerOperation) throws -> Bool {
        try Self.isGranted(try call(operation))
    }

    func granted(_ operation: ManagerOperation) async throws -> Bool {
        try Self.isGranted(try await call(operation))
    }

    private static func isGranted(_ response: ManagerResponse) throws -> Bool {
        guard case .optionalBytes(let bytes) = response else { throw unexpected(response) }
        return bytes != nil
    }

    static func unexpected(_ response: ManagerResponse) -> ManagerError {
        ManagerError(.undecodable, "the manager answered \(response), which this proxy does not expect")
    }
}
