#include "core/allocator.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace pydl {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kCacheMin = 64 * 1024;          // smaller blocks go straight to malloc
constexpr size_t kCacheLimit = 1024ull << 20;   // never hold more than this unused

// Rounds large sizes up to one of 4 classes per power of two (at most 25% waste),
// so that blocks of slightly different sizes can be reused.
size_t size_class(size_t n) {
  if (n < kCacheMin) return (n + kAlign - 1) / kAlign * kAlign;
  size_t p = 1;
  while ((p << 1) <= n) p <<= 1;
  size_t step = p / 4;
  return (n + step - 1) / step * step;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  size_t cached = 0;
  ~Cache() { release_all(); }
  void release_all() {
    for (auto& kv : free_blocks)
      for (void* p : kv.second) std::free(p);
    free_blocks.clear();
    cached = 0;
  }
};

Cache& cache() {
  static Cache* c = new Cache();  // leaked on purpose: outlives static tensors at exit
  return *c;
}

// fork() while another thread holds the cache's lock would leave it locked forever in the
// child: hold it across the fork so that both sides start with it free.
const bool g_fork_safe = [] {
  cache();
  pthread_atfork([] { cache().mu.lock(); }, [] { cache().mu.unlock(); }, [] { cache().mu.unlock(); });
  return true;
}();

}  // namespace

// More than the machine's memory can never succeed; asking anyway (overcommit says yes to
// malloc) would let the kernel's first writes OOM the machine instead of raising here.
static size_t physical_bytes() {
  static const size_t n = [] {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : SIZE_MAX;
  }();
  return n;
}

void* alloc_bytes(size_t nbytes) {
  PYDL_CHECK(nbytes <= physical_bytes(), MemoryError, "[alloc] cannot allocate ", nbytes, " bytes: more than this "
             "machine's ", physical_bytes(), " bytes of memory");
  size_t n = size_class(nbytes == 0 ? 1 : nbytes);
  if (n >= kCacheMin) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(n);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= n;
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, n);
  if (!p) {
    // Give the cache back to the system and try once more before failing.
    empty_cache();
    p = std::aligned_alloc(kAlign, n);
  }
  PYDL_CHECK(p, MemoryError, "[alloc] could not allocate ", nbytes, " bytes");
  return p;
}

void free_bytes(void* ptr, size_t nbytes) {
  if (!ptr) return;
  size_t n = size_class(nbytes == 0 ? 1 : nbytes);
  if (n >= kCacheMin) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.cached + n <= kCacheLimit) {
      c.free_blocks[n].push_back(ptr);
      c.cached += n;
      return;
    }
  }
  std::free(ptr);
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.release_all();
}

size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.cached;
}

}  // namespace pydl
