#include "core/threads.h"

#include <pthread.h>

#include <atomic>

#include <Eigen/Core>

#include "core/error.h"

namespace pydl {

namespace {
// The thread count is process-wide (as in PyTorch): OpenMP's own setting is per thread, so a
// thread started after set_num_threads would otherwise run with the default.
std::atomic<int> g_num_threads{0};  // 0: not set yet, use OpenMP's default
std::atomic<bool> g_forked{false};

int default_threads() {
  static const int n = omp_get_max_threads();
  return n;
}

// GNU OpenMP's thread pool does not survive fork(): a child entering a parallel region waits
// forever for the parent's workers. The child therefore runs kernels on its own thread.
void after_fork_in_child() {
  g_forked.store(true);
  g_num_threads.store(1);
  omp_set_num_threads(1);
}

const bool g_atfork_registered = [] {
  default_threads();
  pthread_atfork(nullptr, nullptr, &after_fork_in_child);
  return true;
}();
}  // namespace

int get_num_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n <= 0) n = default_threads();
  // Eigen reads the calling thread's OpenMP setting: keep it in step with the process-wide one.
  thread_local int t_synced = 0;
  if (t_synced != n) {
    omp_set_num_threads(n);
    t_synced = n;
  }
  return n;
}

std::string eigen_version() {
  return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
}

void set_num_threads(int n) {
  PYDL_CHECK(n >= 1, ValueError, "[set_num_threads] expected a positive number of threads, got ", n);
  // After fork() OpenMP cannot start threads in this process (see after_fork_in_child).
  g_num_threads.store(g_forked.load() ? 1 : n);
  get_num_threads();
}

}  // namespace pydl
