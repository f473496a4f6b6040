import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// The one long-lived thread that starts every child, and reaps children nobody waits for.
///
/// Why a thread of its own: `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// not the process. Swift concurrency and Dispatch retire idle threads, so a child started from one
/// of them could be killed for no reason. Starting all children here, on a thread that lives as long
/// as the process, makes the parent-death signal mean what it says. The hop costs two context
/// switches, small next to a process start.
final class ProcessLauncher: @unchecked Sendable {
    static let shared = ProcessLauncher()

    private struct Abandoned {
        var pidfd: CInt
        var lifeline: CInt
    }

    private struct Entry {
        var pidfd: CInt
        var isDaemon: Bool
        var name: String
    }

    private let wakeFd: CInt
    private let requests = ProtectedState<[@Sendable () -> Void]>([])
    private let abandoned = ProtectedState<[Abandoned]>([])
    /// Children started and not yet reaped, for the exit handler; keyed by pid.
    private let active = ProtectedState<[pid_t: Entry]>([:])
    /// Write ends of lifelines, which only this process may hold: a forked child closes them all.
    private let lifelines = ProtectedState<Set<CInt>>([])

    private init() {
        do {
            wakeFd = try system_eventfd()
            try startDetachedThread(name: "mp-launcher") { [unowned self] in
                // Process-directed signals go to other threads; a forked child resets its mask.
                mpshim_block_all_signals()
                self.loop()
            }
        } catch {
            fatalError("swift-multiprocessing cannot start its launcher thread: \(error)")
        }
        atexit { ProcessLauncher.shared.finishChildrenAtExit() }
    }

    /// Runs `body` on the launcher thread and returns its result.
    func perform<Result>(_ body: @escaping () throws -> Result) throws -> Result {
        let outcome = LauncherOutcome(body: body)
        #if ENABLE_MOCKING
        // A test's mocking driver follows the work to this thread.
        let driver = MockingDriver.current
        #endif
        requests.withLock { queue in
            queue.append {
                #if ENABLE_MOCKING
                let previous = MockingDriver.current
                MockingDriver.current = driver
                defer { MockingDriver.current = previous }
                #endif
                outcome.result = Swift.Result { try outcome.body() }
                outcome.done.set()
            }
        }
        wake()
        _ = outcome.done.wait(timeout: nil)
        return try outcome.result!.get()
    }

    func register(pid: pid_t, pidfd: CInt, lifeline: CInt, isDaemon: Bool, name: String) {
        active.withLock { $0[pid] = Entry(pidfd: pidfd, isDaemon: isDaemon, name: name) }
        lifelines.withLock { _ = $0.insert(lifeline) }
    }

    /// Forgets a child its owner reaped, and closes its lifeline's write end.
    func unregister(pid: pid_t, lifeline: CInt) {
        active.withLock { _ = $0.removeValue(forKey: pid) }
        lifelines.withLock { _ = $0.remove(lifeline) }
        system_close(lifeline)
    }

    /// Takes over a child whose owner went away without waiting for it: the launcher reaps it when it
    /// exits, so it never lingers as a zombie, and closes its lifeline then.
    func abandon(pidfd: CInt, lifeline: CInt) {
        abandoned.withLock { $0.append(Abandoned(pidfd: pidfd, lifeline: lifeline)) }
        wake()
    }

    /// The children started here that are still running (``WorkerContext/activeChildren()``).
    func activeChildren() -> [ProcessIdentity] {
        let entries = active.withLock { $0 }
        return entries.compactMap { pid, entry in
            guard (try? system_poll(entry.pidfd, until: Deadline(timeout: .zero))) == 0 else { return nil }
            return ProcessIdentity(name: entry.name, pid: pid, isDaemon: entry.isDaemon, startMethod: nil)
        }
        .sorted { $0.pid < $1.pid }
    }

    /// The descriptors a forked child must close: every lifeline write end this process holds.
    func descriptorsForForkedChildToClose() -> [CInt] {
        lifelines.withLock { Array($0) }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { try? system_write(wakeFd, $0) }
    }

    private func loop() {
        while true {
            let waiting = abandoned.withLock { $0 }
            var entries = [pollfd(fd: wakeFd, events: Int16(POLLIN), revents: 0)]
            entries += waiting.map { pollfd(fd: $0.pidfd, events: Int16(POLLIN), revents: 0) }
            _ = entries.withUnsafeMutableBufferPointer { try? system_poll($0, until: .never) }
            if entries[0].revents != 0 {
                var counter: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &counter) { try? system_read(wakeFd, $0) }
                let work = requests.withLock { queue in
                    defer { queue.removeAll() }
                    return queue
                }
                for item in work { item() }
            }
            for (index, entry) in entries.enumerated().dropFirst() where entry.revents != 0 {
                reapAbandoned(waiting[index - 1])
            }
        }
    }

    private func reapAbandoned(_ child: Abandoned) {
        let status: ExitStatus?
        do throws(SystemCallError) { status = try system_waitid(pidfd: child.pidfd, noHang: true) } catch {
            status = .exited(-1)  // ECHILD: someone else reaped it; nothing left to wait for.
        }
        guard status != nil else { return }
        abandoned.withLock { list in list.removeAll { $0.pidfd == child.pidfd } }
        active.withLock { entries in entries = entries.filter { $0.value.pidfd != child.pidfd } }
        lifelines.withLock { _ = $0.remove(child.lifeline) }
        system_close(child.lifeline)
        system_close(child.pidfd)
    }

    /// Python's exit behaviour: daemonic children are terminated, the others are waited for.
    private func finishChildrenAtExit() {
        let entries = active.withLock { $0 }
        for entry in entries.values where entry.isDaemon {
            Teardown.terminate(pidfd: entry.pidfd, grace: .seconds(1))
        }
        for entry in entries.values where !entry.isDaemon {
            _ = try? system_waitid(pidfd: entry.pidfd, noHang: false)
        }
    }
}

private final class LauncherOutcome<Result>: @unchecked Sendable {
    var result: Swift.Result<Result, any Error>?
    let body: () throws -> Result
    let done = OneShotEvent()
    init(body: @escaping () throws -> Result) { self.body = body }
}
