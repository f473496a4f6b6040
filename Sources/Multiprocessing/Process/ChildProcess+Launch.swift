import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The descriptor numbers a spawned worker finds its control socket and lifeline at.
enum WorkerDescriptors {
    static let control: CInt = 3
    static let lifeline: CInt = 4
    static let tokenName = "SWIFT_MULTIPROCESSING_WORKER"
    static let tokenVersion = "1"
}

extension ChildProcess {
    /// Starts the child with its start method; returns once it exists and has its task.
    func launch() throws -> Running {
        let sockets: (parent: CInt, child: CInt)
        let lifeline: (readEnd: CInt, writeEnd: CInt)
        do throws(SystemCallError) {
            let pair = try system_socketpair()
            sockets = (pair.0, pair.1)
            do { lifeline = try system_pipe() } catch {
                system_close(sockets.parent)
                system_close(sockets.child)
                throw error
            }
        } catch {
            throw ProcessError(error)
        }
        // Output the parent buffered must come out before anything the child prints.
        fflush(nil)
        let control = Connection(
            adopting: sockets.parent,
            readable: true,
            writable: true,
            maximumFrameSize: Connection.defaultMaximumFrameSize
        )
        let pid: pid_t
        do {
            switch work {
            case .task:
                pid = try spawnWorker(control: sockets.child, lifeline: lifeline.readEnd)
                system_close(sockets.child)
            case .closure(let body, let encode):
                let childControl = Connection(
                    adopting: sockets.child,
                    readable: true,
                    writable: true,
                    maximumFrameSize: Connection.defaultMaximumFrameSize
                )
                pid = try forkChild(control: childControl, parentControl: sockets.parent, lifeline: lifeline) {
                    do {
                        return encode(try body(), childControl)
                    } catch {
                        return sendReport(Result<NoOutput, any Error>.failure(error), over: childControl)
                    }
                }
                childControl.close()
            }
        } catch {
            system_close(lifeline.readEnd)
            system_close(lifeline.writeEnd)
            if case .task = work { system_close(sockets.child) }
            throw error
        }
        system_close(lifeline.readEnd)

        let pidfd: CInt
        do throws(SystemCallError) { pidfd = try system_pidfd_open(pid) } catch {
            try? system_kill(pid, SIGKILL)
            var status: CInt = 0
            _ = waitpid(pid, &status, 0)
            system_close(lifeline.writeEnd)
            throw ProcessError(error, pid: pid)
        }
        let running = Running(pid: pid, pidfd: pidfd, lifeline: lifeline.writeEnd, control: control)
        ProcessLauncher.shared.register(pid: pid, pidfd: pidfd, lifeline: lifeline.writeEnd, isDaemon: isDaemon)

        if case .task(let typeName, _, let send) = work {
            do {
                try control.send(TaskHeader(typeName: typeName, processName: name))
                try send(control)
            } catch {
                // Nothing will run: end the child at once and leave nothing behind.
                Teardown.terminate(pidfd: pidfd, grace: .zero)
                control.close()
                ProcessLauncher.shared.unregister(pid: pid, lifeline: lifeline.writeEnd)
                system_close(pidfd)
                throw error
            }
        }
        return running
    }

    /// Re-executes this binary (`/proc/self/exe`) with the control socket at fd 3 and the lifeline
    /// at fd 4; the worker token in its environment makes it run ``WorkerMain`` instead of `main`.
    private func spawnWorker(control: CInt, lifeline: CInt) throws -> pid_t {
        // dup2 into 3 and 4 must not clobber a source that happens to be 3 or 4: move sources up first.
        let sourceControl: CInt
        let sourceLifeline: CInt
        do throws(SystemCallError) {
            sourceControl = try system_duplicate(control, atLeast: 10)
            do { sourceLifeline = try system_duplicate(lifeline, atLeast: 10) } catch {
                system_close(sourceControl)
                throw error
            }
        } catch {
            throw ProcessError(error)
        }
        defer {
            system_close(sourceControl)
            system_close(sourceLifeline)
        }
        let token = "\(WorkerDescriptors.tokenName)=\(WorkerDescriptors.tokenVersion):\(getpid())"
        var environment: [UnsafeMutablePointer<CChar>?] = []
        var index = 0
        while let entry = environ[index] {
            index += 1
            if String(cString: entry).hasPrefix(WorkerDescriptors.tokenName + "=") { continue }
            environment.append(strdup(entry))
        }
        environment.append(strdup(token))
        environment.append(nil)
        var arguments: [UnsafeMutablePointer<CChar>?] = [strdup(CommandLine.unsafeArgv[0] ?? strdup("worker")), nil]
        defer {
            for pointer in environment { free(pointer) }
            for pointer in arguments { free(pointer) }
        }
        return try ProcessLauncher.shared.perform {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, sourceControl, WorkerDescriptors.control)
            posix_spawn_file_actions_adddup2(&actions, sourceLifeline, WorkerDescriptors.lifeline)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            posix_spawnattr_setsigmask(&attributes, &noSignals)
            var defaults = sigset_t()
            sigfillset(&defaults)
            sigdelset(&defaults, SIGKILL)
            sigdelset(&defaults, SIGSTOP)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            do throws(SystemCallError) {
                return try system_posix_spawn("/proc/self/exe", &actions, &attributes, &arguments, &environment)
            } catch {
                throw ProcessError(.startFailed, "spawning \(self.name): \(error.call)", underlyingError: error.errno)
            }
        }
    }

    /// Forks on the launcher thread. The child runs `child` and exits with the code it returns.
    private func forkChild(
        control: Connection,
        parentControl: CInt,
        lifeline: (readEnd: CInt, writeEnd: CInt),
        _ child: @escaping () -> Int32
    ) throws -> pid_t {
        let parentPid = getpid()
        var toClose = ProcessLauncher.shared.descriptorsForForkedChildToClose()
        toClose += [parentControl, lifeline.writeEnd]
        let closing = toClose
        return try ProcessLauncher.shared.perform {
            // Unflushed stdio would otherwise be written twice, once by each process.
            fflush(nil)
            let pid: pid_t
            do throws(SystemCallError) { pid = try system_fork() } catch {
                throw ProcessError(.startFailed, "forking \(self.name): \(error.call)", underlyingError: error.errno)
            }
            if pid == 0 {
                closing.withUnsafeBufferPointer {
                    mpshim_prepare_forked_child(parentPid, lifeline.readEnd, $0.baseAddress, $0.count)
                }
                WorkerContext.processName = self.name
                mpshim_flush_and_exit(child())
            }
            return pid
        }
    }
}
