/// A type of your own that a ``Manager`` hosts for every process: Python's `BaseManager.register`.
///
/// The server creates one instance per ``Manager/object(_:)`` call and runs ``handle(_:)`` for each
/// request, one request at a time per instance, so the object needs no locking of its own. Its
/// requests and responses are your own `Codable` types: no method names as strings.
///
/// ```swift
/// struct Counter: ManagedObject {
///     enum Request: Codable, Sendable { case add(Int), read }
///     var total = 0
///     init() {}
///     mutating func handle(_ request: Request) -> Int {
///         if case .add(let amount) = request { total += amount }
///         return total
///     }
/// }
/// let counter = try manager.object(Counter.self)
/// try counter.call(.add(5))          // from any process that holds the proxy
/// ```
///
/// The type must be visible by name in the server (the same program): declare it at file scope,
/// not `private` or inside a function, as for a ``ParallelTask``.
public protocol ManagedObject {
    /// What a client sends.
    associatedtype Request: Codable & Sendable
    /// What the server answers.
    associatedtype Response: Codable & Sendable

    /// A new instance, made in the server.
    init()

    /// Serves one request. A thrown error reaches the caller as ``ManagerError`` `.remoteFailure`.
    mutating func handle(_ request: Request) throws -> Response
}
