#if MPI
import CMPI
import Multiprocessing

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

    /// The `MPI_Op` and the datatype for one call; keep it alive until the call completes.
    func prepare() throws -> PreparedReduction {
        switch kind {
        case .builtIn(let operation): PreparedReduction(operation: operation(), datatype: Element.mpiDatatype.handle)
        case .custom(let combine): try PreparedReduction(custom: combine)
        }
    }
}

/// An operation and datatype ready for one reduction. A custom operation is an `MPI_Op_create`
/// whose one C function (it gets no context pointer) finds the Swift closure by the private copy of
/// the element datatype made for this reduction; both are freed with this object.
final class PreparedReduction: @unchecked Sendable {
    let operation: MPI_Op
    let datatype: MPI_Datatype
    private let isCustom: Bool

    private static let closures = ProtectedState(
        [UInt: @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int) -> Void]()
    )

    init(operation: MPI_Op, datatype: MPI_Datatype) {
        self.operation = operation
        self.datatype = datatype
        isCustom = false
    }

    init<Element: MPINumeric>(custom combine: @escaping @Sendable (Element, Element) -> Element) throws {
        var datatype: MPI_Datatype? = nil
        try MPIEnvironment.check(MPI_Type_dup(Element.mpiDatatype.handle, &datatype), "MPI_Type_dup")
        var operation: MPI_Op? = nil
        let created = MPI_Op_create(
            { input, output, length, datatype in
                guard let input, let output, let length, let datatype, let handle = datatype.pointee else { return }
                let apply = PreparedReduction.closures.withLock { $0[PreparedReduction.key(handle)] }
                apply?(UnsafeRawPointer(input), output, Int(length.pointee))
            },
            1,
            &operation
        )
        guard created == MPI_SUCCESS, let operation, let datatype else {
            MPI_Type_free(&datatype)
            throw MPIEnvironment.failure(created, "MPI_Op_create")
        }
        self.operation = operation
        self.datatype = datatype
        isCustom = true
        Self.closures.withLock {
            $0[Self.key(datatype)] = { input, output, count in
                let left = input.assumingMemoryBound(to: Element.self)
                let right = output.assumingMemoryBound(to: Element.self)
                for index in 0..<count { right[index] = combine(left[index], right[index]) }
            }
        }
    }

    deinit {
        guard isCustom else { return }
        _ = Self.closures.withLock { $0.removeValue(forKey: Self.key(datatype)) }
        var operationHandle: MPI_Op? = operation
        var datatypeHandle: MPI_Datatype? = datatype
        MPI_Op_free(&operationHandle)
        MPI_Type_free(&datatypeHandle)
    }

    private static func key(_ datatype: MPI_Datatype) -> UInt {
        UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(datatype)))
    }
}
#endif
