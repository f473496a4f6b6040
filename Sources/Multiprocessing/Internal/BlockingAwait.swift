#if canImport(Glibc)
import Glibc
#endif

/// Runs async work to completion from synchronous code, on the calling thread (a spawned worker's
/// main thread, a ``WorkerThread``): the work's jobs run here, through a task executor preference,
/// so a task that blocks (takes a lock, waits for a message) blocks this thread and never one of
/// the few cooperative-pool threads. Never call it on a cooperative-pool thread.
package func blockingAwait<Output: Sendable>(
    _ body: @escaping @Sendable () async throws -> Output
) -> Result<Output, any Error> {
    let executor = CallingThreadExecutor()
    let box = AwaitBox<Output>()
    Task(executorPreference: executor) {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        executor.finish()
    }
    executor.runUntilFinished()
    return box.result!
}

private final class AwaitBox<Output>: @unchecked Sendable {
    var result: Result<Output, any Error>?
}

/// A task executor that runs its jobs on the one thread blocked in ``runUntilFinished()``.
private final class CallingThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [UnownedJob] = []
    private var finished = false

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        pthread_mutex_lock(mutex)
        guard !finished else {
            // Work that outlives the awaited body (a task it started that kept this preference)
            // has no thread here any more: it goes to the shared pool.
            pthread_mutex_unlock(mutex)
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(UnownedJob(job))
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Called by the awaited body's last job, on this executor's thread.
    func finish() {
        pthread_mutex_lock(mutex)
        finished = true
        pthread_mutex_unlock(mutex)
    }

    func runUntilFinished() {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !finished { pthread_cond_wait(condition, mutex) }
            if jobs.isEmpty {
                pthread_mutex_unlock(mutex)
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(mutex)
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
