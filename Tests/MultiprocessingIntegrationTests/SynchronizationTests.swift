import MultiprocessingTestSupport
import Testing

@testable import Multiprocessing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Events and semaphores across processes", .timeLimit(.minutes(1)))
struct SynchronizationTests {
    @Test("an event set in one process wakes a waiter in another, both ways")
    func eventAcrossProcesses() throws {
        let go = try ProcessEvent()
        let done = try ProcessEvent()
        let child = ChildProcess(running: EventRelayTask(go: go, done: done))
        try child.start()
        #expect(done.wait(timeout: .milliseconds(20)) == false)
        go.set()
        #expect(done.wait(timeout: .seconds(30)))
        #expect(try child.value())
        done.clear()
        #expect(!done.isSet)
    }

    @Test("a semaphore of 2 permits never has more than 2 holders across 4 processes")
    func semaphoreBound() throws {
        let semaphore = try ProcessSemaphore(value: 2)
        let active = try SharedValue(0)
        let mostActive = try SharedValue(0)
        let children = (0..<4).map { _ in
            ChildProcess(
                running: SemaphoreHolderTask(semaphore: semaphore, active: active, mostActive: mostActive, rounds: 300)
            )
        }
        for child in children { try child.start() }
        for child in children { #expect(try child.join() == .exited(0)) }
        #expect(mostActive.atomicLoad() <= 2)
        #expect(mostActive.atomicLoad() >= 1)
        #expect(active.atomicLoad() == 0)
        #expect(semaphore.value == 2)
    }

    @Test("timeouts, try-acquire and the bound of a bounded semaphore")
    func semaphoreEdges() throws {
        let semaphore = try ProcessSemaphore(value: 1, maximum: 1)
        #expect(semaphore.tryAcquire())
        #expect(!semaphore.tryAcquire())
        #expect(!semaphore.acquire(timeout: .milliseconds(20)))
        try semaphore.release()
        let error = try #require(throws: SharedMemoryError.self) { try semaphore.release() }
        #expect(error.code == .invalidArgument)
        #expect(semaphore.value == 1)
        #expect(throws: SharedMemoryError.self) { try ProcessSemaphore(value: 3, maximum: 2) }
        #expect(throws: SharedMemoryError.self) { try ProcessSemaphore(value: -1) }
    }
}
