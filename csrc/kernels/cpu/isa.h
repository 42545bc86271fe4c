#pragma once
// The instruction-set namespace of a per-ISA kernel family. CMake compiles each file listed in
// PYDL_ISA_KERNELS three times: with the core (x86-64-v2, namespace baseline), and with
// -DPYDL_ISA_NS=avx2 / avx512 and that ISA's flags. kernels/cpu/dispatch.cpp defines the public
// functions (pydl::kernels::binary, ...) the ops call; each forwards to the copy of the level
// active_isa() picked when the module loaded. In the avx2/avx512 copies Eigen is renamed
// (-DEigen=pydl_eigen_<isa>), so their inline Eigen functions never merge with the baseline's.
#ifndef PYDL_ISA_NS
#define PYDL_ISA_NS baseline
#endif
