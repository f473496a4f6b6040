#if MPI
/// The environment for an `mpirun` this process starts: `environment` without Open MPI's own
/// variables (an `mpirun` that inherits a rank's exits at once, silently) and allowed to run as
/// root. For the demos and the tests, which start MPI jobs from processes that may be ranks.
package func mpirunEnvironment(_ environment: [String: String]) -> [String: String] {
    var cleaned = environment.filter { key, _ in
        !["OMPI_", "PMIX_", "ORTE_", "OPAL_"].contains { key.hasPrefix($0) }
    }
    cleaned["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    cleaned["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return cleaned
}
#endif
