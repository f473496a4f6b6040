import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// What the child is told about itself.
    var configuration: WorkerConfiguration {
        let parent = WorkerContext.currentProcess
        return WorkerConfiguration(
            processName: name,
            isDaemon: isDaemon,
            startMethod: startMethod,
            parentName: parent.name,
            parentPid: parent.pid,
            printsTaskErrors: printsErrors
        )
    }

    /// Starts the child with its start method; returns once it exists and has its task.
    func launch() throws -> LaunchedChild {
        switch work {
        case .task(let typeName, _, let send):
            // The one-task case of the worker loop: configuration, one request, then end of stream.
            let child = try ProcessLauncher.shared.startWorker(configuration)
            do {
                try child.control.send(WorkerRequest.run(typeName: typeName))
                try send(child.control)
                try child.control.finishSending()
            } catch {
                // Nothing will run: end the child at once and leave nothing behind.
                ProcessLauncher.shared.abort(child)
                throw error
            }
            return child
        case .closure(let body, let encode):
            return try forkChild(body: body, encode: encode)
        }
    }

    /// Forks on the launcher thread. The child runs `body`, reports, waits for its non-daemon
    /// threads and exits with `_exit`.
    private func forkChild(
        body: @escaping () throws -> Output,
        encode: @escaping (Output, Connection) -> Int32
    ) throws
        -> LaunchedChild
    {
        let (sockets, lifeline) = try ProcessLauncher.makeChannels()
        let childControl = Connection(
            adopting: sockets.child,
            readable: true,
            writable: true,
            maximumFrameSize: Connection.defaultMaximumFrameSize
        )
        let configuration = configuration
        let parentPid = system_getpid()
        let pid: pid_t
        do {
            pid = try ProcessLauncher.shared.perform {
                // Unflushed stdio would otherwise be written twice, once by each process.
                fflush(nil)
                // Read on the launcher thread, where every start happens: no child starts in between.
                let closing =
                    ProcessLauncher.shared.descriptorsForForkedChildToClose() + [sockets.parent, lifeline.writeEnd]
                let pid: pid_t
                // The child's ends close here, on the launcher thread, so the next fork cannot inherit them.
                do throws(SystemCallError) { pid = try system_fork() } catch {
                    childControl.close()
                    system_close(lifeline.readEnd)
                    throw ProcessError(
                        .startFailed,
                        "forking \(configuration.processName): \(error.call)",
                        underlyingError: error.errno
                    )
                }
                if pid == 0 {
                    closing.withUnsafeBufferPointer {
                        mpshim_prepare_forked_child(parentPid, lifeline.readEnd, $0.baseAddress, $0.count)
                    }
                    // Only this thread exists now: state other threads shared is made private first.
                    EventLoop.disableInForkedChild()
                    WorkerThreadRegistry.resetAfterFork()
                    WorkerContext.install(configuration, startMethod: .fork, afterFork: true)
                    let code: Int32
                    do {
                        code = encode(try body(), childControl)
                    } catch {
                        if configuration.printsTaskErrors {
                            WorkerLoop.reportToStandardError(
                                error,
                                taskType: nil,
                                processName: configuration.processName
                            )
                        }
                        code = sendReport(Result<NoOutput, any Error>.failure(error), over: childControl)
                    }
                    WorkerThreadRegistry.waitForNonDaemonThreads()
                    mpshim_flush_and_exit(code)
                }
                childControl.close()
                system_close(lifeline.readEnd)
                return pid
            }
        } catch {
            for fd in [sockets.parent, lifeline.writeEnd] { system_close(fd) }
            throw error
        }
        return try ProcessLauncher.shared.adopt(
            pid: pid,
            lifeline: lifeline.writeEnd,
            control: sockets.parent,
            isDaemon: isDaemon,
            name: name
        )
    }
}
