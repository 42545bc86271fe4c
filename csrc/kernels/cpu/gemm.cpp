// GEMM driver. float32 runs on pydl's packed engine (gemm_engine.h): B is packed into kc x nc
// panels shared by all threads, each thread packs its own mc x kc blocks of A, and the
// (A block, B column chunk) work items are handed out dynamically, so a thread the OS
// deschedules holds up one item, not a fixed share. Small or row-major-B products skip the
// packing. float64 and int64 use Eigen (gemm_eigen.cpp, per ISA).
#include "kernels/cpu/gemm.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/threads.h"
#include "kernels/cpu/gemm_engine.h"

namespace pydl::kernels {
namespace {


const SgemmKernels* engine() {
  static const SgemmKernels* e = []() -> const SgemmKernels* {
    switch (active_isa()) {
      case Isa::AVX512: return &sgemm_kernels_avx512();
      case Isa::AVX2: return &sgemm_kernels_avx2();
      default: return &sgemm_kernels_baseline();
    }
  }();
  return e;
}

// A workspace from the caching allocator, freed on scope exit.
struct Buf {
  float* p;
  size_t n;
  explicit Buf(size_t count) : p(static_cast<float*>(alloc_bytes(std::max<size_t>(count, 16) * sizeof(float)))),
                               n(std::max<size_t>(count, 16)) {}
  ~Buf() { free_bytes(p, n * sizeof(float)); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
};

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// C (M, N) of an empty product (K = 0): zeros, or unchanged when accumulating.
void zero_unless_accumulating(int64_t M, int64_t N, float* C, int64_t ldc, bool acc) {
  if (!acc)
    for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
}

// Depth per block: K split into equal blocks of at most E.kc (a multiple of 8), so that no
// short last block pays the tiles' load and store of C for a few steps of k (288 = 144 + 144,
// not 256 + 32).
int64_t depth_block(const SgemmKernels& E, int64_t K) {
  return std::min<int64_t>(E.kc, cdiv(cdiv(K, cdiv(K, E.kc)), 8) * 8);
}

// B read in place: row-major and small enough to stay in cache, or too few rows of A to
// repay packing it.
bool use_direct(const SgemmKernels& E, int64_t M, int64_t N, int64_t K, int64_t b_cs) {
  return b_cs == 1 && (K * N <= 96 * 1024 || M <= 2 * E.mr);
}

void sgemm_direct(const SgemmKernels& E, int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs,
                  const float* B, int64_t b_rs, float* C, int64_t ldc, bool acc, int nt) {
  // Items: row chunks (whole register tiles) x column chunks, at least ~4 per thread.
  const int64_t mtiles = cdiv(M, E.mr), ntiles = cdiv(N, E.nr);
  int64_t rchunk = mtiles, cchunk = ntiles;
  if (nt > 1) {
    const int64_t want = 4 * nt;
    rchunk = std::max<int64_t>(1, mtiles / want);
    const int64_t rows_items = cdiv(mtiles, rchunk);
    if (rows_items < want) cchunk = std::max<int64_t>(1, ntiles / cdiv(want, rows_items));
  }
  const int64_t ri = cdiv(mtiles, rchunk), ci = cdiv(ntiles, cchunk), items = ri * ci, KC = depth_block(E, K);
  auto run = [&](int64_t it) {
    const int64_t i0 = (it / ci) * rchunk * E.mr, j0 = (it % ci) * cchunk * E.nr;
    const int64_t m = std::min(rchunk * E.mr, M - i0), n = std::min(cchunk * E.nr, N - j0);
    for (int64_t p0 = 0; p0 < K; p0 += KC) {
      const int64_t kc = std::min<int64_t>(KC, K - p0);
      E.block(m, n, kc, A + i0 * a_rs + p0 * a_cs, false, a_rs, a_cs, B + p0 * b_rs + j0, E.nr, b_rs,
              C + i0 * ldc + j0, ldc, acc || p0 > 0);
    }
  };
  if (nt <= 1 || items == 1) {
    for (int64_t it = 0; it < items; ++it) run(it);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t it = 0; it < items; ++it) run(it);
}

// Floats that fit in half of one core's L2 cache (sysconf; 1 MiB L2 where it does not say).
int64_t half_l2_floats() {
  static const int64_t n = [] {
    const long b = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return static_cast<int64_t>(b > 0 ? b : 1 << 20) / 2 / static_cast<int64_t>(sizeof(float));
  }();
  return n;
}

// Columns per panel of B in the packed path.
int64_t column_panel(const SgemmKernels& E, int64_t N) {
  return std::min<int64_t>(cdiv(E.nc, E.nr) * E.nr, cdiv(N, E.nr) * E.nr);
}

// B packed whole (sgemm_pack_b): column panel j0 at j0 * K, its depth block p at + p * NC, the
// block's column panels of E.nr at + jp * E.nr * kc (E.pack_b's layout).
int64_t packed_b_size(const SgemmKernels& E, int64_t K, int64_t N) {
  const int64_t NC = column_panel(E, N);
  return cdiv(N, NC) * NC * K;
}

// Packs depth [p, p + kc) x columns [j0, j0 + nc) of B into dst (E.pack_b's panels, kc * nr apart);
// panels [jp0, jp1) only.
void pack_b_block(const SgemmKernels& E, int64_t p, int64_t kc, int64_t j0, int64_t nc, int64_t jp0, int64_t jp1,
                  const float* B, int64_t b_rs, int64_t b_cs, float* dst) {
  for (int64_t jp = jp0; jp < jp1; ++jp)
    E.pack_b(kc, std::min<int64_t>(E.nr, nc - jp * E.nr), B + p * b_rs + (j0 + jp * E.nr) * b_cs, b_rs, b_cs,
             dst + jp * E.nr * kc);
}

// B is packed here unless `Bpre` holds it packed already (sgemm_pack_b).
void sgemm_packed(const SgemmKernels& E, int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs,
                  const float* B, int64_t b_rs, int64_t b_cs, float* C, int64_t ldc, bool acc, int nt,
                  const float* Bpre = nullptr) {
  const int64_t KC = depth_block(E, K), NC = column_panel(E, N);
  const int64_t MC = E.mc;
  // Depth of B packed per round: all of K when the packed panel fits in half of L2 (one round,
  // so two barriers per column panel instead of two per depth block), else one depth block. A
  // larger round is read back from L3 for every block of A's rows (1-thread matmul 1024 on a 2 MB
  // L2: 125-133 GFLOP/s with the whole 2 MB round, 141-150 with 512 KB depth blocks).
  const int64_t KR = (Bpre || K * NC <= half_l2_floats()) ? K : KC;
  Buf bp(static_cast<size_t>(Bpre ? 1 : KR * NC));
  Buf ap(static_cast<size_t>(nt * MC * KC));
  const int64_t mblocks = cdiv(M, MC);
  auto body = [&](int tid, int T) {
    float* apt = ap.p + tid * MC * KC;
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
      const int64_t nc = std::min(NC, N - j0), npanels = cdiv(nc, E.nr);
      // Column sub-chunks (whole panels) so that every thread has work when M is short.
      const int64_t want = T > 1 ? 4 * T : 1;
      const int64_t nsub = std::min<int64_t>(npanels, std::max<int64_t>(1, cdiv(want, mblocks)));
      const int64_t sub = cdiv(npanels, nsub), items = mblocks * cdiv(npanels, sub);
      for (int64_t q0 = 0; q0 < K; q0 += KR) {
        const int64_t kr = std::min(KR, K - q0), nblk = cdiv(kr, KC);
        // depth block p of the round at b0 + (p - q0) * NC, its panels kc * nr apart
        const float* b0 = Bpre ? Bpre + j0 * K : bp.p;
        if (!Bpre) {
#pragma omp for schedule(dynamic, 1)
          for (int64_t t = 0; t < nblk * npanels; ++t) {
            const int64_t p = q0 + (t / npanels) * KC, jp = t % npanels;
            pack_b_block(E, p, std::min(KC, K - p), j0, nc, jp, jp + 1, B, b_rs, b_cs, bp.p + (p - q0) * NC);
          }
        }
        int64_t packed_ic = -1, packed_p = -1;
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < items; ++it) {
          const int64_t ic = it / cdiv(npanels, sub), js = it % cdiv(npanels, sub);
          const int64_t i0 = ic * MC, m = std::min(MC, M - i0);
          const int64_t jj = js * sub * E.nr, n = std::min(sub * E.nr, nc - jj);
          // Packing A pays only when its panels are reused across several column tiles.
          const bool pack = n > 2 * E.nr;
          for (int64_t p = q0; p < q0 + kr; p += KC) {
            const int64_t kc = std::min(KC, K - p);
            const float* ai = A + i0 * a_rs + p * a_cs;
            if (pack && (ic != packed_ic || p != packed_p)) {
              E.pack_a(m, kc, ai, a_rs, a_cs, apt);
              packed_ic = ic;
              packed_p = p;
            }
            E.block(m, n, kc, pack ? apt : ai, pack, a_rs, a_cs, b0 + (p - q0) * NC + js * sub * E.nr * kc,
                    kc * E.nr, E.nr, C + i0 * ldc + j0 + jj, ldc, acc || p > 0);
          }
        }
      }
    }
  };
  // A region of its own even for one thread: body's `omp for` constructs must bind to it, never
  // to a parallel region of the caller (a kernel calling sgemm from each of its threads).
#pragma omp parallel num_threads(nt)
  body(omp_get_thread_num(), omp_get_num_threads());
}

template <typename T>
void gemm_typed(int64_t batch, int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, int64_t a_bs,
                const T* B, int64_t b_rs, int64_t b_cs, int64_t b_bs, T* C, int64_t c_bs, bool acc) {
  auto one = [&](int64_t i, bool serial) {
    if constexpr (std::is_same_v<T, float>)
      sgemm(M, N, K, A + i * a_bs, a_rs, a_cs, B + i * b_bs, b_rs, b_cs, C + i * c_bs, N, acc, serial);
    else
      eigen_gemm(dtype_of<T>::value, M, N, K, A + i * a_bs, a_rs, a_cs, B + i * b_bs, b_rs, b_cs, C + i * c_bs, N, acc,
                 serial);
  };
  if (batch == 1) { one(0, false); return; }
  // Many products: one per thread at a time, each single-threaded.
  if (batch >= get_num_threads()) {
    parallel_for(batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i) one(i, true);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i) one(i, false);
  }
}

}  // namespace

