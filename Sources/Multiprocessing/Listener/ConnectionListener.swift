import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// Accepts connections from other processes, on this machine or others: Python's
/// `multiprocessing.connection.Listener`.
///
/// ```swift
/// let listener = try ConnectionListener(address: .unixPath("/tmp/app.sock"), authenticationKey: key)
/// let connection = try await listener.accept()      // a Connection, authenticated
/// // elsewhere:
/// let client = try await Connection.connect(to: .unixPath("/tmp/app.sock"), authenticationKey: key)
/// ```
///
/// With an authentication key, both ends prove they hold it (an HMAC-SHA256 challenge in each
/// direction) before `accept` returns: a peer without it is refused and never delivers a frame.
/// The connections it returns are ordinary ``Connection``s; over Unix-domain sockets they can also
/// carry descriptors, over TCP they cannot.
public final class ConnectionListener: Sendable {
    /// Where it listens; for TCP with port 0, the port it picked.
    public let address: ConnectionAddress
    /// How long a connecting peer has to complete the challenge before `accept` drops it.
    public let handshakeTimeout: Duration

    /// The largest frame the accepted connections take (``Connection/maximumFrameSize``).
    public let maximumFrameSize: Int

    private let fd: CInt
    private let authenticationKey: [UInt8]?
    private let isClosed = ProtectedState(false)

    /// Binds and listens.
    ///
    /// - Parameters:
    ///   - address: A Unix path, an abstract name, or a TCP host and port. TCP binds where it is
    ///     told: use `127.0.0.1` (or `::1`) unless other machines must reach it.
    ///   - authenticationKey: When set, every peer must prove it holds the same key.
    ///   - backlog: Connections the kernel queues before `accept`.
    ///   - handshakeTimeout: How long a connecting peer may take to authenticate.
    ///   - maximumFrameSize: The largest frame an accepted connection takes: a server facing
    ///     untrusted peers bounds what one frame can make it hold.
    /// - Throws: ``ConnectionError`` `.systemCallFailed` with `EADDRINUSE` when the address is
    ///   taken (a second listener on it), `ENAMETOOLONG` for a path over 107 bytes,
    ///   `EADDRNOTAVAIL` for a host that does not resolve.
    public init(
        address: ConnectionAddress = .uniqueAbstract(),
        authenticationKey: [UInt8]? = nil,
        backlog: Int = 128,
        handshakeTimeout: Duration = .seconds(10),
        maximumFrameSize: Int = Connection.defaultMaximumFrameSize
    ) throws {
        precondition(maximumFrameSize > 0, "maximumFrameSize must be positive")
        precondition(authenticationKey.map { !$0.isEmpty } ?? true, "an authentication key cannot be empty")
        let (kind, name, port) = address.socketParameters
        let bound: (fd: CInt, port: UInt16)
        do throws(SystemCallError) {
            bound = try system_listen(kind: kind, name, port: port, backlog: CInt(clamping: backlog))
        } catch {
            throw ConnectionError(
                .systemCallFailed,
                "listening on \(address): \(error.call)",
                underlyingError: error.errno
            )
        }
        fd = bound.fd
        if case .tcp(let host, _) = address {
            self.address = .tcp(host: host, port: bound.port)
        } else {
            self.address = address
        }
        self.authenticationKey = authenticationKey
        self.handshakeTimeout = handshakeTimeout
        self.maximumFrameSize = maximumFrameSize
    }

    deinit {
        close()
        EventLoop.forgetIfRunning(fd)
        system_close(fd)
    }

    /// Stops listening: waiting and later `accept`s throw ``ConnectionError/Code-swift.struct/closed``,
    /// and a Unix path is removed. Connections already accepted stay open.
    public func close() {
        let wasClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        // Wakes every accept blocked on the socket (it reports an error or a hang-up from now on);
        // the descriptor itself closes at deinit, when no accept can still be using its number.
        try? system_shutdown(fd, CInt(SHUT_RDWR))
        if case .unixPath(let path) = address { try? system_unlink(path) }
    }

    /// Waits for a peer, authenticates it if a key is set, and returns the connection.
    ///
    /// - Parameter timeout: How long to wait for a peer; `nil` waits as long as it takes.
    /// - Throws: ``ConnectionError`` `.closed` (the listener was closed), `.timedOut`,
    ///   `.authenticationFailed` (the peer did not prove it holds the key; it is disconnected).
    public func accept(timeout: Duration? = nil) throws -> Connection {
        let deadline = Deadline(timeout: timeout)
        while true {
            try checkOpen()
            if let connection = try acceptNow() { return try authenticate(connection) }
            let ready: Int16
            do throws(SystemCallError) { ready = try system_poll(fd, until: deadline) } catch {
                throw ConnectionError(error, "waiting for a peer on \(address)")
            }
            if ready == 0 && deadline.hasPassed {
                throw ConnectionError(.timedOut, "no peer connected to \(address) in time")
            }
        }
    }

    /// Waits for a peer without holding a thread, authenticates it, and returns the connection.
    ///
    /// - Throws: As ``accept(timeout:)``, and `CancellationError` when the task is cancelled.
    public func accept() async throws -> Connection {
        try await authenticate(try await acceptWithoutHandshake())
    }

    /// The next peer, not yet authenticated: a server runs each handshake
    /// (``authenticateAccepted(_:)``) in a task of its own, so that one slow peer cannot hold up
    /// the accepts of the others.
    func acceptWithoutHandshake() async throws -> Connection {
        while true {
            try checkOpen()
            if let connection = try acceptNow() { return connection }
            do {
                _ = try await EventLoop.shared.wait(
                    for: [EventLoop.Interest(fd: fd, readiness: .readable)],
                    isStillValid: { [isClosed] in !isClosed.withLock { $0 } }
                )
            } catch let error as SystemCallError {
                throw ConnectionError(error, "waiting for a peer on \(address)")
            }
        }
    }

    // MARK: - Internals

    private func checkOpen() throws {
        if isClosed.withLock({ $0 }) { throw ConnectionError(.closed, "accept on a closed listener (\(address))") }
    }

    /// A connection if a peer is queued, `nil` if none is.
    private func acceptNow() throws -> Connection? {
        let accepted: CInt
        do throws(SystemCallError) { accepted = try system_accept(fd) } catch {
            if error.wouldBlock || error.errno == .connectionAbort { return nil }
            try checkOpen()  // a shut-down socket reports EINVAL
            throw ConnectionError(
                .systemCallFailed,
                "accepting on \(address): \(error.call)",
                underlyingError: error.errno
            )
        }
        return Connection(
            adopting: accepted,
            readable: true,
            writable: true,
            maximumFrameSize: maximumFrameSize
        )
    }

    /// The blocking form runs the same (async) handshake on this thread.
    private func authenticate(_ connection: Connection) throws -> Connection {
        guard authenticationKey != nil else { return connection }
        return try blockingAwait { try await self.authenticate(connection) }.get()
    }

    /// Authenticates a connection from ``acceptWithoutHandshake()``; closes it if that fails.
    func authenticateAccepted(_ connection: Connection) async throws {
        _ = try await authenticate(connection)
    }

    private func authenticate(_ connection: Connection) async throws -> Connection {
        guard let authenticationKey else { return connection }
        do {
            try await ConnectionAuthentication.authenticateAsListener(
                connection,
                key: authenticationKey,
                deadline: Deadline(timeout: handshakeTimeout)
            )
        } catch {
            connection.close()
            throw error
        }
        return connection
    }
}
