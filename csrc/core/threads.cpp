#include "core/threads.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

// ---- a team size that follows the load ----
// An OpenMP team on a core that another process also wants waits at every barrier for its
// descheduled member (MnistNet training at 2 threads beside one busy process: 0.55-0.8x its 1-thread
// speed). So kernels get at most as many threads as there are CPUs that no other process is
// running on, re-read every kLoadPeriod: the system's runnable tasks (/proc/loadavg) less this
// process's own (/proc/self/task/*/stat in state R, which counts a worker spinning at a barrier).
constexpr auto kLoadPeriod = std::chrono::milliseconds(50);

int usable_cpus() {
  static const int n = [] {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof(set), &set) == 0 ? std::max(1, CPU_COUNT(&set)) : 1;
  }();
  return n;
}

// Runnable tasks of the whole system (the 4th field of /proc/loadavg, "running/total"); -1 if unknown.
int system_runnable() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return -1;
  double l1, l5, l15;
  int running = -1, total = 0;
  if (std::fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5) running = -1;
  std::fclose(f);
  return running;
}

// This process's threads in state R (running or runnable).
int own_runnable() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return 0;
  int n = 0;
  char path[64], buf[256];
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
    FILE* f = std::fopen(path, "r");
    if (!f) continue;
    const size_t len = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    buf[len] = 0;
    const char* close = std::strrchr(buf, ')');  // "pid (comm) S ...": comm may hold spaces
    if (close && close[1] == ' ' && close[2] == 'R') ++n;
  }
  closedir(d);
  return n;
}

bool follow_load() {
  static const bool on = [] {
    const char* v = std::getenv("PYDL_THREADS_FOLLOW_LOAD");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return on;
}

std::atomic<int> g_free_cpus{0};  // CPUs no other process runs on, at the last reading; 0: none yet
std::atomic<int> g_others_before{0};  // other processes' runnable tasks at the reading before
std::atomic<int64_t> g_next_reading{0};

int free_cpus() {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t due = g_next_reading.load(std::memory_order_relaxed);
  if (now >= due && g_next_reading.compare_exchange_strong(due, now + std::chrono::nanoseconds(kLoadPeriod).count())) {
    const int all = system_runnable();
    const int others = all < 0 ? 0 : std::max(0, all - own_runnable());
    // The lesser of two readings, so that a short-lived process (a shell command) costs no threads.
    const int lasting = std::min(others, g_others_before.exchange(others));
    g_free_cpus.store(std::max(1, usable_cpus() - lasting), std::memory_order_relaxed);
  }
  const int free = g_free_cpus.load(std::memory_order_relaxed);
  return free > 0 ? free : usable_cpus();
}

const bool g_atfork_registered = [] {
  default_threads();
  pthread_atfork(nullptr, nullptr, &after_fork_in_child);
  return true;
}();
}  // namespace

int requested_num_threads() {
  const int n = g_num_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : default_threads();
}

int get_num_threads() {
  int n = requested_num_threads();
  if (n > 1 && follow_load()) n = std::min(n, free_cpus());
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
  g_next_reading.store(0);  // read the load afresh at the next call
  get_num_threads();
}

}  // namespace pydl
