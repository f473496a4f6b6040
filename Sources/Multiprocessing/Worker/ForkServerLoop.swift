import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The fork server's side (Python's `forkserver`): a spawned worker told to ``WorkerRequest/serveForks``,
/// which from then on forks a worker for each ``ForkRequest`` and reaps it when it ends.
///
/// Why it is safe to fork here when forking the program is not: this process has run nothing but
/// this loop. Its only other thread is the C lifeline watcher, blocked in `read`; no Swift
/// concurrency, Dispatch or user code has run, so no lock can be held at the fork. A forked worker
/// starts as a spawned one would, minus `exec`, the dynamic loader and the runtime's start-up.
///
/// The workers are this server's children, not the program's: the server opens each one's pidfd
/// (no reused pid can be mistaken for it) and sends it back, and when the worker ends it reaps it
/// and writes its status to the worker's exit report. Each worker still has the program's lifeline,
/// and its parent-death signal fires if the server dies, which the server does with the program.
enum ForkServerLoop {
    private struct Child {
        let pidfd: CInt
        let exitReport: CInt
    }

    /// Serves fork requests until the program closes the control socket, then waits for the
    /// workers still running (they are not the server's to end) and returns 0.
    static func serve(_ control: Connection) -> Int32 {
        var children: [Child] = []
        var isControlOpen = true
        guard let controlDescriptor = control.descriptor?.rawValue else { return WorkerExitCode.parentVanished }
        while isControlOpen || !children.isEmpty {
            while isControlOpen, (try? control.pollImmediately()) ?? true {
                let request: ForkRequest
                do { request = try control.receive(ForkRequest.self) } catch {
                    // End of stream, or bytes that are not a request: either way, no more forks.
                    isControlOpen = false
                    break
                }
                if let child = fork(request, replyingOver: control) { children.append(child) }
            }
            var entries = [pollfd(fd: isControlOpen ? controlDescriptor : -1, events: Int16(POLLIN), revents: 0)]
            entries += children.map { pollfd(fd: $0.pidfd, events: Int16(POLLIN), revents: 0) }
            _ = entries.withUnsafeMutableBufferPointer { try? system_poll($0, until: .never) }
            for (index, entry) in entries.enumerated().dropFirst().reversed() where entry.revents != 0 {
                if report(children[index - 1]) { children.remove(at: index - 1) }
            }
        }
        return WorkerExitCode.success
    }

    /// Forks a worker for `request`. The worker never returns from here; the server answers with
    /// the worker's pid and pidfd, or with why it could not fork, and keeps what it needs to reap it.
    private static func fork(_ request: ForkRequest, replyingOver control: Connection) -> Child? {
        let serverPid = system_getpid()
        fflush(nil)
        let pid: pid_t
        do throws(SystemCallError) { pid = try system_fork() } catch {
            for fd in [request.control, request.lifeline, request.exitReport] { system_close(fd.rawValue) }
            _ = try? control.send(ForkReply.failed(call: error.call, errno: error.errno.rawValue))
            return nil
        }
        if pid == 0 {
            mpshim_prepare_forkserver_child(serverPid, request.control.rawValue, request.lifeline.rawValue)
            mpshim_flush_and_exit(WorkerLoop.runWorker(afterFork: true))
        }
        system_close(request.control.rawValue)
        system_close(request.lifeline.rawValue)
        let pidfd: CInt
        do throws(SystemCallError) { pidfd = try system_pidfd_open(pid) } catch {
            try? system_kill(pid, SIGKILL)
            try? system_waitpid(pid)
            system_close(request.exitReport.rawValue)
            _ = try? control.send(ForkReply.failed(call: error.call, errno: error.errno.rawValue))
            return nil
        }
        // The kernel duplicates the pidfd into the program; the server keeps its own to reap with.
        _ = try? control.send(ForkReply.started(pid: pid, pidfd: PassedDescriptor(pidfd)))
        return Child(pidfd: pidfd, exitReport: request.exitReport.rawValue)
    }

    /// Reaps an ended worker and writes its status to its exit report. Returns whether it was reaped.
    private static func report(_ child: Child) -> Bool {
        var words: (Int32, Int32)
        do throws(SystemCallError) {
            guard let status = try system_waitid(pidfd: child.pidfd, noHang: true) else { return false }
            switch status {
            case .exited(let code): words = (ForkServerExitReport.exited, code)
            case .signaled(let signal): words = (ForkServerExitReport.signaled, signal)
            }
        } catch {
            // Not reapable (it cannot be anyone else's): close the report unwritten, status unknown.
            system_close(child.exitReport)
            system_close(child.pidfd)
            return true
        }
        // Eight bytes into an empty pipe: written whole, at once.
        _ = withUnsafeBytes(of: &words) { try? system_write(child.exitReport, $0) }
        system_close(child.exitReport)
        system_close(child.pidfd)
        return true
    }
}
