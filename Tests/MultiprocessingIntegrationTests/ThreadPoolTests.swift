import MultiprocessingTestSupport
import Synchronization
import Testing

@testable import Multiprocessing

/// Which pool a shared behaviour test runs on.
enum PoolKind: String, CaseIterable, CustomTestStringConvertible {
    case processes, threads
    var testDescription: String { rawValue }
}

@Suite("ThreadPool, and what both pools do alike", .timeLimit(.minutes(1)))
struct ThreadPoolTests {
    private func map(_ kind: PoolKind, _ tasks: [TwiceTask], chunkSize: Int? = nil) async throws -> [Int] {
        switch kind {
        case .processes:
            let pool = ProcessPool(workers: 2)
            defer { pool.close() }
            return try await pool.map(tasks, chunkSize: chunkSize)
        case .threads:
            let pool = ThreadPool(workers: 2)
            defer { pool.close() }
            return try await pool.map(tasks, chunkSize: chunkSize)
        }
    }

    private func applyFailing(_ kind: PoolKind) async throws -> Int {
        switch kind {
        case .processes:
            let pool = ProcessPool(workers: 1)
            defer { pool.close() }
            return try await pool.apply(FailOnTask(3, failing: 3))
        case .threads:
            let pool = ThreadPool(workers: 1)
            defer { pool.close() }
            return try await pool.apply(FailOnTask(3, failing: 3))
        }
    }

    @Test("map keeps the order, with automatic chunks and chunks of one", arguments: PoolKind.allCases)
    func mapOrder(kind: PoolKind) async throws {
        #expect(try await map(kind, (0..<300).map(TwiceTask.init)) == (0..<300).map { $0 * 2 })
        #expect(try await map(kind, (0..<30).map(TwiceTask.init), chunkSize: 1) == (0..<30).map { $0 * 2 })
        #expect(try await map(kind, []) == [])
    }

    @Test("a task's error reaches the caller as itself", arguments: PoolKind.allCases)
    func taskError(kind: PoolKind) async throws {
        await #expect(throws: PlannedFailure(value: 3)) { try await applyFailing(kind) }
    }

    @Test("closures run on the pool's own threads, several at once")
    func closures() async throws {
        let pool = ThreadPool(workers: 3)
        let names = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<3 { group.addTask { try await pool.apply { WorkerContext.nativeThreadID } } }
            var ids: Set<Int32> = []
            for try await id in group { ids.insert(id) }
            return ids
        }
        #expect(!names.contains(WorkerContext.nativeThreadID))
        #expect(try await pool.apply { 6 * 7 } == 42)
        #expect(try await pool.map((1...4).map(TwiceTask.init)) == [2, 4, 6, 8])
        pool.close()
        pool.join()
        await #expect(throws: PoolError.self) { try await pool.apply { 1 } }
    }

    @Test("a timeout ends the wait with timedOut; the pool goes on")
    func timeout() async throws {
        let pool = ThreadPool(workers: 1)
        let release = ProcessEvent.forTesting()
        do {
            _ = try await pool.apply(timeout: .milliseconds(50)) { release.wait() }
            Issue.record("the wait did not time out")
        } catch let error as PoolError {
            #expect(error.code == .timedOut)
        }
        release.set()
        #expect(try await pool.submit(TwiceTask(5)).value == 10)
        pool.close()
    }

    @Test("progress reaches the total")
    func progress() async throws {
        let pool = ThreadPool(workers: 2)
        let last = Mutex(0)
        _ = try await pool.map((0..<20).map(TwiceTask.init), chunkSize: 5) { progress in
            last.withLock { $0 = max($0, progress.completed) }
        }
        #expect(last.withLock { $0 } == 20)
        pool.close()
    }
}

extension ProcessEvent {
    static func forTesting() -> ProcessEvent {
        do { return try ProcessEvent() } catch { preconditionFailure("no event: \(error)") }
    }
}

@Suite("imap on both pools", .timeLimit(.minutes(1)))
struct PoolIMapTests {
    @Test("imap keeps the order and imapUnordered yields every output, on either pool", arguments: PoolKind.allCases)
    func imapBoth(kind: PoolKind) async throws {
        let pool: any TaskPool = kind == .processes ? ProcessPool(workers: 2) : ThreadPool(workers: 2)
        defer { pool.close() }
        var ordered: [Int] = []
        for try await output in pool.imap((0..<120).map(TwiceTask.init), chunkSize: 5) { ordered.append(output) }
        #expect(ordered == (0..<120).map { $0 * 2 })
        var unordered: [Int] = []
        for try await output in pool.imapUnordered((0..<60).map(TwiceTask.init)) { unordered.append(output) }
        #expect(unordered.sorted() == (0..<60).map { $0 * 2 })
        var seen: [Int] = []
        await #expect(throws: PlannedFailure(value: 4)) {
            for try await output in pool.imap((0..<10).map { FailOnTask($0, failing: 4) }) { seen.append(output) }
        }
        #expect(seen == [0, 1, 2, 3])
    }
}
