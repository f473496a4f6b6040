import SystemPackage
import _CMultiprocessingShims

#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached POSIX thread running `body`. Foundation's `Thread` is avoided so the library
/// does not link Foundation; joining is done by the callers' own events.
func startDetachedThread(name: String?, _ body: @escaping @Sendable () -> Void) throws(SystemCallError) {
    final class Context {
        let body: @Sendable () -> Void
        let name: String?
        init(body: @escaping @Sendable () -> Void, name: String?) {
            self.body = body
            self.name = name
        }
    }
    let context = Unmanaged.passRetained(Context(body: body, name: name)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, CInt(PTHREAD_CREATE_DETACHED))
    var thread: pthread_t = 0
    let result = pthread_create(
        &thread,
        &attributes,
        { raw in
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            if let name = context.name {
                // The kernel keeps 15 bytes of a thread name.
                mpshim_set_thread_name(name)
            }
            context.body()
            return nil
        },
        context
    )
    if result != 0 {
        Unmanaged<Context>.fromOpaque(context).release()
        throw SystemCallError(call: "pthread_create", errno: .init(rawValue: result))
    }
}
