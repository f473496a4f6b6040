import Testing

@testable import Multiprocessing

/// Segments received from a peer are checked before use (no processes here: a pipe in-process).
@Suite("Shared segments received from a peer")
struct SharedSegmentTests {
    @Test("a value, an array and a lock survive a round trip through a connection")
    func roundTrip() throws {
        let (a, b) = try Connection.pipe()
        let value = try SharedValue<Double>(2.5)
        let array = try SharedArray([1, 2, 3])
        let lock = try ProcessLock()
        try a.send(value)
        try a.send(array)
        try a.send(lock)
        let value2 = try b.receive(SharedValue<Double>.self)
        let array2 = try b.receive(SharedArray<Int>.self)
        let lock2 = try b.receive(ProcessLock.self)
        value2.value = 4.0
        array2[1] = 20
        #expect(value.value == 4.0)
        #expect(array.toArray() == [1, 20, 3])
        try lock2.lock()
        #expect(try lock.tryLock() == nil)
        lock2.unlock()
    }

    @Test("a segment of the wrong kind or element type is refused, not misread")
    func wrongKind() throws {
        let (a, b) = try Connection.pipe()
        try a.send(try ProcessLock())
        let kindError = try #require(throws: SharedMemoryError.self) { try b.receive(SharedArray<Int>.self) }
        #expect(kindError.code == .invalidArgument)
        try a.send(try SharedArray<Int32>([1, 2]))
        let strideError = try #require(throws: SharedMemoryError.self) { try b.receive(SharedArray<Int>.self) }
        #expect(strideError.code == .invalidArgument)
        try a.send(try SharedMemory(byteCount: 16))
        let tooSmall = try #require(throws: SharedMemoryError.self) { try b.receive(SharedValue<Int>.self) }
        #expect(tooSmall.code == .sizeMismatch)
    }

    @Test("bad sizes and counts are clear errors")
    func badArguments() {
        #expect(throws: SharedMemoryError.self) { try SharedMemory(byteCount: 0) }
        #expect(throws: SharedMemoryError.self) { try SharedArray<Int>(repeating: 0, count: -1) }
        #expect(throws: SharedMemoryError.self) { try SharedArray<Int>(repeating: 0, count: Int.max / 4) }
    }
}
