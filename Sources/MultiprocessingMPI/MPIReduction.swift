#if MPI
import CMPI
import Synchronization

/// How a reduction combines the values of every rank.
public struct MPIReduction<Element: MPINumeric>: Sendable {
    enum Kind: Sendable {
        case builtIn(@Sendable () -> MPI_Op)
        case custom(@Sendable (Element, Element) -> Element)
    }

    let kind: Kind

    /// The sum (`MPI_SUM`).
    public static var sum: Self { Self(kind: .builtIn { cmpi_op_sum() }) }
    /// The product (`MPI_PROD`).
    public static var product: Self { Self(kind: .builtIn { cmpi_op_product() }) }
    /// The smallest (`MPI_MIN`).
    public static var min: Self { Self(kind: .builtIn { cmpi_op_min() }) }
    /// The largest (`MPI_MAX`).
    public static var max: Self { Self(kind: .builtIn { cmpi_op_max() }) }

    /// Your own operation, which must be associative and commutative (MPI applies it in any
    /// order, element by element, wherever the reduction's tree puts it).
    public static func custom(_ combine: @escaping @Sendable (Element, Element) -> Element) -> Self {
        Self(kind: .custom(combine))
    }

    /// Calls `body` with an `MPI_Op` and the datatype to reduce with, both freed afterwards when
    /// they were made for this call.
    func withOperation<Result>(
        _ body: (MPI_Op, MPI_Datatype) throws -> Result
    ) throws -> Result {
        switch kind {
        case .builtIn(let operation):
            return try body(operation(), Element.mpiDatatype.handle)
        case .custom(let combine):
            return try CustomReduction.with(combine, body)
        }
    }
}

/// A custom operation in MPI: `MPI_Op_create` takes a C function without a context, so each call
/// makes a private copy of the element datatype and the one C function finds the closure by it.
enum CustomReduction {
    private static let closures = Mutex([UInt: @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int) -> Void]())

    static func with<Element: MPINumeric, Result>(
        _ combine: @escaping @Sendable (Element, Element) -> Element,
        _ body: (MPI_Op, MPI_Datatype) throws -> Result
    ) throws -> Result {
        var datatype: MPI_Datatype? = nil
        try MPIEnvironment.check(MPI_Type_dup(Element.mpiDatatype.handle, &datatype), "MPI_Type_dup")
        defer { MPI_Type_free(&datatype) }
        var operation: MPI_Op? = nil
        try MPIEnvironment.check(
            MPI_Op_create(
                { input, output, length, datatype in
                    guard let input, let output, let length, let datatype, let handle = datatype.pointee else { return }
                    let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
                    let apply = CustomReduction.closures.withLock { $0[key] }
                    apply?(UnsafeRawPointer(input), output, Int(length.pointee))
                },
                1,
                &operation
            ),
            "MPI_Op_create"
        )
        defer { MPI_Op_free(&operation) }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(datatype!)))
        closures.withLock {
            $0[key] = { input, output, count in
                let left = input.assumingMemoryBound(to: Element.self)
                let right = output.assumingMemoryBound(to: Element.self)
                for index in 0..<count { right[index] = combine(left[index], right[index]) }
            }
        }
        defer { _ = closures.withLock { $0.removeValue(forKey: key) } }
        return try body(operation!, datatype!)
    }
}
#endif
