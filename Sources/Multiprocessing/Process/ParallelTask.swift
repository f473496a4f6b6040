/// Work that can run in another process: a `Codable` value whose ``run()`` produces the result.
///
/// Python pickles a function by its qualified name and re-imports it in the child. Swift closures
/// cannot cross a process boundary, so the unit of work is a type: the parent sends the type's
/// mangled name and the encoded value; the child, which runs the same binary, finds the type by
/// that name, decodes the value and calls ``run()``.
///
/// ```swift
/// struct Fibonacci: ParallelTask {
///     var n: Int
///     func run() -> Int { n < 2 ? n : Fibonacci(n: n - 1).run() + Fibonacci(n: n - 2).run() }
/// }
/// let child = ChildProcess(running: Fibonacci(n: 30))
/// try child.start()
/// print(try child.value())  // 832040
/// ```
///
/// - Important: The type must be visible by name: declare it at file scope (or nested in such a
///   type), not `private`/`fileprivate` and not inside a function. Other types are rejected when
///   the process starts, with ``ProcessError/Code-swift.struct/unsupportedTaskType``.
public protocol ParallelTask: Codable, Sendable {
    /// What the task returns to the parent.
    associatedtype Output: Codable & Sendable

    /// Runs the task in the child. A synchronous implementation satisfies this requirement.
    ///
    /// - Throws: Anything; the parent receives the error from `ChildProcess/value()`: as the same
    ///   type when the error type is `Codable`, otherwise as a ``RemoteTaskError``.
    func run() async throws -> Output
}

/// The output of a task that has nothing to return: Swift's `Void` cannot be `Codable`.
public struct NoOutput: Codable, Sendable, Hashable {
    /// The only value.
    public init() {}
}
