import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// A child the launcher started: what its owner needs to talk to it, wait for it and end it.
///
/// It owns the child's pidfd and the write end of its lifeline, and closes both exactly once, when
/// the last holder lets go: the ``ChildProcess`` or ``WorkerProcess`` that reaped it, or the
/// launcher, which keeps every child it started until it is reaped (the lifeline must stay open
/// while the child runs: its EOF tells the child that the parent is gone).
final class LaunchedChild: Sendable {
    let pid: pid_t
    let name: String
    let isDaemon: Bool
    /// The parent's end of the control socket.
    let control: Connection
    private let pidfdOwner: OwnedDescriptor
    private let lifelineOwner: OwnedDescriptor

    /// A descriptor that refers to this process only, immune to PID reuse.
    var pidfd: CInt { pidfdOwner.rawValue }
    /// The write end of the child's lifeline; only this process holds it.
    var lifeline: CInt { lifelineOwner.rawValue }

    init(
        pid: pid_t,
        name: String,
        isDaemon: Bool,
        control: Connection,
        pidfd: consuming OwnedDescriptor,
        lifeline: consuming OwnedDescriptor
    ) {
        self.pid = pid
        self.name = name
        self.isDaemon = isDaemon
        self.control = control
        pidfdOwner = pidfd
        lifelineOwner = lifeline
    }

    deinit {
        control.close()
        // Epoll watches the open file: forget the pidfd before its owner closes it.
        EventLoop.forgetIfRunning(pidfdOwner.rawValue)
    }
}

extension ProcessLauncher {
    /// The two channels every child gets: a control socket pair and a lifeline pipe, all
    /// close-on-exec. Nothing is left open when it throws.
    static func makeChannels() throws -> (
        sockets: (parent: CInt, child: CInt), lifeline: (readEnd: CInt, writeEnd: CInt)
    ) {
        do throws(SystemCallError) {
            let pair = try system_socketpair()
            do { return ((pair.0, pair.1), try system_pipe()) } catch {
                system_close(pair.0)
                system_close(pair.1)
                throw error
            }
        } catch {
            throw ProcessError(error)
        }
    }

    /// Spawns a worker (``WorkerProtocol``): re-executes this binary (`/proc/self/exe`) with the
    /// control socket at fd 3, the lifeline at fd 4 and nothing else above 2, registers it, and
    /// sends it `configuration`. On any failure nothing is left behind: no descriptor, no process.
    func spawnWorker(_ configuration: WorkerConfiguration) throws -> LaunchedChild {
        let (sockets, lifeline) = try Self.makeChannels()
        let pid: pid_t
        do {
            // `spawn` takes the child's ends and closes them on the launcher thread.
            pid = try spawn(name: configuration.processName, control: sockets.child, lifeline: lifeline.readEnd)
        } catch {
            for fd in [sockets.parent, lifeline.writeEnd] { system_close(fd) }
            throw error
        }
        let child = try adopt(
            pid: pid,
            lifeline: lifeline.writeEnd,
            control: sockets.parent,
            isDaemon: configuration.isDaemon,
            name: configuration.processName
        )
        do {
            try child.control.send(configuration)
        } catch {
            abort(child)
            throw error
        }
        return child
    }

    /// Opens the pidfd of a child just started and registers it. Kills and reaps it if that fails.
    func adopt(pid: pid_t, lifeline: CInt, control: CInt, isDaemon: Bool, name: String) throws -> LaunchedChild {
        let lifeline = OwnedDescriptor(adopting: lifeline)
        let connection = Connection(
            adopting: control,
            readable: true,
            writable: true,
            maximumFrameSize: Connection.defaultMaximumFrameSize
        )
        let pidfd: CInt
        do throws(SystemCallError) { pidfd = try system_pidfd_open(pid) } catch {
            try? system_kill(pid, SIGKILL)
            try? system_waitpid(pid)
            connection.close()
            throw ProcessError(error, pid: pid)
        }
        let child = LaunchedChild(
            pid: pid,
            name: name,
            isDaemon: isDaemon,
            control: connection,
            pidfd: OwnedDescriptor(adopting: pidfd),
            lifeline: lifeline
        )
        register(child)
        return child
    }

    /// Ends a child that will not run (its task could not be sent): kill, reap, release everything.
    func abort(_ child: LaunchedChild) {
        Teardown.terminate(pidfd: child.pidfd, grace: .zero)
        child.control.close()
        unregister(child)
    }

    /// Spawns the worker; takes ownership of the child's ends (`control`, `lifeline`) and closes
    /// them, and their duplicates, on the launcher thread right after `posix_spawn`: a fork the
    /// launcher runs next must not inherit them (a sibling holding a worker's end would keep the
    /// worker from ever seeing end of stream).
    private func spawn(name: String, control: CInt, lifeline: CInt) throws -> pid_t {
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
            system_close(control)
            system_close(lifeline)
            throw ProcessError(error)
        }
        // Output the parent buffered must come out before anything the child prints.
        fflush(nil)
        var environment: [UnsafeMutablePointer<CChar>?] = []
        var index = 0
        while let entry = environ[index] {
            index += 1
            if String(cString: entry).hasPrefix(WorkerProtocol.tokenName + "=") { continue }
            environment.append(strdup(entry))
        }
        let tokenIndex = environment.count
        environment.append(nil)
        environment.append(nil)
        var arguments: [UnsafeMutablePointer<CChar>?] = [strdup(CommandLine.unsafeArgv[0] ?? strdup("worker")), nil]
        defer {
            for pointer in environment { free(pointer) }
            for pointer in arguments { free(pointer) }
        }
        let parentPid = system_getpid()
        return try perform {
            defer { for fd in [sourceControl, sourceLifeline, control, lifeline] { system_close(fd) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, sourceControl, WorkerProtocol.controlDescriptor)
            posix_spawn_file_actions_adddup2(&actions, sourceLifeline, WorkerProtocol.lifelineDescriptor)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            // Descriptors the program left inheritable (a shell's, a library's) must not reach the worker.
            let closes = mpshim_spawn_file_actions_addclosefrom(&actions, WorkerProtocol.firstUnlistedDescriptor) == 0
            environment[tokenIndex] = strdup(
                WorkerProtocol.token(parentPid: parentPid, closedInheritedDescriptors: closes)
            )

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
                throw ProcessError(.startFailed, "spawning \(name): \(error.call)", underlyingError: error.errno)
            }
        }
    }
}
