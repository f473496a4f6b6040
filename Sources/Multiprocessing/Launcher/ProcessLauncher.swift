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

    private let wakeFd: CInt
    private let requests = ProtectedState<[@Sendable () -> Void]>([])
    /// Children whose owner went away before reaping them; the loop reaps them when they exit.
    private let abandoned = ProtectedState<[LaunchedChild]>([])
    /// Children started and not yet reaped, keyed by pid: for the exit handler, for
    /// ``activeChildren()``, and to keep each child's lifeline open while it runs.
    private let active = ProtectedState<[pid_t: LaunchedChild]>([:])

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

    func register(_ child: LaunchedChild) {
        active.withLock { $0[child.pid] = child }
    }

    /// Forgets a child its owner reaped. Its descriptors close when the last holder lets go.
    func unregister(_ child: LaunchedChild) {
        // By identity: a reused pid may already belong to a newer child.
        active.withLock { active in
            if active[child.pid] === child { active[child.pid] = nil }
        }
    }

    /// Takes over a child whose owner went away without waiting for it: the launcher reaps it when it
    /// exits, so it never lingers as a zombie, and releases its descriptors then.
    func abandon(_ child: LaunchedChild) {
        abandoned.withLock { $0.append(child) }
        wake()
    }

    /// The children started here that are still running (``WorkerContext/activeChildren()``).
    func activeChildren() -> [ProcessIdentity] {
        let children = active.withLock { Array($0.values) }
        return children.filter { !$0.isHelper }.compactMap { child in
            guard (try? system_poll(child.pidfd, until: Deadline(timeout: .zero))) == 0 else { return nil }
            return ProcessIdentity(name: child.name, pid: child.pid, isDaemon: child.isDaemon, startMethod: nil)
        }
        .sorted { $0.pid < $1.pid }
    }

    /// The descriptors a forked child must close: every lifeline write end and every control socket
    /// this process holds for its other children (a sibling holding one would keep that child from
    /// seeing end of stream, or from seeing its parent die).
    func descriptorsForForkedChildToClose() -> [CInt] {
        active.withLock { active in
            active.values.flatMap { child in [child.lifeline] + (child.control.descriptor.map { [$0.rawValue] } ?? []) }
        }
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

    private func reapAbandoned(_ child: LaunchedChild) {
        let status: ExitStatus?
        do throws(SystemCallError) { status = try child.waitForExit(noHang: true) } catch {
            status = .exited(-1)  // ECHILD: someone else reaped it; nothing left to wait for.
        }
        guard status != nil else { return }
        abandoned.withLock { list in list.removeAll { $0 === child } }
        unregister(child)
    }

    /// Python's exit behaviour: daemonic children are terminated, the others are waited for.
    private func finishChildrenAtExit() {
        let children = active.withLock { Array($0.values) }
        for child in children where child.isDaemon && !child.isHelper {
            Teardown.terminate(child, grace: .seconds(1))
        }
        for child in children where !child.isDaemon && !child.isHelper {
            _ = try? child.waitForExit(noHang: false)
        }
        // Last: a fork server's workers die with it.
        for child in children where child.isHelper {
            Teardown.terminate(child, grace: .seconds(1))
        }
    }
}

private final class LauncherOutcome<Result>: @unchecked Sendable {
    var result: Swift.Result<Result, any Error>?
    let body: () throws -> Result
    let done = OneShotEvent()
    init(body: @escaping () throws -> Result) { self.body = body }
}