const char* sgemm_engine_name() { return engine()->isa; }

double fma_peak_gflops(const std::string& isa, int threads, double seconds) {
  PYDL_CHECK(isa == "avx512" || isa == "avx2" || isa == "baseline", ValueError,
             "[fma_peak] expected isa 'avx512', 'avx2' or 'baseline', got '", isa, "'");
  const Isa want = isa == "avx512" ? Isa::AVX512 : isa == "avx2" ? Isa::AVX2 : Isa::Baseline;
  PYDL_CHECK(static_cast<int>(want) <= static_cast<int>(detected_isa()), ValueError, "[fma_peak] this CPU has no ", isa);
  PYDL_CHECK(threads >= 1, ValueError, "[fma_peak] expected threads >= 1, got ", threads);
  const SgemmKernels& E = want == Isa::AVX512 ? sgemm_kernels_avx512()
                          : want == Isa::AVX2 ? sgemm_kernels_avx2() : sgemm_kernels_baseline();
  double flops = 0;
  const double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
  {
    while (omp_get_wtime() - t0 < seconds) flops += E.fma_loop(1 << 16);
  }
  return flops / (omp_get_wtime() - t0) / 1e9;
}

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* B, int64_t b_rs,
           int64_t b_cs, float* C, int64_t ldc, bool acc, bool serial) {
  if (M <= 0 || N <= 0) return;
  const SgemmKernels* E = engine();
  if (K <= 0) return zero_unless_accumulating(M, N, C, ldc, acc);
  int nt = (serial || omp_in_parallel()) ? 1 : get_num_threads();
  if (static_cast<double>(M) * N * K < kGemmSerialWork) nt = 1;
  if (use_direct(*E, M, N, K, b_cs))
    sgemm_direct(*E, M, N, K, A, a_rs, a_cs, B, b_rs, C, ldc, acc, nt);
  else
    sgemm_packed(*E, M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc, nt);
}

