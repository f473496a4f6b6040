/// What a manager's clients and its server say to each other after the handshake: one
/// ``ManagerRequest`` frame, one ``ManagerResponse`` frame back, in order, on each connection.
///
/// The server never decodes a client's values: elements, keys and values travel as the bytes the
/// client encoded (``BinaryEncoder``), and the server stores and compares those bytes. So the server
/// needs no knowledge of the types its clients use, and a hostile request can only ever be a
/// malformed frame, an unknown object or an out-of-range index, each answered with an error.
struct ManagerRequest: Codable, Sendable {
    var object: UInt64
    var operation: ManagerOperation
}

/// The kinds of object a manager hosts.
enum ManagedObjectKind: String, Codable, Sendable {
    case list, dictionary, value, queue, custom, lock, semaphore, event
}

/// One operation on one object (object 0 is the manager itself: creating objects).
enum ManagerOperation: Codable, Sendable {
    // The manager.
    case create(kind: ManagedObjectKind, typeName: String?, initialCount: Int?)
    case ping
    // Lists.
    case append([UInt8])
    case appendContents([[UInt8]])
    case element(index: Int)
    case setElement(index: Int, value: [UInt8])
    case insert(index: Int, value: [UInt8])
    case remove(index: Int)
    case count
    case snapshot
    case removeAll
    // Dictionaries.
    case lookUp(key: [UInt8])
    case update(key: [UInt8], value: [UInt8])
    case removeKey(key: [UInt8])
    case entries
    // Values.
    case load
    case store([UInt8])
    case exchange([UInt8])
    // Queues.
    case put([UInt8])
    case take(timeoutNanoseconds: Int64?)
    // Custom objects.
    case call([UInt8])
    // Locks and semaphores: a permit, waiting up to the timeout; and giving one back.
    case acquire(timeoutNanoseconds: Int64?)
    case release
    // Events.
    case setEvent
    case clearEvent
    case isEventSet
    case waitEvent(timeoutNanoseconds: Int64?)
}

/// The server's answer.
enum ManagerResponse: Codable, Sendable {
    case done
    case object(UInt64)
    case bytes([UInt8])
    case optionalBytes([UInt8]?)
    case list([[UInt8]])
    case pairs([[UInt8]])
    case count(Int)
    case failure(ManagerError)
}
