import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The program's side of the fork server (``StartMethod/forkServer``): starts the server (a spawned
/// worker, so it inherits every child's guarantees) when first needed, and asks it for workers.
///
/// A worker it starts is registered like a spawned one and speaks the same ``WorkerProtocol``; only
/// its exit status arrives differently (see ``LaunchedChild/waitForExit(noHang:)``).
final class ForkServer: Sendable {
    static let shared = ForkServer()

    private let server = ProtectedState<LaunchedChild?>(nil)

    private init() {}

    /// Starts the server now if it is not running (Python's forkserver starts on first use too).
    @discardableResult
    func prepare() throws -> LaunchedChild {
        try server.withLock { server in
            if let running = server, (try? system_poll(running.pidfd, until: Deadline(timeout: .zero))) == 0 {
                return running
            }
            if let dead = server {
                // Killed or crashed: reap it and start another.
                ProcessLauncher.shared.abort(dead)
            }
            let parent = WorkerContext.currentProcess
            let started = try ProcessLauncher.shared.startWorker(
                WorkerConfiguration(
                    processName: "ForkServer",
                    isDaemon: true,
                    startMethod: .spawn,
                    parentName: parent.name,
                    parentPid: parent.pid,
                    printsTaskErrors: false
                ),
                isHelper: true
            )
            do { try started.control.send(WorkerRequest.serveForks) } catch {
                ProcessLauncher.shared.abort(started)
                throw error
            }
            server = started
            return started
        }
    }

    /// Forks a worker through the server and registers it (``ProcessLauncher/startWorker(_:isHelper:)``
    /// sends it its configuration). If the server has died, one new server is started and asked
    /// again. On failure nothing is left: no descriptor, no process.
    func forkWorker(named name: String, isDaemon: Bool) throws -> LaunchedChild {
        let forked: Forked
        do {
            forked = try fork(through: try prepare(), name: name)
        } catch is ConnectionError {
            forked = try fork(through: try prepare(), name: name)
        }
        return try ProcessLauncher.shared.adopt(
            pid: forked.pid,
            lifeline: forked.lifeline,
            control: forked.control,
            isDaemon: isDaemon,
            name: name,
            pidfd: forked.pidfd,
            exitReport: forked.exitReport
        )
    }

    /// The program's ends of a worker just forked.
    private struct Forked {
        let pid: pid_t
        let pidfd: CInt
        let control: CInt
        let lifeline: CInt
        let exitReport: CInt
    }

    /// One request and its reply, on the launcher thread: the worker's ends are closed here before
    /// any other child can be forked with copies of them (see ``ProcessLauncher``), and requests
    /// from many threads reach the server one at a time.
    private func fork(through server: LaunchedChild, name: String) throws -> Forked {
        let (sockets, lifeline) = try ProcessLauncher.makeChannels()
        let exitReport: (readEnd: CInt, writeEnd: CInt)
        do throws(SystemCallError) { exitReport = try system_pipe() } catch {
            for fd in [sockets.parent, sockets.child, lifeline.readEnd, lifeline.writeEnd] { system_close(fd) }
            throw ProcessError(error)
        }
        let reply: ForkReply
        do {
            reply = try ProcessLauncher.shared.perform {
                defer { for fd in [sockets.child, lifeline.readEnd, exitReport.writeEnd] { system_close(fd) } }
                try server.control.send(
                    ForkRequest(
                        control: PassedDescriptor(sockets.child),
                        lifeline: PassedDescriptor(lifeline.readEnd),
                        exitReport: PassedDescriptor(exitReport.writeEnd)
                    )
                )
                return try server.control.receive(ForkReply.self)
            }
        } catch {
            for fd in [sockets.parent, lifeline.writeEnd, exitReport.readEnd] { system_close(fd) }
            throw error
        }
        switch reply {
        case .started(let pid, let pidfd):
            return Forked(
                pid: pid,
                pidfd: pidfd.rawValue,
                control: sockets.parent,
                lifeline: lifeline.writeEnd,
                exitReport: exitReport.readEnd
            )
        case .failed(let call, let errno):
            for fd in [sockets.parent, lifeline.writeEnd, exitReport.readEnd] { system_close(fd) }
            throw ProcessError(
                .startFailed,
                "the fork server could not start \(name): \(call)",
                underlyingError: Errno(rawValue: errno)
            )
        }
    }
}
