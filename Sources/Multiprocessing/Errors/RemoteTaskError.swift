/// An error thrown by a task in another process whose type is not `Codable`, so only its type name
/// and description could cross the boundary (Python re-raises a pickled exception; Swift errors are
/// not all serializable).
public struct RemoteTaskError: Error, Sendable, Codable, Hashable, CustomStringConvertible {
    /// The fully qualified type name of the original error, e.g. `MyModule.ParseError`.
    public let typeName: String
    /// `String(describing:)` of the original error.
    public let errorDescription: String

    public init(typeName: String, errorDescription: String) {
        self.typeName = typeName
        self.errorDescription = errorDescription
    }

    public var description: String { "\(typeName): \(errorDescription)" }
}
