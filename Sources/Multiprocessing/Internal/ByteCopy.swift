extension Array where Element == UInt8 {
    /// A copy of `bytes` made with one memcpy. `Array(bytes)` goes element by element unless the
    /// optimizer specializes it, which debug builds (and so the test suite) do not.
    init(copying bytes: UnsafeRawBufferPointer) {
        self.init(unsafeUninitializedCapacity: bytes.count) { target, initialized in
            if let base = bytes.baseAddress, bytes.count > 0 {
                UnsafeMutableRawBufferPointer(target).baseAddress!.copyMemory(from: base, byteCount: bytes.count)
            }
            initialized = bytes.count
        }
    }
}
