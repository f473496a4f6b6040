#if MPI
import CMPI
import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// MPI's life in this process: initialised once, on first use, with full thread support, and
/// finalized when the process exits.
enum MPIEnvironment {
    private enum State {
        case uninitialized
        case ready(MPIThreadLevel)
        case failed(MPIError)
    }

    private static let state = ProtectedState(State.uninitialized)
    /// What runs before `MPI_Finalize` at exit (open pools release their workers).
    private static let exitHooks = ProtectedState([@Sendable () -> Void]())

    /// Initialises MPI at `requested` thread support unless it is already (by this library or by
    /// the program itself); returns the level MPI provides.
    @discardableResult
    static func initialize(requesting requested: MPIThreadLevel = .multiple) throws(MPIError) -> MPIThreadLevel {
        let outcome: Result<MPIThreadLevel, MPIError> = state.withLock { state in
            switch state {
            case .ready(let level): return .success(level)
            case .failed(let error): return .failure(error)
            case .uninitialized: break
            }
            let result = Result { () throws(MPIError) in try start(requested) }
            switch result {
            case .success(let level): state = .ready(level)
            case .failure(let error): state = .failed(error)
            }
            return result
        }
        return try outcome.get()
    }

    /// Throws unless MPI may be called from several threads at once, which `what` needs.
    static func requireMultipleThreads(for what: @autoclosure () -> String) throws(MPIError) {
        let level = try initialize()
        guard level == .multiple else {
            throw MPIError(
                .threadSupport,
                "\(what()) calls MPI from several threads, but MPI was initialised with thread level \(level); "
                    + "initialise it with .multiple (the default)"
            )
        }
    }

    private static func start(_ requested: MPIThreadLevel) throws(MPIError) -> MPIThreadLevel {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized != 0 { throw MPIError(.finalized, "MPI was finalized already in this process") }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        var provided: Int32 = 0
        if initialized != 0 {
            MPI_Query_thread(&provided)
        } else {
            let code = MPI_Init_thread(nil, nil, requested.mpiValue, &provided)
            guard code == MPI_SUCCESS else {
                throw MPIError(.callFailed, "MPI_Init_thread: \(errorString(code))", mpiErrorCode: code)
            }
            ownsInitialization.withLock { $0 = true }
        }
        // Exit hooks run even when the program initialised MPI itself (and may finalize it).
        atexit { MPIEnvironment.finalizeAtExit() }
        // Errors come back as codes and become MPIError, instead of aborting every rank.
        MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return())
        MPI_Comm_set_errhandler(cmpi_comm_self(), cmpi_errors_return())
        let level = MPIThreadLevel(mpiValue: provided)
        guard initialized != 0 || level >= requested else {
            throw MPIError(
                .threadSupport,
                "this MPI library provides thread level \(level), not \(requested) "
                    + "(rebuild Open MPI with --enable-mpi-thread-multiple)"
            )
        }
        return level
    }

    /// Runs `hook` at exit, before MPI is finalized.
    static func atExit(_ hook: @escaping @Sendable () -> Void) {
        exitHooks.withLock { $0.append(hook) }
    }

    /// Whether this library called `MPI_Init_thread`, and so finalizes.
    private static let ownsInitialization = ProtectedState(false)

    private static func finalizeAtExit() {
        let hooks = exitHooks.withLock { hooks in
            defer { hooks.removeAll() }
            return hooks
        }
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        // After MPI_Finalize (a program that initialised MPI itself may have called it) no MPI call is allowed.
        guard finalized == 0 else { return }
        for hook in hooks { hook() }
        MPIProgressEngine.shared.stopForExit()
        if ownsInitialization.withLock({ $0 }) { MPI_Finalize() }
    }

    /// The largest tag this MPI accepts (`MPI_TAG_UB`); valid once MPI is initialised.
    static let tagUpperBound: Int = {
        var value: UnsafeMutableRawPointer? = nil
        var found: Int32 = 0
        guard MPI_Comm_get_attr(cmpi_comm_world(), Int32(MPI_TAG_UB), &value, &found) == MPI_SUCCESS,
            found != 0, let value
        else { return 32767 }
        return Int(value.load(as: Int32.self))
    }()

    /// MPI's own words for an error code.
    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "MPI error \(code)" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws the error of a failed MPI call, naming the call.
    @inline(__always)
    static func check(_ code: Int32, _ call: @autoclosure () -> String) throws(MPIError) {
        guard code == MPI_SUCCESS else { throw failure(code, call()) }
    }

    static func failure(_ code: Int32, _ call: String) -> MPIError {
        MPIError(.callFailed, "\(call): \(errorString(code))", mpiErrorCode: code)
    }
}
#endif
