import Crypto
import SystemPackage

/// The challenge–response both ends of a keyed connection run before any frame is delivered:
/// Python's `deliver_challenge` and `answer_challenge`, with HMAC-SHA256 from swift-crypto.
///
/// The listening end challenges first: it sends a prefix and 32 random bytes; the connecting end
/// answers with the HMAC of that message under the key; the listener compares in constant time and
/// sends a verdict. Then the roles swap, so each end knows the other holds the key. Every message
/// is one small frame, read into a fixed 64-byte buffer: a peer cannot make either end allocate,
/// and a silent one is cut off at the deadline.
enum ConnectionAuthentication {
    static let challengePrefix = Array("#MP-CHALLENGE#".utf8)
    static let welcome = Array("#MP-WELCOME#".utf8)
    static let failure = Array("#MP-FAILURE#".utf8)
    private static let nonceLength = 32
    private static let largestMessage = 64

    /// Both halves, in the listener's order.
    static func authenticateAsListener(_ connection: Connection, key: [UInt8], deadline: Deadline) async throws {
        try await deliverChallenge(connection, key: key, deadline: deadline)
        try await answerChallenge(connection, key: key, deadline: deadline)
    }

    /// Both halves, in the connecting end's order.
    static func authenticateAsClient(_ connection: Connection, key: [UInt8], deadline: Deadline) async throws {
        try await answerChallenge(connection, key: key, deadline: deadline)
        try await deliverChallenge(connection, key: key, deadline: deadline)
    }

    /// Sends a challenge, checks the answer, and tells the peer whether it passed.
    static func deliverChallenge(_ connection: Connection, key: [UInt8], deadline: Deadline) async throws {
        var generator = SystemRandomNumberGenerator()
        let challenge = challengePrefix + (0..<nonceLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try await send(challenge, on: connection)
        let answer = try await receiveSmall(connection, deadline: deadline, what: "the answer to this end's challenge")
        let symmetricKey = SymmetricKey(data: key)
        guard HMAC<SHA256>.isValidAuthenticationCode(answer, authenticating: challenge, using: symmetricKey) else {
            try? await connection.sendBytes(failure)
            throw ConnectionError(.authenticationFailed, "the peer's answer does not match this end's key")
        }
        try await send(welcome, on: connection)
    }

    /// Answers the peer's challenge and reads its verdict.
    static func answerChallenge(_ connection: Connection, key: [UInt8], deadline: Deadline) async throws {
        let challenge = try await receiveSmall(connection, deadline: deadline, what: "a challenge")
        guard challenge.count == challengePrefix.count + nonceLength, challenge.starts(with: challengePrefix) else {
            throw ConnectionError(.authenticationFailed, "the peer sent no challenge (is it keyed?)")
        }
        let code = HMAC<SHA256>.authenticationCode(for: challenge, using: SymmetricKey(data: key))
        try await send(Array(code), on: connection)
        let verdict = try await receiveSmall(connection, deadline: deadline, what: "the verdict on this end's answer")
        guard verdict == welcome else {
            throw ConnectionError(.authenticationFailed, "the peer refused this end's key")
        }
    }

    /// Sends one handshake message. A peer that is gone fails the handshake as a receive would:
    /// `.authenticationFailed`, whichever side noticed first.
    private static func send(_ message: [UInt8], on connection: Connection) async throws {
        do { try await connection.sendBytes(message) } catch let error as ConnectionError {
            throw ConnectionError(
                .authenticationFailed,
                "a handshake message could not be sent (the peer is gone?): \(error)",
                underlyingError: error.underlyingError
            )
        }
    }

    /// One frame of at most 64 bytes, arriving before `deadline`. A longer frame is refused from
    /// its header; bytes that never complete a frame run into the deadline.
    private static func receiveSmall(_ connection: Connection, deadline: Deadline, what: String) async throws -> [UInt8]
    {
        var buffer = [UInt8](repeating: 0, count: largestMessage)
        while true {
            do {
                let count = try buffer.withUnsafeMutableBytes { try connection.receiveSmallFrame(into: $0) }
                return Array(buffer[..<count])
            } catch is FrameNotReady {
                // Wait below for more bytes.
            } catch let error as ConnectionError where error.code == .endOfStream || error.code == .closed {
                throw ConnectionError(
                    .authenticationFailed,
                    "the peer closed the connection instead of sending \(what)",
                    underlyingError: error.underlyingError
                )
            } catch let error as ConnectionError {
                throw ConnectionError(.authenticationFailed, "\(what) was not a valid message: \(error)")
            }
            guard let fd = connection.descriptor?.rawValue else {
                throw ConnectionError(.closed, "the connection was closed during authentication")
            }
            let ready = try await connection.waitOnEventLoop(
                [.init(fd: fd, readiness: .readable)],
                until: deadline.instant
            )
            if ready.isEmpty { throw ConnectionError(.authenticationFailed, "\(what) did not arrive in time") }
        }
    }
}
