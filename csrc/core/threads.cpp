#include "core/threads.h"

#include <Eigen/Core>

#include "core/error.h"

namespace pydl {

int get_num_threads() { return omp_get_max_threads(); }

std::string eigen_version() {
  return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
}

void set_num_threads(int n) {
  PYDL_CHECK(n >= 1, ValueError, "[set_num_threads] expected a positive number of threads, got ", n);
  // Eigen follows the calling thread's OpenMP setting (we never call Eigen::setNbThreads),
  // so a kernel can run Eigen single-threaded for small work by lowering it locally.
  omp_set_num_threads(n);
}

}  // namespace pydl
