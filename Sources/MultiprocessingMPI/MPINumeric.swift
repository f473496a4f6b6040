#if MPI
import CMPI

/// A number MPI knows by type: arrays of it cross without encoding (the array's own memory is
/// what MPI sends and receives into), and reductions combine it with MPI's built-in operations.
public protocol MPINumeric: BitwiseCopyable, Codable, Sendable {
    /// The MPI datatype of one element.
    static var mpiDatatype: MPIDatatype { get }
}

/// An MPI datatype handle (`MPI_DOUBLE`, `MPI_INT64_T`, …).
public struct MPIDatatype: @unchecked Sendable {
    let handle: MPI_Datatype
}

extension Int: MPINumeric {
    public static var mpiDatatype: MPIDatatype {
        MPIDatatype(handle: MemoryLayout<Int>.size == 8 ? cmpi_int64() : cmpi_int32())
    }
}
extension Int8: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_int8()) } }
extension Int16: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_int16()) } }
extension Int32: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_int32()) } }
extension Int64: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_int64()) } }
extension UInt: MPINumeric {
    public static var mpiDatatype: MPIDatatype {
        MPIDatatype(handle: MemoryLayout<UInt>.size == 8 ? cmpi_uint64() : cmpi_uint32())
    }
}
extension UInt8: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_uint8()) } }
extension UInt16: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_uint16()) } }
extension UInt32: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_uint32()) } }
extension UInt64: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_uint64()) } }
extension Float: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_float()) } }
extension Double: MPINumeric { public static var mpiDatatype: MPIDatatype { MPIDatatype(handle: cmpi_double()) } }
#endif