// Packed A: for each depth block [p0, p0 + kc) (depth_block), the whole of A's rows in panels of
// E.mr (rows padded to a whole panel), as E.pack_a writes them.
int64_t padded_rows(const SgemmKernels& E, int64_t M) { return cdiv(M, E.mr) * E.mr; }

int64_t sgemm_packed_a_size(int64_t M, int64_t K) { return padded_rows(*engine(), M) * K; }

void sgemm_pack_a(int64_t M, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, float* dst) {
  const SgemmKernels& E = *engine();
  const int64_t Mp = padded_rows(E, M), KC = depth_block(E, K);
  for (int64_t p0 = 0; p0 < K; p0 += KC)
    E.pack_a(M, std::min<int64_t>(KC, K - p0), A + p0 * a_cs, a_rs, a_cs, dst + p0 * Mp);
}

void sgemm_packed_a(int64_t M, int64_t N, int64_t K, const float* Ap, const float* B, int64_t b_rs, int64_t b_cs,
                    float* C, int64_t ldc, bool acc) {
  if (M <= 0 || N <= 0) return;
  const SgemmKernels& E = *engine();
  if (K <= 0) return zero_unless_accumulating(M, N, C, ldc, acc);
  const int64_t Mp = padded_rows(E, M), KC = depth_block(E, K);
  std::unique_ptr<Buf> bp;  // B packed per depth block unless its rows are contiguous
  if (b_cs != 1) bp = std::make_unique<Buf>(static_cast<size_t>(KC * cdiv(N, E.nr) * E.nr));
  for (int64_t p0 = 0; p0 < K; p0 += KC) {
    const int64_t kc = std::min<int64_t>(KC, K - p0);
    const float* b = B + p0 * b_rs;
    if (bp) {
      E.pack_b(kc, N, b, b_rs, b_cs, bp->p);
      E.block(M, N, kc, Ap + p0 * Mp, true, 0, 0, bp->p, kc * E.nr, E.nr, C, ldc, acc || p0 > 0);
    } else {
      E.block(M, N, kc, Ap + p0 * Mp, true, 0, 0, b, E.nr, b_rs, C, ldc, acc || p0 > 0);
    }
  }
}

