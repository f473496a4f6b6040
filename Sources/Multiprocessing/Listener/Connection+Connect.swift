import _CMultiprocessingShims

extension Connection {
    /// Connects to a ``ConnectionListener``: Python's `multiprocessing.connection.Client`.
    ///
    /// - Parameters:
    ///   - address: Where the listener listens.
    ///   - authenticationKey: The listener's key, when it has one; both ends then prove they hold it.
    ///   - timeout: How long the connection and the handshake may take; `nil` for no limit on the
    ///     connection and 10 seconds for the handshake.
    /// - Throws: ``ConnectionError`` `.systemCallFailed` (`ECONNREFUSED`, `ENOENT`: nobody listens),
    ///   `.authenticationFailed` (the key does not match, or the listener is not keyed), `.timedOut`.
    public static func connect(
        to address: ConnectionAddress,
        authenticationKey: [UInt8]? = nil,
        timeout: Duration? = nil
    ) throws -> Connection {
        try blockingAwait {
            try await connect(to: address, authenticationKey: authenticationKey, timeout: timeout)
        }.get()
    }

    /// Connects to a ``ConnectionListener`` without holding a thread while the connection is made.
    ///
    /// - Parameters:
    ///   - address: Where the listener listens.
    ///   - authenticationKey: The listener's key, when it has one; both ends then prove they hold it.
    ///   - timeout: How long the connection and the handshake may take; `nil` for no limit on the
    ///     connection and 10 seconds for the handshake.
    /// - Throws: As the blocking form, and `CancellationError`.
    public static func connect(
        to address: ConnectionAddress,
        authenticationKey: [UInt8]? = nil,
        timeout: Duration? = nil
    ) async throws -> Connection {
        let deadline = Deadline(timeout: timeout)
        let (kind, name, port) = address.socketParameters
        let socket = try await connectedSocket(kind: kind, name: name, port: port, address: address, deadline: deadline)
        // Owned by the connection from here on: it closes the socket whatever fails next.
        let connection = Connection(
            adopting: socket.fd,
            readable: true,
            writable: true,
            maximumFrameSize: defaultMaximumFrameSize
        )
        do {
            if socket.inProgress {
                let ready = try await EventLoop.shared.wait(
                    for: [EventLoop.Interest(fd: socket.fd, readiness: .writable)],
                    until: deadline.instant
                )
                if ready.isEmpty { throw ConnectionError(.timedOut, "connecting to \(address) took too long") }
            }
            do throws(SystemCallError) { try system_finish_connect(socket.fd) } catch {
                throw ConnectionError(
                    .systemCallFailed,
                    "connecting to \(address): \(error.call)",
                    underlyingError: error.errno
                )
            }
            if let authenticationKey {
                precondition(!authenticationKey.isEmpty, "an authentication key cannot be empty")
                // A listener that is not keyed never challenges: do not wait for it forever.
                let handshakeDeadline = deadline.instant == nil ? Deadline(timeout: .seconds(10)) : deadline
                try await ConnectionAuthentication.authenticateAsClient(
                    connection,
                    key: authenticationKey,
                    deadline: handshakeDeadline
                )
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// A socket connected (or, for TCP, connecting) to `address`. A Unix listener whose backlog is
    /// full refuses at once (`EAGAIN`) and nothing tells when it has room again, so the connection
    /// is retried, with pauses growing from 1 to 50 ms, until `deadline`.
    private static func connectedSocket(
        kind: CInt,
        name: String,
        port: UInt16,
        address: ConnectionAddress,
        deadline: Deadline
    ) async throws -> (fd: CInt, inProgress: Bool) {
        var pause = Duration.milliseconds(1)
        while true {
            do throws(SystemCallError) {
                return try system_connect(kind: kind, name, port: port, nonBlocking: true)
            } catch  where error.wouldBlock && !deadline.hasPassed {
                // Below: the pause (a sleep cannot be in this typed-throws block).
            } catch {
                throw ConnectionError(
                    .systemCallFailed,
                    "connecting to \(address): \(error.call)",
                    underlyingError: error.errno
                )
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
    }
}
