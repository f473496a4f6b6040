/// Makes a String from `bytes` if they are well-formed UTF-8, or returns nil (never repairs, unlike
/// `String(decoding:as:)` alone, so corrupt input is reported instead of silently changed).
@inline(__always)
func makeString(validating bytes: UnsafeRawBufferPointer) -> String? {
    // Not `String(validating:as:)`: it runs generic over the encoding and looks up type metadata on every call,
    // which costs more than the validation. `String(decoding:as: UTF8.self)` on valid input is a fast copy.
    guard isValidUTF8(bytes) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// Checks well-formed UTF-8 per Unicode table 3-7: no overlong forms, surrogates, or code points above U+10FFFF.
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let count = bytes.count
    var index = 0
    @inline(__always) func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
    @inline(__always) func isContinuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
        offset < count && byte(offset) >= low && byte(offset) <= high
    }
    while index < count {
        // ASCII eight bytes at a time.
        if index + 8 <= count,
            base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
        {
            index += 8
            continue
        }
        let lead = byte(index)
        if lead < 0x80 {
            index += 1
        } else if lead < 0xC2 {
            return false
        } else if lead < 0xE0 {
            guard isContinuation(index + 1) else { return false }
            index += 2
        } else if lead < 0xF0 {
            let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
            guard isContinuation(index + 1, low, high), isContinuation(index + 2) else { return false }
            index += 3
        } else if lead < 0xF5 {
            let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            guard isContinuation(index + 1, low, high), isContinuation(index + 2), isContinuation(index + 3) else {
                return false
            }
            index += 4
        } else {
            return false
        }
    }
    return true
}
