import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The entry of a spawned child, called by the C shim instead of the program's `main`.
@_cdecl("mpshim_swift_worker_main")
func multiprocessingWorkerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    exit(WorkerLoop.main())
}

/// What a spawned worker does: arm the parent-death signal and the lifeline, read its configuration,
/// then serve requests (``WorkerProtocol``) until the parent has no more, and exit.
enum WorkerLoop {
    static func main() -> Int32 {
        guard let token = mpshim_worker_token().map({ String(cString: $0) }) else {
            return WorkerExitCode.parentVanished
        }
        // Programs this worker starts must not believe they are workers too.
        try? system_unsetenv(WorkerProtocol.tokenName)
        guard let (parentPid, closedInherited) = WorkerProtocol.parseToken(token) else {
            printToStandardError("swift-multiprocessing: unsupported worker token '\(token)'")
            return WorkerExitCode.parentVanished
        }
        try? system_set_parent_death_signal(SIGKILL)
        // The parent may have died before the signal was armed.
        guard system_getppid() == parentPid else { return WorkerExitCode.parentVanished }
        _ = mpshim_start_lifeline_watcher(WorkerProtocol.lifelineDescriptor)
        if !closedInherited {
            // This glibc could not close them at spawn (posix_spawn_file_actions_addclosefrom_np).
            try? system_close_descriptors(from: WorkerProtocol.firstUnlistedDescriptor)
        }
        return runWorker(afterFork: false)
    }

    /// A worker's life once its control socket is fd 3 and its lifeline fd 4, watched: read the
    /// configuration, serve, wait for non-daemon threads. A spawned worker and a worker the fork
    /// server forks both come here.
    static func runWorker(afterFork: Bool) -> Int32 {
        // Inherited without close-on-exec (dup2 clears it); restore it so nothing this worker runs inherits them.
        try? system_set_close_on_exec(WorkerProtocol.controlDescriptor)
        try? system_set_close_on_exec(WorkerProtocol.lifelineDescriptor)
        let control = Connection(
            adopting: WorkerProtocol.controlDescriptor,
            readable: true,
            writable: true,
            maximumFrameSize: Connection.defaultMaximumFrameSize
        )
        let configuration: WorkerConfiguration
        do { configuration = try control.receive(WorkerConfiguration.self) } catch {
            return WorkerExitCode.parentVanished
        }
        WorkerContext.install(configuration, startMethod: configuration.startMethod, afterFork: afterFork)
        let code = serve(control, configuration: configuration)
        // Python waits for non-daemon threads before a process ends; so does a worker.
        WorkerThreadRegistry.waitForNonDaemonThreads()
        return code
    }

    /// Serves requests until end of stream. Returns the exit code of the last task.
    static func serve(_ control: Connection, configuration: WorkerConfiguration) -> Int32 {
        var lastCode = WorkerExitCode.success
        // Looking a type up by its mangled name demangles it and searches conformances: once per type.
        var taskTypes: [String: any ParallelTask.Type] = [:]
        while true {
            let request: WorkerRequest
            do { request = try control.receive(WorkerRequest.self) } catch let error as ConnectionError
                where error.code == .endOfStream
            {
                return lastCode
            } catch {
                return WorkerExitCode.parentVanished
            }
            let typeName: String
            let isInitializer: Bool
            switch request {
            case .run(let name): (typeName, isInitializer) = (name, false)
            case .initialize(let name): (typeName, isInitializer) = (name, true)
            case .serveForks: return ForkServerLoop.serve(control)
            }
            lastCode = run(typeName: typeName, control: control, configuration: configuration, taskTypes: &taskTypes)
            if lastCode == WorkerExitCode.parentVanished { return lastCode }
            if isInitializer && lastCode != WorkerExitCode.success { return lastCode }
        }
    }

    private static func run(
        typeName: String,
        control: Connection,
        configuration: WorkerConfiguration,
        taskTypes: inout [String: any ParallelTask.Type]
    ) -> Int32 {
        if taskTypes[typeName] == nil, let found = typeByPrintableName(typeName) as? any ParallelTask.Type {
            taskTypes[typeName] = found
        }
        guard let taskType = taskTypes[typeName] else {
            // Consume the task's frame so the next request starts on a frame boundary.
            _ = try? control.receiveBytes()
            let report = TaskReport<NoOutput>.setupFailed(
                code: .unknownTaskType,
                message: "the child found no ParallelTask type named '\(typeName)'"
            )
            return (try? control.send(report)) == nil ? WorkerExitCode.parentVanished : WorkerExitCode.taskFailed
        }
        return run(taskType, control: control, configuration: configuration)
    }

    private static func run<Task: ParallelTask>(
        _ taskType: Task.Type,
        control: Connection,
        configuration: WorkerConfiguration
    ) -> Int32 {
        let task: Task
        do { task = try control.receive(Task.self) } catch let error as ConnectionError
            where error.code == .endOfStream || error.code == .closed
        {
            return WorkerExitCode.parentVanished
        } catch {
            let report = TaskReport<Task.Output>.setupFailed(
                code: .taskDecodingFailed,
                message: "the child could not decode a \(String(reflecting: Task.self)): \(error)"
            )
            return (try? control.send(report)) == nil ? WorkerExitCode.parentVanished : WorkerExitCode.taskFailed
        }
        let result = blockingAwait { try await task.run() }
        if case .failure(let error) = result, configuration.printsTaskErrors {
            reportToStandardError(error, taskType: Task.self, processName: configuration.processName)
        }
        return sendReport(result, over: control)
    }

    /// Python prints an uncaught exception's traceback in the child; we print one line.
    static func reportToStandardError(_ error: any Error, taskType: Any.Type?, processName: String) {
        var line = "\(processName): "
        if let taskType { line += "task \(String(reflecting: taskType)) " }
        line += "threw \(String(reflecting: type(of: error))): \(error)"
        printToStandardError(line)
    }

    static func printToStandardError(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { try? system_write(2, UnsafeRawBufferPointer($0)) }
    }
}
