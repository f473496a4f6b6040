#if MPI
/// An error from MPI or from this library's use of it.
///
/// Compare ``code`` rather than the description; codes are extensible.
public struct MPIError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case callFailed
            case threadSupport
            case invalidArgument
            case decodingFailed
            case finalized
        }

        let storage: Storage

        /// An MPI call returned an error: ``MPIError/mpiErrorCode`` and the MPI error string say which.
        public static var callFailed: Self { Self(storage: .callFailed) }
        /// This MPI library cannot be called from several threads at once (`MPI_THREAD_MULTIPLE`),
        /// which async waits and pools need.
        public static var threadSupport: Self { Self(storage: .threadSupport) }
        /// A rank, tag or count out of range, or a root that passed no value.
        public static var invalidArgument: Self { Self(storage: .invalidArgument) }
        /// A message arrived that does not decode as the type asked for (nothing else is lost).
        public static var decodingFailed: Self { Self(storage: .decodingFailed) }
        /// MPI was finalized already: nothing can be sent or received any more.
        public static var finalized: Self { Self(storage: .finalized) }

        public var description: String {
            switch storage {
            case .callFailed: "MPI call failed"
            case .threadSupport: "thread support"
            case .invalidArgument: "invalid argument"
            case .decodingFailed: "decoding failed"
            case .finalized: "finalized"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// What was being done, in words (for a failed call: the call and MPI's error string).
    public let context: String
    /// The error code an MPI call returned, for ``Code-swift.struct/callFailed``.
    public let mpiErrorCode: Int32?

    init(_ code: Code, _ context: String, mpiErrorCode: Int32? = nil) {
        self.code = code
        self.context = context
        self.mpiErrorCode = mpiErrorCode
    }

    public var description: String {
        "MPIError.\(code): \(context)" + (mpiErrorCode.map { " (MPI error \($0))" } ?? "")
    }
}
#endif