int64_t sgemm_packed_b_size(int64_t K, int64_t N) { return packed_b_size(*engine(), K, N); }

void sgemm_pack_b(int64_t K, int64_t N, const float* B, int64_t b_rs, int64_t b_cs, float* dst) {
  const SgemmKernels& E = *engine();
  const int64_t KC = depth_block(E, K), NC = column_panel(E, N);
  for (int64_t j0 = 0; j0 < N; j0 += NC) {
    const int64_t nc = std::min(NC, N - j0);
    for (int64_t p = 0; p < K; p += KC)
      pack_b_block(E, p, std::min(KC, K - p), j0, nc, 0, cdiv(nc, E.nr), B, b_rs, b_cs, dst + j0 * K + p * NC);
  }
}

void sgemm_packed_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* Bp,
                    float* C, int64_t ldc, bool acc) {
  if (M <= 0 || N <= 0) return;
  const SgemmKernels& E = *engine();
  if (K <= 0) return zero_unless_accumulating(M, N, C, ldc, acc);
  int nt = omp_in_parallel() ? 1 : get_num_threads();
  if (static_cast<double>(M) * N * K < kGemmSerialWork) nt = 1;
  sgemm_packed(E, M, N, K, A, a_rs, a_cs, nullptr, 0, 0, C, ldc, acc, nt, Bp);
}

template <typename T>
void gemm_any(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs,
              int64_t b_cs, T* C, int64_t ldc, bool acc, bool serial) {
  if constexpr (std::is_same_v<T, float>)
    sgemm(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc, serial);
  else
    eigen_gemm(dtype_of<T>::value, M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc, serial);
}
template void gemm_any<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t,
                              float*, int64_t, bool, bool);
template void gemm_any<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t,
                               int64_t, double*, int64_t, bool, bool);

void gemm(DType dt, int64_t batch, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs,
          int64_t a_bs, const void* B, int64_t b_rs, int64_t b_cs, int64_t b_bs, void* C, int64_t c_bs, bool acc) {
  switch (dt) {
    case DType::Float32:
      return gemm_typed<float>(batch, M, N, K, static_cast<const float*>(A), a_rs, a_cs, a_bs, static_cast<const float*>(B),
                               b_rs, b_cs, b_bs, static_cast<float*>(C), c_bs, acc);
    case DType::Float64:
      return gemm_typed<double>(batch, M, N, K, static_cast<const double*>(A), a_rs, a_cs, a_bs,
                                static_cast<const double*>(B), b_rs, b_cs, b_bs, static_cast<double*>(C), c_bs, acc);
    case DType::Int64:
      return gemm_typed<int64_t>(batch, M, N, K, static_cast<const int64_t*>(A), a_rs, a_cs, a_bs,
                                 static_cast<const int64_t*>(B), b_rs, b_cs, b_bs, static_cast<int64_t*>(C), c_bs, acc);
    default:
      throw TypeError(str("[matmul] unsupported dtype ", dtype_name(dt)));
  }
}

}  // namespace pydl::kernels
