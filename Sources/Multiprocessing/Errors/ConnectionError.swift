public import SystemPackage

/// An error from a ``Connection``: a closed or dead peer, a malformed frame, or a failed system call.
///
/// Compare ``code`` rather than the description; codes are extensible, so a `switch` over them needs
/// a `default` case.
public struct ConnectionError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case endOfStream
            case closed
            case frameTooLarge
            case malformedFrame
            case descriptorMismatch
            case timedOut
            case systemCallFailed
            case authenticationFailed
        }

        let storage: Storage

        /// The peer closed its end or died; no more data will arrive (a partial frame counts too).
        public static var endOfStream: Self { Self(storage: .endOfStream) }
        /// This end was closed with ``Connection/close()`` before the call.
        public static var closed: Self { Self(storage: .closed) }
        /// A frame's announced length exceeds the connection's ``Connection/maximumFrameSize``.
        public static var frameTooLarge: Self { Self(storage: .frameTooLarge) }
        /// The bytes on the wire do not form a valid frame.
        public static var malformedFrame: Self { Self(storage: .malformedFrame) }
        /// A frame announced descriptors that did not arrive, or descriptors arrived without a frame.
        public static var descriptorMismatch: Self { Self(storage: .descriptorMismatch) }
        /// A wait with a timeout ran out before anything arrived.
        public static var timedOut: Self { Self(storage: .timedOut) }
        /// A system call failed; ``ConnectionError/underlyingError`` holds its `errno`.
        public static var systemCallFailed: Self { Self(storage: .systemCallFailed) }
        /// The peer did not prove it holds the authentication key (a wrong key, none, or a peer
        /// that does not speak the challenge), or refused this end's proof.
        public static var authenticationFailed: Self { Self(storage: .authenticationFailed) }

        public var description: String {
            switch storage {
            case .endOfStream: "end of stream"
            case .closed: "connection closed"
            case .frameTooLarge: "frame too large"
            case .malformedFrame: "malformed frame"
            case .descriptorMismatch: "descriptor mismatch"
            case .timedOut: "timed out"
            case .systemCallFailed: "system call failed"
            case .authenticationFailed: "authentication failed"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The `errno` of the failed system call, if one failed.
    public let underlyingError: Errno?
    /// What the library was doing, in words (the call and its arguments).
    public let context: String

    init(_ code: Code, _ context: String, underlyingError: Errno? = nil) {
        self.code = code
        self.context = context
        self.underlyingError = underlyingError
    }

    /// The one mapping from a failed system call to a connection error: a vanished peer
    /// (`EPIPE`, `ECONNRESET`) is end of stream, a descriptor closed meanwhile (`EBADF`, only ever
    /// seen by a wait racing a ``Connection/close()``) is `.closed`; anything else a failed call.
    init(_ failure: SystemCallError, _ context: String) {
        switch failure.errno {
        case .brokenPipe, .connectionReset:
            self.init(.endOfStream, "\(context): the peer closed its end", underlyingError: failure.errno)
        case .badFileDescriptor:
            self.init(.closed, "\(context): the connection was closed", underlyingError: failure.errno)
        default:
            self.init(.systemCallFailed, "\(context): \(failure.call)", underlyingError: failure.errno)
        }
    }

    public var description: String {
        var text = "ConnectionError(\(code)): \(context)"
        if let underlyingError { text += " (\(underlyingError))" }
        return text
    }
}
