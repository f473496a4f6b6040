#if MPI
import CMPI
import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

/// A message MPI has matched for one receiver (`MPI_Improbe`), ready for `MPI_Mrecv`.
struct MatchedMessage: @unchecked Sendable {
    var message: MPI_Message?
    var status: MPI_Status
}

/// Where async MPI waits suspend. MPI offers no descriptor to poll, so one thread tests every
/// pending wait in turn, backing off (``MPIBackoff``) while nothing moves; a suspended caller holds
/// no thread. Started on first use.
final class MPIProgressEngine: @unchecked Sendable {
    static let shared = MPIProgressEngine()

    private struct ProbeWaiter {
        var communicator: MPI_Comm
        var source: Int32
        var tag: Int32
        var continuation: UnsafeContinuation<MatchedMessage, any Error>
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var probes: [Int: ProbeWaiter] = [:]
    private var cancelledBeforeRegistration: Set<Int> = []
    private var requests: [MPI_Request?] = []
    private var requestWaiters: [UnsafeContinuation<Result<MPI_Status, MPIError>, Never>] = []
    private var nextID = 0
    private var threadStarted = false

    private init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    private func locked<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Suspends until a message from `source` with `tag` (`MPI_ANY_SOURCE`/`MPI_ANY_TAG` match
    /// any) arrives on `communicator`, and matches it for this caller alone. Cancelling the caller
    /// leaves the message for the next receiver.
    func message(on communicator: MPI_Comm, source: Int32, tag: Int32) async throws -> MatchedMessage {
        let id = locked {
            defer { nextID += 1 }
            return nextID
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                locked {
                    if cancelledBeforeRegistration.remove(id) != nil {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    probes[id] = ProbeWaiter(
                        communicator: communicator,
                        source: source,
                        tag: tag,
                        continuation: continuation
                    )
                    startIfNeeded()
                    pthread_cond_signal(condition)
                }
            }
        } onCancel: {
            locked {
                if let waiter = probes.removeValue(forKey: id) {
                    waiter.continuation.resume(throwing: CancellationError())
                } else {
                    cancelledBeforeRegistration.insert(id)
                }
            }
        }
    }

    /// Suspends until `request` completes. Not cancellable: MPI still owns the request's buffer.
    func completion(of request: MPI_Request?) async throws(MPIError) -> MPI_Status {
        let result = await withUnsafeContinuation { continuation in
            locked {
                requests.append(request)
                requestWaiters.append(continuation)
                startIfNeeded()
                pthread_cond_signal(condition)
            }
        }
        return try result.get()
    }

    /// Parks the progress thread for good (it blocks on the lock, outside any MPI call), so that
    /// `MPI_Finalize` at exit never runs beside one of its tests.
    func stopForExit() {
        pthread_mutex_lock(mutex)
    }

    private func startIfNeeded() {
        guard !threadStarted else { return }
        threadStarted = true
        let thread = WorkerThread(name: "MPI progress", isDaemon: true) { [self] in
            run()
            return NoOutput()
        }
        do { try thread.start() } catch { preconditionFailure("could not start the MPI progress thread: \(error)") }
    }

    private func run() {
        var backoff = MPIBackoff()
        pthread_mutex_lock(mutex)
        while true {
            while probes.isEmpty && requests.isEmpty {
                backoff.reset()
                pthread_cond_wait(condition, mutex)
            }
            if pollOnce() {
                backoff.reset()
                continue
            }
            pthread_mutex_unlock(mutex)
            backoff.pause()
            pthread_mutex_lock(mutex)
        }
    }

    /// Tests every wait once (under the lock); returns whether any completed.
    private func pollOnce() -> Bool {
        var progressed = false
        for (id, waiter) in probes {
            var found: Int32 = 0
            var message: MPI_Message? = nil
            var status = MPI_Status()
            let code = MPI_Improbe(waiter.source, waiter.tag, waiter.communicator, &found, &message, &status)
            if code != MPI_SUCCESS {
                probes[id] = nil
                waiter.continuation.resume(throwing: MPIEnvironment.failure(code, "MPI_Improbe"))
                progressed = true
            } else if found != 0 {
                probes[id] = nil
                waiter.continuation.resume(returning: MatchedMessage(message: message, status: status))
                progressed = true
            }
        }
        guard !requests.isEmpty else { return progressed }
        var completedCount: Int32 = 0
        var indices = [Int32](repeating: 0, count: requests.count)
        var statuses = [MPI_Status](repeating: MPI_Status(), count: requests.count)
        let code = MPI_Testsome(Int32(requests.count), &requests, &completedCount, &indices, &statuses)
        if code != MPI_SUCCESS {
            let error = MPIEnvironment.failure(code, "MPI_Testsome")
            for waiter in requestWaiters { waiter.resume(returning: .failure(error)) }
            requests.removeAll()
            requestWaiters.removeAll()
            return true
        }
        guard completedCount > 0, completedCount != MPI_UNDEFINED else { return progressed }
        let done = Set(indices.prefix(Int(completedCount)).map(Int.init))
        for (slot, index) in indices.prefix(Int(completedCount)).enumerated() {
            requestWaiters[Int(index)].resume(returning: .success(statuses[slot]))
        }
        var keptRequests: [MPI_Request?] = []
        var keptWaiters: [UnsafeContinuation<Result<MPI_Status, MPIError>, Never>] = []
        for index in requests.indices where !done.contains(index) {
            keptRequests.append(requests[index])
            keptWaiters.append(requestWaiters[index])
        }
        requests = keptRequests
        requestWaiters = keptWaiters
        return true
    }
}
#endif
