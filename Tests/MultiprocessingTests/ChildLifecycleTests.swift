import Testing

@testable import Multiprocessing

/// The child lifecycle driven without processes: the child handle is a plain number.
@Suite("ChildLifecycle: transitions and the actions they return")
struct ChildLifecycleTests {
    typealias Lifecycle = ChildLifecycle<Int, String>

    @Test("created → running → report → finished returns the child to release once")
    func happyPath() throws {
        var lifecycle = Lifecycle()
        guard case .notStarted = lifecycle.waitTarget else {
            Issue.record("not created")
            return
        }
        try lifecycle.start { 7 }
        guard case .running(7, isReportPending: true) = lifecycle.waitTarget else {
            Issue.record("not running")
            return
        }
        lifecycle.reportArrived(.success("done"))
        guard case .running(7, isReportPending: false) = lifecycle.waitTarget else {
            Issue.record("report still pending")
            return
        }
        lifecycle.reportArrived(.success("a second report is ignored"))
        #expect(lifecycle.exited(pid: 100, status: .exited(0)) == 7)
        #expect(lifecycle.exited(pid: 100, status: .exited(0)) == nil)  // released once
        #expect(try lifecycle.result(name: "p")?.get() == "done")
        #expect(lifecycle.runningChild == nil)
    }

    @Test("a child that exits without a report gives exitedWithoutResult with its status")
    func noReport() throws {
        var lifecycle = Lifecycle()
        try lifecycle.start { 1 }
        #expect(lifecycle.result(name: "p") == nil)  // not finished yet
        lifecycle.reportArrived(nil)
        _ = lifecycle.exited(pid: 5, status: .signaled(9))
        let error = try #require(throws: ProcessError.self) { try lifecycle.result(name: "p")!.get() }
        #expect(error.code == .exitedWithoutResult)
        #expect(error.exitStatus == .signaled(9))
        #expect(error.pid == 5)
    }

    @Test("a second start is alreadyStarted and does not launch")
    func startTwice() throws {
        var lifecycle = Lifecycle()
        try lifecycle.start { 1 }
        var launched = false
        let error = try #require(throws: ProcessError.self) {
            try lifecycle.start {
                launched = true
                return 2
            }
        }
        #expect(error.code == .alreadyStarted)
        #expect(!launched)
        #expect(lifecycle.runningChild == 1)
    }

    @Test("a launch that throws leaves the lifecycle created")
    func failedLaunch() {
        var lifecycle = Lifecycle()
        #expect(throws: FixtureLaunchError.self) { try lifecycle.start { throw FixtureLaunchError() } }
        guard case .notStarted = lifecycle.waitTarget else {
            Issue.record("a failed launch must leave the lifecycle created")
            return
        }
    }
}

private struct FixtureLaunchError: Error {}
