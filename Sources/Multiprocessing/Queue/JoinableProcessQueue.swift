import Atomics

/// A ``ProcessQueue`` that also counts unfinished work: Python's `JoinableQueue`. Every `put`
/// adds one; a consumer calls ``taskDone()`` when it has finished with an element, and ``join(timeout:)``
/// waits, in any process, until every element put was marked done.
public final class JoinableProcessQueue<Element: Codable>: @unchecked Sendable {
    /// The queue itself: `put`, `get`, `close` and the rest.
    public let queue: ProcessQueue<Element>

    /// A new, empty queue; the parameters are ``ProcessQueue``'s.
    public init(capacity: Int? = nil, bufferByteCount: Int = 1 << 20) throws(SharedMemoryError) {
        queue = try ProcessQueue(capacity: capacity, bufferByteCount: bufferByteCount, joinable: true)
    }

    init(queue: ProcessQueue<Element>) {
        self.queue = queue
    }

    private var unfinished: UnsafeAtomic<UInt32> { sharedAtomic(queue.core.ring.unfinished) }

    /// Appends `element` and counts it as unfinished: Python's `put(obj)`.
    public func put(_ element: Element) throws { try queue.put(element) }

    /// Removes and returns the first element: Python's `get()`.
    public func get() throws -> Element { try queue.get() }

    /// Removes and returns the first element, waiting at most `timeout`; `nil` when none came.
    public func get(timeout: Duration) throws -> Element? { try queue.get(timeout: timeout) }

    /// Marks one element taken with `get` as finished: Python's `task_done()`.
    ///
    /// - Throws: ``QueueError`` `.tooManyTaskDone` when every element put is already done.
    public func taskDone() throws(QueueError) {
        var current = unfinished.load(ordering: .acquiring)
        while true {
            guard current > 0 else { throw QueueError(.tooManyTaskDone, "taskDone() called more times than put()") }
            let (exchanged, original) = unfinished.weakCompareExchange(
                expected: current,
                desired: current - 1,
                ordering: .acquiringAndReleasing
            )
            if exchanged { break }
            current = original
        }
        if current == 1 { system_futex_wake(queue.core.ring.unfinished, count: Int32.max) }
    }

    /// How many elements were put and not yet marked done.
    public var unfinishedCount: Int { Int(unfinished.load(ordering: .acquiring)) }

    /// Waits until every element put has been marked done, or `timeout` passes: Python's `join()`.
    ///
    /// - Returns: False when `timeout` passed first.
    @discardableResult
    public func join(timeout: Duration? = nil) -> Bool {
        let deadline = Deadline(timeout: timeout)
        while true {
            let current = unfinished.load(ordering: .acquiring)
            if current == 0 { return true }
            if !system_futex_wait(queue.core.ring.unfinished, expected: current, until: deadline) {
                return unfinished.load(ordering: .acquiring) == 0
            }
        }
    }
}

/// A joinable queue crosses to another process as its queue does; the receiver checks it was made
/// joinable, for the same element type.
extension JoinableProcessQueue: Codable {
    public func encode(to encoder: any Encoder) throws { try queue.encode(to: encoder) }

    public convenience init(from decoder: any Decoder) throws {
        self.init(queue: try ProcessQueue(decodingFrom: decoder, joinable: true))
    }
}
