#if MPI
import CMPI

/// How freely threads may call MPI (`MPI_Init_thread`'s level).
///
/// The library asks for ``multiple`` by default: async forms wait on a progress thread and pools
/// send from any task. Open MPI then takes a lock on every call (about 0.1 µs here). A program that
/// calls MPI from one thread only, synchronously, may ask for less with
/// ``MPICommunicator/initialize(threadLevel:)`` before anything else; the async forms and
/// ``MPIPool`` then refuse with ``MPIError/Code-swift.struct/threadSupport``.
public enum MPIThreadLevel: Sendable, Comparable, CustomStringConvertible {
    /// One thread, the main one (`MPI_THREAD_SINGLE`).
    case single
    /// Several threads, MPI from the main one only (`MPI_THREAD_FUNNELED`).
    case funneled
    /// Any thread, one at a time (`MPI_THREAD_SERIALIZED`).
    case serialized
    /// Any thread, at any time (`MPI_THREAD_MULTIPLE`).
    case multiple

    /// MPI's constant for this level.
    var mpiValue: Int32 {
        switch self {
        case .single: Int32(MPI_THREAD_SINGLE)
        case .funneled: Int32(MPI_THREAD_FUNNELED)
        case .serialized: Int32(MPI_THREAD_SERIALIZED)
        case .multiple: Int32(MPI_THREAD_MULTIPLE)
        }
    }

    init(mpiValue: Int32) {
        self = [.multiple, .serialized, .funneled].first { $0.mpiValue == mpiValue } ?? .single
    }

    public var description: String {
        switch self {
        case .single: "single"
        case .funneled: "funneled"
        case .serialized: "serialized"
        case .multiple: "multiple"
        }
    }
}
#endif
