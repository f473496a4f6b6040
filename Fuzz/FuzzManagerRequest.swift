// libFuzzer target for what a manager's server does with a client's bytes: decode a request frame's
// payload, then apply it to an object of every kind. Build it with the codec and the manager's
// server-side sources (see run.sh). Decoding may fail and operations may be refused; nothing may
// crash, and every answer must encode.

/// Objects of every kind, made once: operations accumulate across inputs, as in a long-lived server.
let fuzzObjects: [HostedObject] = [
    HostedObject(kind: .list), HostedObject(kind: .dictionary), HostedObject(kind: .value),
    HostedObject(kind: .queue), HostedObject(kind: .custom),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManagerRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let request = try? BinaryDecoder().decode(ManagerRequest.self, from: bytes) else { return 0 }
    let object = fuzzObjects[Int(request.object % UInt64(fuzzObjects.count))]
    if case .take = request.operation { return 0 }  // waits: not for a synchronous fuzzer
    let response = object.handleImmediately(request.operation)
    guard (try? BinaryEncoder().encode(response)) != nil else { fatalError("an answer did not encode: \(response)") }
    return 0
}
