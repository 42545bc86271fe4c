// The compute engine's facts: instruction-set level in use, the GEMM engine, the FMA peak probe.
#include "core/cpu_features.h"
#include "python/bind.h"

namespace pydl {

void init_engine(py::module_& m) {
  py::dict cfg = m.attr("build_config");
  cfg["isa"] = isa_name(active_isa());
  cfg["isa_detected"] = isa_name(detected_isa());
  cfg["gemm"] = gemm_engine_name();
  cfg["isa_kernels"] = PYDL_ISA_KERNEL_NAMES;  // the families compiled per ISA (CMakeLists.txt)
  m.def("_fma_peak_gflops", [](const std::string& isa, int threads, double seconds) {
    NoGil nogil;
    return fma_peak_gflops(isa, threads, seconds);
  }, py::arg("isa"), py::arg("threads") = 1, py::arg("seconds") = 0.2,
     "Measured float32 FMA GFLOP/s of `threads` threads with instruction set `isa` ('avx512' or 'avx2').");
}

}  // namespace pydl
