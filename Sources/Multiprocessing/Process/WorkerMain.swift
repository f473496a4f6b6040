import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The entry of a spawned child, called by the C shim instead of the program's `main`.
@_cdecl("mpshim_swift_worker_main")
func multiprocessingWorkerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    exit(WorkerMain.run())
}

/// What a spawned child does: arm the parent-death signal and the lifeline, read one task, run it,
/// report, exit. Exit codes: 0 success, 1 the task threw or could not run, 70 the parent vanished.
enum WorkerMain {
    static func run() -> Int32 {
        guard let token = mpshim_worker_token().map({ String(cString: $0) }) else { return 70 }
        // Programs this worker starts must not believe they are workers too.
        unsetenv(WorkerDescriptors.tokenName)
        let parts = token.split(separator: ":")
        guard parts.count == 2, parts[0] == WorkerDescriptors.tokenVersion, let parentPid = pid_t(parts[1]) else {
            let message = "swift-multiprocessing: unsupported worker token '\(token)'\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            return 70
        }
        try? system_set_parent_death_signal(SIGKILL)
        // The parent may have died before the signal was armed.
        guard getppid() == parentPid else { return 70 }
        _ = mpshim_start_lifeline_watcher(WorkerDescriptors.lifeline)
        // Inherited without close-on-exec (dup2 clears it); restore it so nothing this worker runs inherits them.
        _ = fcntl(WorkerDescriptors.control, F_SETFD, FD_CLOEXEC)
        _ = fcntl(WorkerDescriptors.lifeline, F_SETFD, FD_CLOEXEC)

        let control = Connection(
            adopting: WorkerDescriptors.control,
            readable: true,
            writable: true,
            maximumFrameSize: Connection.defaultMaximumFrameSize
        )
        let header: TaskHeader
        do { header = try control.receive(TaskHeader.self) } catch { return 70 }
        WorkerContext.processName = header.processName
        guard let taskType = _typeByName(header.typeName) as? any ParallelTask.Type else {
            let report = ChildReport.setupFailed(
                code: .unknownTaskType,
                message: "the child found no ParallelTask type named '\(header.typeName)'"
            )
            return (try? control.send(report)) == nil ? 70 : 1
        }
        return run(taskType, control: control)
    }

    private static func run<Task: ParallelTask>(_ taskType: Task.Type, control: Connection) -> Int32 {
        let task: Task
        do { task = try control.receive(Task.self) } catch {
            let report = ChildReport.setupFailed(
                code: .taskDecodingFailed,
                message: "the child could not decode a \(String(reflecting: Task.self)): \(error)"
            )
            return (try? control.send(report)) == nil ? 70 : 1
        }
        let result = blockingAwait { try await task.run() }
        return sendReport(result, over: control)
    }
}

/// Facts about the current process as a worker (Python's `multiprocessing.current_process()`).
public enum WorkerContext {
    nonisolated(unsafe) static var processName: String? = nil

    /// The name of this process: the ``ChildProcess/name`` it was started with, or `MainProcess`.
    public static var currentProcessName: String { processName ?? "MainProcess" }
}
