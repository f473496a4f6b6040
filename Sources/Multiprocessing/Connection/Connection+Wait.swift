public import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Something `Connection/wait(for:timeout:)` can wait for: a ``Connection`` (ready when a
/// receive would not block) or a ``ChildProcess`` (ready when it has ended). Python's "waitable
/// objects" of `multiprocessing.connection.wait`.
public protocol Waitable: AnyObject, Sendable {
    /// The descriptor that becomes readable when this object is ready, or `nil` when it can no
    /// longer become ready by itself (closed, or already joined).
    var readinessDescriptor: FileDescriptor? { get }
    /// Whether the object is ready without looking at its descriptor (data already buffered, a
    /// child already joined).
    var isReadyWithoutWaiting: Bool { get }
}

extension Connection: Waitable {
    /// The socket; readable when a frame or end of stream has arrived.
    public var readinessDescriptor: FileDescriptor? { isReadable ? descriptor : nil }

    /// Whether a frame, an error or end of stream is already buffered, or the connection is closed
    /// (a receive then fails at once).
    public var isReadyWithoutWaiting: Bool { isClosed || hasBufferedInput }
}

extension ChildProcess: Waitable {
    /// The child's pidfd (its ``sentinel``); readable once the child has ended.
    public var readinessDescriptor: FileDescriptor? { sentinel }

    /// Whether the child has been joined already.
    public var isReadyWithoutWaiting: Bool { exitStatus != nil }
}

extension Connection {
    /// Waits until at least one of `objects` is ready, or `timeout` passes: Python's
    /// `multiprocessing.connection.wait(object_list, timeout)`.
    ///
    /// ```swift
    /// let ready = try Connection.wait(for: [results, child], timeout: .seconds(1))
    /// if ready.contains(where: { $0 === results }) { … }
    /// ```
    ///
    /// - Parameters:
    ///   - objects: Connections and child processes, in any mix.
    ///   - timeout: `nil` waits as long as it takes; `.zero` only checks.
    /// - Returns: The objects that are ready, in the order given; empty when `timeout` passed first.
    /// - Throws: ``ConnectionError/Code-swift.struct/systemCallFailed``.
    public static func wait(for objects: [any Waitable], timeout: Duration? = nil) throws -> [any Waitable] {
        let deadline = Deadline(timeout: timeout)
        while true {
            let ready = try readyNow(objects)
            if !ready.isEmpty || deadline.hasPassed { return ready }
            var entries = objects.map { object in
                pollfd(fd: object.readinessDescriptor?.rawValue ?? -1, events: Int16(POLLIN), revents: 0)
            }
            // Nothing left that could become ready (all joined meanwhile, closed or send-only): look
            // once more instead of waiting on nothing.
            if entries.allSatisfy({ $0.fd < 0 }) { return try readyNow(objects) }
            do throws(SystemCallError) {
                let count = try entries.withUnsafeMutableBufferPointer { (buffer) throws(SystemCallError) -> Int in
                    try system_poll(buffer, until: deadline)
                }
                if count == 0 { return [] }
            } catch {
                throw ConnectionError(error, "waiting for \(objects.count) objects")
            }
        }
    }

    /// Suspends until at least one of `objects` is ready, or `timeout` passes, holding no thread
    /// meanwhile. See `wait(for:timeout:)`.
    ///
    /// - Throws: As the synchronous form, and `CancellationError` when the task is cancelled.
    public static func wait(for objects: [any Waitable], timeout: Duration? = nil) async throws -> [any Waitable] {
        let deadline = Deadline(timeout: timeout)
        while true {
            let ready = try readyNow(objects)
            if !ready.isEmpty || deadline.hasPassed { return ready }
            let interests = objects.compactMap { object in
                object.readinessDescriptor.map { EventLoop.Interest(fd: $0.rawValue, readiness: .readable) }
            }
            // Nothing left that could become ready: look once more instead of waiting on nothing.
            if interests.isEmpty { return try readyNow(objects) }
            let woken: [Int]
            do {
                // An object that turns ready by other means (a child joined elsewhere, whose pidfd
                // then closes) ends the wait too.
                woken = try await EventLoop.shared.wait(
                    for: interests,
                    until: deadline.instant,
                    isStillValid: { !objects.contains { $0.isReadyWithoutWaiting } }
                )
            } catch let error as SystemCallError {
                // A descriptor closed while waited for: report what is ready now instead.
                if error.errno == .badFileDescriptor { return try readyNow(objects) }
                throw ConnectionError(error, "waiting for \(objects.count) objects")
            }
            if woken.isEmpty && deadline.hasPassed { return [] }
        }
    }

    /// The objects ready now, by their buffered state or a zero-timeout poll of their descriptors.
    private static func readyNow(_ objects: [any Waitable]) throws -> [any Waitable] {
        var entries = objects.map { object in
            pollfd(
                fd: object.isReadyWithoutWaiting ? -1 : object.readinessDescriptor?.rawValue ?? -1,
                events: Int16(POLLIN),
                revents: 0
            )
        }
        do throws(SystemCallError) {
            _ = try entries.withUnsafeMutableBufferPointer { (buffer) throws(SystemCallError) -> Int in
                try system_poll(buffer, until: Deadline(timeout: .zero))
            }
        } catch {
            throw ConnectionError(error, "polling \(objects.count) objects")
        }
        return objects.indices.compactMap { index in
            objects[index].isReadyWithoutWaiting || entries[index].revents != 0 ? objects[index] : nil
        }
    }
}
