/// How a ``ChildProcess`` is started: Python's `multiprocessing.get_context(method)`.
public enum StartMethod: String, Hashable, Sendable, CaseIterable, Codable {
    /// Re-executes the current binary, which enters worker mode before the program's `main` runs
    /// and runs a ``ParallelTask`` sent to it. Safe whatever threads the parent runs. The default.
    case spawn
    /// `fork(2)` without `exec`: the child is a copy of the parent and runs a closure.
    ///
    /// - Important: Only the forking thread exists in the child. Dispatch queues, Swift concurrency
    ///   and any lock held by another thread at the moment of the fork are unusable there, so the
    ///   closure must be synchronous code that does not wait on other threads. Allocation, the
    ///   codec and connections work. The child ends with `_exit`, never running `atexit` handlers.
    case fork
}
