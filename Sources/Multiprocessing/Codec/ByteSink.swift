/// Where encoded bytes go: the caller's `[UInt8]` for values written without an Encoder, or the Encoder's own
/// buffer. Code is generic over the sink only, never over the value's type, so every use is specialized (the codec
/// mostly runs unspecialized, reached from other modules through generic entry points).
protocol ByteSink {
    mutating func appendByte(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
    /// Appends `tag` followed by the low `byteCount` bytes of `bits`, little-endian.
    mutating func appendTagged(_ tag: WireTag, bits: UInt64, byteCount: Int)
    /// Appends `value` as an unsigned LEB128 varint: 7 bits a byte, low bits first, high bit set on all but the
    /// last byte.
    mutating func appendVarint(_ value: UInt64)
}

extension ByteSink {
    /// Appends a string tag, the UTF-8 byte count and the bytes.
    @inline(__always)
    mutating func appendString(_ string: String) {
        appendByte(WireTag.string.rawValue)
        appendStringBody(string)
    }

    /// Appends a varint UTF-8 byte count and the bytes (the layout of strings and of keys).
    @inline(__always)
    mutating func appendStringBody(_ string: String) {
        // Native strings lend their UTF-8 without a copy; others (bridged ones) are made contiguous first.
        let appended: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            appendVarint(UInt64(utf8.count))
            appendBytes(UnsafeRawBufferPointer(utf8))
        }
        if appended == nil {
            var string = string
            string.withUTF8 { utf8 in
                appendVarint(UInt64(utf8.count))
                appendBytes(UnsafeRawBufferPointer(utf8))
            }
        }
    }
}

extension Array: ByteSink where Element == UInt8 {
    @inline(__always)
    mutating func appendByte(_ byte: UInt8) {
        append(byte)
    }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes)
    }

    @inline(__always)
    mutating func appendTagged(_ tag: WireTag, bits: UInt64, byteCount: Int) {
        // Tag and value laid out in two words, little-endian, so that one append does it.
        var words = ((UInt64(tag.rawValue) | bits << 8).littleEndian, (bits >> 56).littleEndian)
        Swift.withUnsafeBytes(of: &words) {
            append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<(1 + byteCount)]))
        }
    }

    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        append(UInt8(truncatingIfNeeded: value))
    }
}
