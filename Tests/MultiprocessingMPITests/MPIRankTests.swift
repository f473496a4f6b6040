#if MPI
import MultiprocessingMPI
#endif
