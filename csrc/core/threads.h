#pragma once
#include <cstdint>
#include <algorithm>
#include <string>
#include <omp.h>

namespace pydl {

/// Number of OpenMP threads kernels use now: the requested number, less the CPUs that other
/// processes are running on (re-read every 50 ms; PYDL_THREADS_FOLLOW_LOAD=0 turns this off).
/// Also syncs the calling thread's OpenMP setting, which Eigen reads. 1 in a child made by fork().
int get_num_threads();
/// The number set by set_num_threads (else OpenMP's default): what pydl.get_num_threads() reports.
int requested_num_threads();
/// Sets the number of OpenMP threads (and Eigen's) kernels use, for every thread; n >= 1.
void set_num_threads(int n);

/// "3.4.0": the Eigen version kernels were built with.
std::string eigen_version();

/// Calls f(begin, end) over [0, n) split across threads when n >= grain, else serially.
template <typename F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  int nt = get_num_threads();
  if (nt <= 1 || n < grain || omp_in_parallel()) { f(int64_t(0), n); return; }
  int64_t chunks = std::min<int64_t>(nt, (n + grain - 1) / grain);
#pragma omp parallel num_threads(static_cast<int>(chunks))
  {
    int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t b = n * t / T, e = n * (t + 1) / T;
    if (b < e) f(b, e);
  }
}

}  // namespace pydl
