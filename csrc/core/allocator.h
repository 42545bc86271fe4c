#pragma once
#include <cstddef>

namespace pydl {

/// 64-byte aligned allocation. Large blocks are cached and reused: glibc hands big
/// buffers back to the OS on every free, which makes per-call workspaces expensive.
void* alloc_bytes(size_t nbytes);
/// Returns a block from alloc_bytes (with the same nbytes) to the cache or the system.
void free_bytes(void* ptr, size_t nbytes);
/// Frees every cached block (pydl.empty_cache()).
void empty_cache();
/// Bytes currently held in the cache, not in use.
size_t cached_bytes();

}  // namespace pydl
