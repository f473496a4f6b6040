/// The type with this mangled name, looked up only when the name is plain printable ASCII, as
/// `_mangledTypeName` makes them: a mangled name may hold symbolic references (control bytes
/// followed by offsets the runtime follows), so a name from a peer that is not trusted must never
/// reach `_typeByName` unchecked.
package func typeByPrintableName(_ name: String) -> Any.Type? {
    guard name.utf8.count <= 1024, !name.isEmpty, name.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
        return nil
    }
    return _typeByName(name)
}
