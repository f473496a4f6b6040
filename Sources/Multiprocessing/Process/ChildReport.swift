/// The first message from parent to child: which task type follows, and the child's name.
/// The task itself follows in the next frame, so that descriptors inside it travel with it.
struct TaskHeader: Codable {
    var typeName: String
    var processName: String
}

/// The one report a child sends before it exits. For `.output`, the output value follows in the
/// next frame (so it, too, may carry descriptors).
enum ChildReport: Codable {
    case output
    /// The task threw. `mangledTypeName` and `payload` are set when the error type is `Codable`,
    /// so the parent can rethrow the same error.
    case thrown(typeName: String, description: String, mangledTypeName: String?, payload: [UInt8]?)
    /// The child could not run the task at all.
    case setupFailed(code: ProcessError.Code.Storage, message: String)
}

extension ChildReport {
    /// Describes `error` for the parent, keeping its value when its type is `Codable`.
    static func thrown(_ error: any Error) -> ChildReport {
        var mangled: String?
        var payload: [UInt8]?
        if let encodable = error as? any Encodable, let name = _mangledTypeName(type(of: error)),
            _typeByName(name) != nil
        {
            payload = try? BinaryEncoder().encode(encodable)
            mangled = payload == nil ? nil : name
        }
        return .thrown(
            typeName: String(reflecting: type(of: error)),
            description: String(describing: error),
            mangledTypeName: mangled,
            payload: payload
        )
    }

    /// The error to throw in the parent for a `.thrown` report.
    static func reconstruct(
        typeName: String,
        description: String,
        mangledTypeName: String?,
        payload: [UInt8]?
    )
        -> any Error
    {
        if let mangledTypeName, let payload,
            let errorType = _typeByName(mangledTypeName) as? any (Error & Decodable).Type,
            let error = try? BinaryDecoder().decode(errorType, from: payload)
        {
            return error
        }
        return RemoteTaskError(typeName: typeName, errorDescription: description)
    }
}

/// Sends what the child's work produced, and returns the exit code the child should use
/// (Python's: 0 on success, 1 when the target raised).
func sendReport<Output: Encodable>(_ outcome: Result<Output, any Error>, over control: Connection) -> Int32 {
    do {
        switch outcome {
        case .success(let output):
            do {
                try control.send(ChildReport.output)
                try control.send(output)
            } catch is ConnectionError {
                return 70
            } catch {
                try control.send(
                    ChildReport.setupFailed(
                        code: .outputEncodingFailed,
                        message: "the output of type \(Output.self) could not be encoded: \(error)"
                    )
                )
                return 1
            }
            return 0
        case .failure(let error):
            try control.send(ChildReport.thrown(error))
            return 1
        }
    } catch {
        return 70  // The parent is gone; nobody is left to tell.
    }
}
