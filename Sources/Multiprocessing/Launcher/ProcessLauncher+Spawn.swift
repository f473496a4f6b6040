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
    /// A process the library runs for itself (the fork server): not listed among the active
    /// children, and ended only after every other child at exit.
    let isHelper: Bool
    /// The parent's end of the control socket.
    let control: Connection
    private let pidfdOwner: OwnedDescriptor
    private let lifelineOwner: OwnedDescriptor
    /// For a worker the fork server started (a child of the server, not of this process): the pipe
    /// on which the server writes the worker's exit status when it reaps it.
    private let exitReportOwner: OwnedDescriptor?
    private let exitReportDescriptor: CInt?
    private let reportedStatus = ProtectedState<ExitStatus?>(nil)

    /// A descriptor that refers to this process only, immune to PID reuse.
    var pidfd: CInt { pidfdOwner.rawValue }
    /// The write end of the child's lifeline; only this process holds it.
    var lifeline: CInt { lifelineOwner.rawValue }

    init(
        pid: pid_t,
        name: String,
        isDaemon: Bool,
        isHelper: Bool = false,
        control: Connection,
        pidfd: consuming OwnedDescriptor,
        lifeline: consuming OwnedDescriptor,
        exitReport: CInt? = nil
    ) {
        self.pid = pid
        self.name = name
        self.isDaemon = isDaemon
        self.isHelper = isHelper
        self.control = control
        pidfdOwner = pidfd
        lifelineOwner = lifeline
        // Owned from here on; the number is kept apart to read without consuming the owner.
        exitReportOwner = exitReport.map { OwnedDescriptor(adopting: $0) }
        exitReportDescriptor = exitReport
    }

    deinit {
        control.close()
        // Epoll watches the open file: forget the pidfd before its owner closes it.
        EventLoop.forgetIfRunning(pidfdOwner.rawValue)
    }

    /// Reaps the child and says how it ended; `nil` when `noHang` and it still runs.
    ///
    /// A child of this process is reaped with `waitid` on its pidfd. A worker of the fork server is
    /// the server's child: the server reaps it and writes its status to the exit report, which is
    /// read here once the pidfd says the worker ended (a blocking wait reads at once). If the server
    /// itself is gone, the status is unknown: `.exited(-1)`.
    func waitForExit(noHang: Bool) throws(SystemCallError) -> ExitStatus? {
        guard let report = exitReportDescriptor else { return try system_waitid(pidfd: pidfd, noHang: noHang) }
        if noHang, try system_poll(pidfd, until: Deadline(timeout: .zero)) == 0 { return nil }
        let outcome = reportedStatus.withLock { known -> Result<ExitStatus, SystemCallError> in
            if let known { return .success(known) }
            do throws(SystemCallError) {
                let status = try Self.readExitReport(report)
                known = status
                return .success(status)
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Reads the fork server's report: kind and value, or end of file if the server died first.
    private static func readExitReport(_ report: CInt) throws(SystemCallError) -> ExitStatus {
        var words: (Int32, Int32) = (0, 0)
        var filled = 0
        try withUnsafeMutableBytes(of: &words) { (bytes) throws(SystemCallError) in
            while filled < bytes.count {
                let count = try system_read(report, UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]))
                if count == 0 { break }
                filled += count
            }
        }
        if filled < MemoryLayout<(Int32, Int32)>.size { return .exited(-1) }
        return words.0 == ForkServerExitReport.exited ? .exited(words.1) : .signaled(words.1)
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

    /// Starts a worker (``WorkerProtocol``) with its configuration's start method, registers it and
    /// sends it `configuration`. On any failure nothing is left behind: no descriptor, no process.
    func startWorker(_ configuration: WorkerConfiguration, isHelper: Bool = false) throws -> LaunchedChild {
        let child =
            configuration.startMethod == .forkServer
            ? try ForkServer.shared.forkWorker(named: configuration.processName, isDaemon: configuration.isDaemon)
            : try spawnWorker(configuration, isHelper: isHelper)
        do {
            try child.control.send(configuration)
        } catch {
            abort(child)
            throw error
        }
        return child
    }

    /// Spawns a worker: re-executes this binary (`/proc/self/exe`) with the control socket at fd 3,
    /// the lifeline at fd 4 and nothing else above 2, and registers it.
    private func spawnWorker(_ configuration: WorkerConfiguration, isHelper: Bool) throws -> LaunchedChild {
        let (sockets, lifeline) = try Self.makeChannels()
        let pid: pid_t
        do {
            // `spawn` takes the child's ends and closes them on the launcher thread.
            pid = try spawn(name: configuration.processName, control: sockets.child, lifeline: lifeline.readEnd)
        } catch {
            for fd in [sockets.parent, lifeline.writeEnd] { system_close(fd) }
            throw error
        }
        return try adopt(
            pid: pid,
            lifeline: lifeline.writeEnd,
            control: sockets.parent,
            isDaemon: configuration.isDaemon,
            name: configuration.processName,
            isHelper: isHelper
        )
    }

    /// Registers a child just started, opening its pidfd unless one is given. Kills and reaps it if
    /// that fails.
    func adopt(
        pid: pid_t,
        lifeline: CInt,
        control: CInt,
        isDaemon: Bool,
        name: String,
        pidfd givenPidfd: CInt? = nil,
        exitReport: CInt? = nil,
        isHelper: Bool = false
    ) throws -> LaunchedChild {
        let lifeline = OwnedDescriptor(adopting: lifeline)
        let connection = Connection(
            adopting: control,
            readable: true,
            writable: true,
            maximumFrameSize: Connection.defaultMaximumFrameSize
        )
        let pidfd: CInt
        if let givenPidfd {
            pidfd = givenPidfd
        } else {
            do throws(SystemCallError) { pidfd = try system_pidfd_open(pid) } catch {
                try? system_kill(pid, SIGKILL)
                try? system_waitpid(pid)
                connection.close()
                throw ProcessError(error, pid: pid)
            }
        }
        let child = LaunchedChild(
            pid: pid,
            name: name,
            isDaemon: isDaemon,
            isHelper: isHelper,
            control: connection,
            pidfd: OwnedDescriptor(adopting: pidfd),
            lifeline: lifeline,
            exitReport: exitReport
        )
        register(child)
        return child
    }

    /// Ends a child that will not run (its task could not be sent): kill, reap, release everything.
    func abort(_ child: LaunchedChild) {
        Teardown.terminate(child, grace: .zero)
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
