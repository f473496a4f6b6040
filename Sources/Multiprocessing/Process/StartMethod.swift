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
    /// Python's `forkserver`: a helper process, spawned once, forks each child from itself and runs a
    /// ``ParallelTask`` in it, as ``spawn`` does. Starting a child skips `exec`, the dynamic loader and
    /// the runtime's start-up, so it is several times faster than ``spawn``, and as safe whatever
    /// threads the program runs: the helper runs nothing but its loop, so no lock is held when it
    /// forks.
    ///
    /// The helper starts on first use, or at ``prepare()``; it dies with the program, and its
    /// children still die with the program too. It is not listed by ``WorkerContext/activeChildren()``.
    case forkServer

    /// Gets the start method ready before the first child needs it: for ``forkServer``, starts the
    /// helper now, so that the first start is fast too (Python starts it at first use only).
    /// Nothing for the others.
    ///
    /// - Throws: ``ProcessError`` when the helper cannot be spawned.
    public func prepare() throws {
        if self == .forkServer { try ForkServer.shared.prepare() }
    }
}
