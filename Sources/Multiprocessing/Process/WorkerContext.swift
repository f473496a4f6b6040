#if canImport(Glibc)
import Glibc
#endif

/// Who a process is: Python's `Process` object as `current_process()` and `parent_process()` see it.
public struct ProcessIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The name it was started with (`MainProcess` for a program started by the user).
    public var name: String
    /// Its process id.
    public var pid: Int32
    /// Whether it is daemonic: terminated, rather than waited for, when its parent exits.
    public var isDaemon: Bool
    /// How it was started; `nil` for a program started by the user.
    public var startMethod: StartMethod?

    public var description: String {
        "\(name) (pid \(pid)\(isDaemon ? ", daemon" : "")\(startMethod.map { ", \($0)" } ?? ""))"
    }
}

/// Facts about the current process and its relatives: Python's `multiprocessing.current_process()`,
/// `parent_process()`, `active_children()` and `cpu_count()`.
///
/// May be read from any thread, in any process.
public enum WorkerContext {
    private static let identity = ProtectedState<(current: ProcessIdentity, parent: ProcessIdentity?)?>(nil)

    /// Sets who this process is, once it knows (a worker, from its configuration; a forked child).
    /// In a forked child, `afterFork` replaces the lock instead of taking it: a parent thread may
    /// have held it at the fork.
    static func install(_ configuration: WorkerConfiguration, startMethod: StartMethod, afterFork: Bool = false) {
        let current = ProcessIdentity(
            name: configuration.processName,
            pid: system_getpid(),
            isDaemon: configuration.isDaemon,
            startMethod: startMethod
        )
        let parent = ProcessIdentity(
            name: configuration.parentName,
            pid: configuration.parentPid,
            isDaemon: false,
            startMethod: nil
        )
        if afterFork {
            identity.resetAfterFork((current, parent))
        } else {
            identity.withLock { $0 = (current, parent) }
        }
    }

    /// This process: Python's `current_process()`.
    public static var currentProcess: ProcessIdentity {
        identity.withLock { $0?.current }
            ?? ProcessIdentity(name: "MainProcess", pid: system_getpid(), isDaemon: false, startMethod: nil)
    }

    /// The process that started this one, or `nil` in a program started by the user: Python's
    /// `parent_process()`.
    public static var parentProcess: ProcessIdentity? { identity.withLock { $0?.parent } }

    /// The name of this process: the ``ChildProcess/name`` it was started with, or `MainProcess`.
    public static var currentProcessName: String { currentProcess.name }

    /// Whether this process runs as a child started by this library.
    public static var isChildProcess: Bool { identity.withLock { $0 != nil } }

    /// The children this process started that have not ended yet: Python's `active_children()`.
    ///
    /// Like Python's, it also reaps children that have ended and that nobody waits for.
    public static func activeChildren() -> [ProcessIdentity] {
        ProcessLauncher.shared.activeChildren()
    }

    /// The kernel's id of the calling thread (`gettid`), unique system-wide while it runs: Python's
    /// `threading.get_native_id()`. It names the thread in `/proc/<pid>/task/` and in `top -H`.
    public static var nativeThreadID: Int32 { system_gettid() }

    /// The number of CPUs this process may use: its affinity mask (as Python's
    /// `os.process_cpu_count()`), further limited by a cgroup CPU quota (containers), at least 1.
    public static var cpuCount: Int {
        var count = system_affinity_cpu_count() ?? 1
        if let quota = CgroupQuota.cpuLimit() { count = min(count, quota) }
        return max(count, 1)
    }
}

/// The CPU limit a cgroup places on this process (`cpu.max` in v2, `cpu.cfs_quota_us` in v1).
enum CgroupQuota {
    static func cpuLimit() -> Int? {
        if let line = readFirstLine("/sys/fs/cgroup/cpu.max") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let quota = Double(parts[0]), let period = Double(parts[1]), period > 0 else {
                return nil  // "max 100000": no limit
            }
            return Int((quota / period).rounded(.up))
        }
        if let quotaLine = readFirstLine("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
            let periodLine = readFirstLine("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
            let quota = Double(quotaLine), let period = Double(periodLine), quota > 0, period > 0
        {
            return Int((quota / period).rounded(.up))
        }
        return nil
    }

    private static func readFirstLine(_ path: String) -> String? {
        guard let bytes = try? system_read_small_file(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n").first.map { $0.trimmingCharacters() }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
