#if canImport(Glibc)
import Glibc
#endif

/// How far a `ProcessPool.map(_:chunkSize:timeout:progress:)` has come, reported after every
/// chunk that completes.
public struct PoolProgress: Sendable, Hashable {
    /// Tasks whose outputs are in.
    public var completed: Int
    /// Tasks in the map.
    public var total: Int
    /// Time since the map started.
    public var elapsed: Duration

    /// The share done, 0...1.
    public var fraction: Double { total == 0 ? 1 : Double(completed) / Double(total) }

    /// A one-line bar, `[#########...........]  45/100  1.2 s`, `width` characters of bar.
    public func bar(width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: max(0, width - filled))
        let pad = String(repeating: " ", count: max(0, String(total).count - String(completed).count))
        return "[\(bar)] \(pad)\(completed)/\(total)  \((seconds * 10).rounded() / 10) s"
    }

    /// A progress callback that redraws ``bar(width:)`` on standard error (on one line when
    /// standard error is a terminal, a line per report otherwise): pass it as `progress:`.
    public static let terminalBar: @Sendable (PoolProgress) -> Void = { progress in
        let isTerminal = isatty(STDERR_FILENO) != 0
        let line =
            (isTerminal ? "\r" : "") + progress.bar() + (isTerminal && progress.completed < progress.total ? "" : "\n")
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = try? system_write(STDERR_FILENO, $0) }
    }
}

/// Counts completed tasks and reports them, serialized so that reports never go backwards.
package final class ProgressTracker: Sendable {
    private let total: Int
    private let report: @Sendable (PoolProgress) -> Void
    private let start = ContinuousClock.now
    private let done = ProtectedState(0)

    init(total: Int, report: @escaping @Sendable (PoolProgress) -> Void) {
        self.total = total
        self.report = report
    }

    func completed(_ tasks: Int) {
        done.withLock { done in
            done += tasks
            report(PoolProgress(completed: done, total: total, elapsed: ContinuousClock.now - start))
        }
    }
}
