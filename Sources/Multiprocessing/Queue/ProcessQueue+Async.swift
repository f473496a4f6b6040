import Atomics

/// Awaiting a queue: the same queue, waited for without holding a thread. A task registers in the
/// queue's shared state before it tries, so a put (or get) in any process after that try leaves a
/// token on the queue's eventfd, which the event loop watches.
extension ProcessQueue {
    /// Removes and returns the first element, suspending while the queue is empty: `get()` for
    /// async code.
    ///
    /// - Throws: ``QueueError`` `.closed` once the queue is closed and empty; `CancellationError`
    ///   when the task is cancelled while it waits (nothing is taken then); the codec's error for
    ///   an element that does not decode.
    public func get() async throws -> Element {
        while true {
            try Task.checkCancellation()
            core.awaitingGetters.wrappingIncrement(ordering: .acquiringAndReleasing)
            do {
                if let element = try tryGet() {
                    core.awaitingGetters.wrappingDecrement(ordering: .releasing)
                    return element
                }
                try await core.elementSignal.wait()
                core.elementSignal.take()
            } catch {
                core.awaitingGetters.wrappingDecrement(ordering: .releasing)
                throw error
            }
            core.awaitingGetters.wrappingDecrement(ordering: .releasing)
        }
    }

    /// Appends `element`, suspending while the queue is full: `put(_:)` for async code.
    ///
    /// - Throws: ``QueueError`` `.closed`; `CancellationError` when the task is cancelled while it
    ///   waits (nothing is stored then); the codec's error when `element` cannot be encoded.
    public func put(_ element: Element) async throws {
        while true {
            try Task.checkCancellation()
            core.awaitingPutters.wrappingIncrement(ordering: .acquiringAndReleasing)
            do {
                if try tryPut(element) {
                    core.awaitingPutters.wrappingDecrement(ordering: .releasing)
                    return
                }
                try await core.roomSignal.wait()
                core.roomSignal.take()
            } catch {
                core.awaitingPutters.wrappingDecrement(ordering: .releasing)
                throw error
            }
            core.awaitingPutters.wrappingDecrement(ordering: .releasing)
        }
    }

    /// The queue's elements as they come, until it is closed and empty:
    /// `for try await element in queue.elements { … }`.
    public var elements: Elements { Elements(queue: self) }

    /// The elements of a ``ProcessQueue`` as an `AsyncSequence`; each `next()` is an awaited
    /// `get()` and the sequence ends when the queue is closed and empty.
    public struct Elements: AsyncSequence, Sendable {
        public typealias Failure = any Error
        let queue: ProcessQueue

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: queue) }

        public struct AsyncIterator: AsyncIteratorProtocol {
            let queue: ProcessQueue

            public mutating func next() async throws -> Element? {
                do {
                    return try await queue.get()
                } catch let error as QueueError where error.code == .closed {
                    return nil
                }
            }
        }
    }
}
