/// Values whose bytes are the value: ``BinaryEncoder`` sends them with one memory copy, and arrays of them too.
///
/// Python's pickle has no counterpart; this is the codec's equivalent of sending a NumPy buffer as raw bytes. The
/// fixed-width integers and `Float`/`Double` conform already, so `[Int]`, `[Double]` or `[UInt8]` of any length
/// cost one copy rather than one call per element.
///
/// You may conform your own struct when every field is itself bitwise and **every bit pattern of its bytes is a
/// valid value**:
///
/// ```swift
/// struct Point: BitwiseCodable { var x, y: Double }
/// ```
///
/// Do not conform types holding enums, `Bool`s, pointers, references or anything with invalid bit patterns: the
/// decoder copies the bytes in without looking at them. Padding bytes between fields are sent as they are. The
/// sender and receiver must run the same binary on the same architecture (the library targets little-endian
/// 64-bit machines), because the bytes are the in-memory layout. Encoders other than ``BinaryEncoder`` (JSON, for
/// example) keep using the type's ordinary `Codable` conformance.
public protocol BitwiseCodable: BitwiseCopyable, Codable {}

extension Int: BitwiseCodable {}
extension Int8: BitwiseCodable {}
extension Int16: BitwiseCodable {}
extension Int32: BitwiseCodable {}
extension Int64: BitwiseCodable {}
extension UInt: BitwiseCodable {}
extension UInt8: BitwiseCodable {}
extension UInt16: BitwiseCodable {}
extension UInt32: BitwiseCodable {}
extension UInt64: BitwiseCodable {}
extension Float: BitwiseCodable {}
extension Double: BitwiseCodable {}
// The codec has no 128-bit tags; these travel as raw values.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Int128: BitwiseCodable {}
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension UInt128: BitwiseCodable {}

extension BitwiseCodable {
    /// Loads a `Self` from unaligned bytes and returns it as `T`, which the caller has checked is `Self`; lets
    /// generic code holding only `any BitwiseCodable.Type` produce its own `T` without a dynamic cast.
    @inline(__always)
    static func loadRaw<T>(from bytes: UnsafeRawPointer, as type: T.Type) -> T {
        unsafeBitCast(bytes.loadUnaligned(as: Self.self), to: T.self)
    }
}

/// Arrays whose elements are ``BitwiseCodable``, recognised at run time so the codec can copy their storage in one
/// piece. Both sides check this the same way, so they always agree on the format.
protocol _BitwiseCodableArray {
    /// Appends the array at `pointer` (a `Self`) as a raw array: tag, varint count, varint element stride, bytes.
    static func appendRawArray<Sink: ByteSink>(at pointer: UnsafeRawPointer, to sink: inout Sink)
    /// Reads a raw array (tag included) and returns it as `T` (which is `Self`).
    static func readRawArray<T>(from reader: inout ByteReader, as type: T.Type) throws -> T
}

extension Array: _BitwiseCodableArray where Element: BitwiseCodable {
    static func appendRawArray<Sink: ByteSink>(at pointer: UnsafeRawPointer, to sink: inout Sink) {
        let array = pointer.assumingMemoryBound(to: Self.self)
        sink.appendByte(WireTag.rawArray.rawValue)
        sink.appendVarint(UInt64(array.pointee.count))
        sink.appendVarint(UInt64(MemoryLayout<Element>.stride))
        // The storage is contiguous with stride spacing, so the whole array is one copy.
        array.pointee.withUnsafeBytes { sink.appendBytes($0) }
    }

    static func readRawArray<T>(from reader: inout ByteReader, as type: T.Type) throws -> T {
        try reader.expectTag(.rawArray)
        let byteCount = try reader.readRawArrayByteCount(expectedStride: MemoryLayout<Element>.stride)
        // The count was validated against the remaining input before anything is allocated.
        let count = byteCount / MemoryLayout<Element>.stride
        let source = reader.take(byteCount)
        let array = Self(unsafeUninitializedCapacity: count) { storage, initializedCount in
            if byteCount > 0 {
                UnsafeMutableRawPointer(storage.baseAddress.unsafelyUnwrapped)
                    .copyMemory(from: source.baseAddress.unsafelyUnwrapped, byteCount: byteCount)
            }
            initializedCount = count
        }
        return unsafeBitCast(array, to: T.self)
    }
}
