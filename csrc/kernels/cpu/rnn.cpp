#include "kernels/cpu/rnn.h"

#include "kernels/cpu/eigen.h"
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "core/allocator.h"
#include "core/threads.h"
#include "kernels/cpu/gemm.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MapM = Eigen::Map<Mat<T>>;
template <typename T>
using CMapM = Eigen::Map<const Mat<T>>;

// An uninitialised scratch buffer from the caching allocator (std::vector would zero it,
// megabytes per call, and return it to the system).
template <typename T>
struct Scratch {
  T* p;
  size_t n;
  explicit Scratch(size_t count) : p(static_cast<T*>(alloc_bytes(count * sizeof(T)))), n(count) {}
  ~Scratch() { free_bytes(p, n * sizeof(T)); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() { return p; }
};

// A recurrent weight as B (K, N) of every step's GEMM (element (p, j) at b[p*rs + j*cs]). float32
// packs it once per sequence (it costs about one step's read of B): every step then reads
// contiguous panels. Read in place, a row-major B with a power-of-two row stride (an LSTM's
// 4H columns) maps its rows onto a few L1 sets and streams from L2 at every row tile.
template <typename T>
struct StepWeight {
  const T* b;
  int64_t K, N, rs, cs;
  std::unique_ptr<Scratch<float>> own;
  const float* packed = nullptr;
  // `pre`: B already packed by sgemm_pack_b (float32), or null to pack it here.
  StepWeight(const T* b_, int64_t K_, int64_t N_, int64_t rs_, int64_t cs_, const float* pre = nullptr)
      : b(b_), K(K_), N(N_), rs(rs_), cs(cs_) {
    if constexpr (std::is_same_v<T, float>) {
      packed = pre;
      if (!packed) {
        own = std::make_unique<Scratch<float>>(static_cast<size_t>(sgemm_packed_b_size(K, N)));
        sgemm_pack_b(K, N, b, rs, cs, own->data());
        packed = own->data();
      }
    }
  }
  // C (m, N) (+)= A (m, K) @ B, A rows lda apart, C rows ldc apart.
  void operator()(int64_t m, const T* A, int64_t lda, T* C, int64_t ldc, bool acc = false) const {
    if constexpr (std::is_same_v<T, float>)
      if (packed) return sgemm_packed_b(m, N, K, A, lda, 1, packed, C, ldc, acc);
    gemm_any<T>(m, N, K, A, lda, 1, b, rs, cs, C, ldc, acc);
  }
};

template <typename T>
using Arr = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using AMap = Eigen::Map<Arr<T>, 0, Eigen::OuterStride<>>;

// Rows [b0, b1) of gate/column block k (width H) of a row-major (B, stride) buffer.
template <typename T>
inline AMap<T> blk(T* p, int64_t b0, int64_t b1, int64_t k, int64_t H, int64_t stride) {
  return AMap<T>(p + b0 * stride + k * H, b1 - b0, H, Eigen::OuterStride<>(stride));
}

template <typename T>
struct Layer {
  const RnnArgs& a;
  int64_t T_, B, I, H, G;
  Layer(const RnnArgs& args) : a(args), T_(args.T), B(args.B), I(args.I), H(args.H), G(rnn_gates(args.mode)) {}
  int64_t time_of(int64_t s) const { return a.reverse ? T_ - 1 - s : s; }
  bool active(int64_t t, int64_t b) const { return !a.lengths || t < a.lengths[b]; }
  // Rows per thread: the gate math of one step is split by batch rows.
  int64_t row_grain() const { return std::max<int64_t>(1, 8192 / std::max<int64_t>(G * H, 1)); }

  void forward() {
    const int64_t GH = G * H;
    const T* x = static_cast<const T*>(a.x);
    const T* bih = static_cast<const T*>(a.b_ih);
    const T* bhh = static_cast<const T*>(a.b_hh);
    T* hs = static_cast<T*>(a.hs);
    T* cs = static_cast<T*>(a.cs);
    T* gates = static_cast<T*>(a.gates);
    T* extra = static_cast<T*>(a.extra);
    T* out = static_cast<T*>(a.out);
    CMapM<T> Wih(static_cast<const T*>(a.w_ih), GH, I), Whh(static_cast<const T*>(a.w_hh), GH, H);

    // Input projection of every step, written where the step's gates go (gates[s] is time
    // time_of(s)): one GEMM (T*B, I) x (G*H, I)^T -> (T*B, G*H), one per step when reversed. Then
    // the biases (RNN/LSTM: both; GRU keeps b_hh with the recurrent part, which r gates).
    {
      const StepWeight<T> wih(Wih.data(), I, GH, 1, I, a.w_ih_packed);  // (I, G*H) = W_ih^T
      if (!a.reverse) wih(T_ * B, x, I, gates, GH);
      else for (int64_t s = 0; s < T_; ++s) wih(B, x + time_of(s) * B * I, I, gates + s * B * GH, GH);
    }
    Eigen::Matrix<T, 1, Eigen::Dynamic> bias = Eigen::Matrix<T, 1, Eigen::Dynamic>::Zero(GH);
    if (bih) bias += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bih, GH);
    if (bhh && a.mode != RnnMode::GRU) bias += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bhh, GH);
    if (bih || (bhh && a.mode != RnnMode::GRU)) MapM<T>(gates, T_ * B, GH).rowwise() += bias;
    // GRU's recurrent part apart (r gates its n third); the others add theirs onto the gates
    Scratch<T> hp_buf(static_cast<size_t>(a.mode == RnnMode::GRU ? B * GH : 1));
    // (H, G*H) = W_hh^T
    const StepWeight<T> whh_step(Whh.data(), H, GH, 1, H, a.w_hh_packed);

    // Batch rows never interact, so each thread runs its rows through every step on its
    // own: one parallel region for the whole sequence, single-threaded GEMMs inside. Each
    // step's gates are activated in place.
    parallel_for(B, row_grain(), [&](int64_t b0, int64_t b1) {
      for (int64_t s = 0; s < T_; ++s) {
        const int64_t t = time_of(s);
        T* hprev = hs + s * B * H;
        T* hnext = hs + (s + 1) * B * H;
        T* hp = hp_buf.data();
        T* gs = gates + s * B * GH;
        T* o = out + t * B * H;
        T* cprev = cs ? cs + s * B * H : nullptr;
        T* cnext = cs ? cs + (s + 1) * B * H : nullptr;
        // (rows,H) x (GH,H)^T -> (rows,GH), added onto the step's input projection (GRU: apart)
        if (a.mode == RnnMode::GRU) whh_step(b1 - b0, hprev + b0 * H, H, hp + b0 * GH, GH);
        else whh_step(b1 - b0, hprev + b0 * H, H, gs + b0 * GH, GH, true);
        auto Hn = blk(hnext, b0, b1, 0, H, H);
        switch (a.mode) {
          case RnnMode::Tanh:
          case RnnMode::Relu: {
            auto A = blk(gs, b0, b1, 0, H, H);
            if (a.mode == RnnMode::Tanh) Hn = A.tanh();
            else Hn = A.max(T(0));
            break;
          }
          case RnnMode::LSTM: {
            auto Gi = blk(gs, b0, b1, 0, H, GH), Gf = blk(gs, b0, b1, 1, H, GH);
            auto Gg = blk(gs, b0, b1, 2, H, GH), Go = blk(gs, b0, b1, 3, H, GH);
            Gi = Gi.logistic();
            Gf = Gf.logistic();
            Gg = Gg.tanh();
            Go = Go.logistic();
            auto Cn = blk(cnext, b0, b1, 0, H, H);
            Cn = Gf * blk(cprev, b0, b1, 0, H, H) + Gi * Gg;
            Hn = Go * Cn.tanh();
            break;
          }
          case RnnMode::GRU: {
            auto Gr = blk(gs, b0, b1, 0, H, GH), Gz = blk(gs, b0, b1, 1, H, GH), Gn = blk(gs, b0, b1, 2, H, GH);
            auto Ex = blk(extra + s * B * H, b0, b1, 0, H, H);
            // recurrent parts with b_hh: r and z add them, n keeps W_hn h + b_hn apart (r gates it)
            if (bhh) {
              for (int k = 0; k < 3; ++k)
                blk(hp, b0, b1, k, H, GH).rowwise() +=
                    Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>(bhh + k * H, H);
            }
            Gr = (Gr + blk(hp, b0, b1, 0, H, GH)).logistic();
            Gz = (Gz + blk(hp, b0, b1, 1, H, GH)).logistic();
            Ex = blk(hp, b0, b1, 2, H, GH);
            Gn = (Gn + Gr * Ex).tanh();
            Hn = (T(1) - Gz) * Gn + Gz * blk(hprev, b0, b1, 0, H, H);
            break;
          }
        }
        blk(o, b0, b1, 0, H, H) = Hn;
        if (a.lengths) {  // finished sequences carry their state and output zeros
          for (int64_t b = b0; b < b1; ++b) {
            if (active(t, b)) continue;
            std::memcpy(hnext + b * H, hprev + b * H, H * sizeof(T));
            if (cs) std::memcpy(cnext + b * H, cprev + b * H, H * sizeof(T));
            std::memset(o + b * H, 0, H * sizeof(T));
          }
        }
      }
    });
  }

  void backward(const T* gout, const T* ghn, const T* gcn, T* dx, T* dh0, T* dc0, T* dwih, T* dwhh, T* dbih, T* dbhh) {
    const int64_t GH = G * H;
    const T* hs = static_cast<const T*>(a.hs);
    const T* cs = static_cast<const T*>(a.cs);
    const T* gates = static_cast<const T*>(a.gates);
    const T* extra = static_cast<const T*>(a.extra);
    CMapM<T> Wih(static_cast<const T*>(a.w_ih), GH, I), Whh(static_cast<const T*>(a.w_hh), GH, H);

    std::vector<T> dh(B * H, T(0)), dc(B * H, T(0)), direct(B * H, T(0));
    if (ghn) std::memcpy(dh.data(), ghn, B * H * sizeof(T));
    if (gcn && a.mode == RnnMode::LSTM) std::memcpy(dc.data(), gcn, B * H * sizeof(T));
    // Pre-activation gradients: time-ordered for the input side, step-ordered for the
    // recurrent side. They are the same numbers except for GRU's n gate, so a forward
    // RNN/LSTM shares one buffer.
    const bool shared = a.mode != RnnMode::GRU && !a.reverse;
    Scratch<T> dxp(static_cast<size_t>(T_ * B * GH)), dhp_own(shared ? 1 : static_cast<size_t>(T_ * B * GH));
    T* dhp = shared ? dxp.data() : dhp_own.data();
    const StepWeight<T> whh_step(Whh.data(), GH, H, H, 1);

    parallel_for(B, row_grain(), [&](int64_t b0, int64_t b1) {  // rows are independent, as in forward
      for (int64_t s = T_ - 1; s >= 0; --s) {
        const int64_t t = time_of(s);
        const T* hp_all = hs + s * B * H;
        const T* hn_all = hs + (s + 1) * B * H;
        T* gs = const_cast<T*>(gates + s * B * GH);
        T* dX = dxp.data() + t * B * GH;
        T* dHp = dhp + s * B * GH;
        auto dH = blk(dh.data(), b0, b1, 0, H, H);
        if (gout) dH += blk(const_cast<T*>(gout + t * B * H), b0, b1, 0, H, H);
        auto Dir = blk(direct.data(), b0, b1, 0, H, H);
        // A finished sequence's cell gradient passes through its padded steps unchanged.
        std::vector<T> keep_dc;
        if (a.lengths && a.mode == RnnMode::LSTM)
          for (int64_t b = b0; b < b1; ++b)
            if (!active(t, b)) keep_dc.insert(keep_dc.end(), dc.begin() + b * H, dc.begin() + (b + 1) * H);
        switch (a.mode) {
          case RnnMode::Tanh:
          case RnnMode::Relu: {
            auto Hn = blk(const_cast<T*>(hn_all), b0, b1, 0, H, H);
            auto D = blk(dX, b0, b1, 0, H, H);
            if (a.mode == RnnMode::Tanh) D = dH * (T(1) - Hn * Hn);
            else D = (Hn > T(0)).select(dH, T(0));
            Dir.setZero();
            break;
          }
          case RnnMode::LSTM: {
            auto Gi = blk(gs, b0, b1, 0, H, GH), Gf = blk(gs, b0, b1, 1, H, GH);
            auto Gg = blk(gs, b0, b1, 2, H, GH), Go = blk(gs, b0, b1, 3, H, GH);
            auto Cp = blk(const_cast<T*>(cs + s * B * H), b0, b1, 0, H, H);
            auto Cn = blk(const_cast<T*>(cs + (s + 1) * B * H), b0, b1, 0, H, H);
            auto dC = blk(dc.data(), b0, b1, 0, H, H);
            Arr<T> tc = Cn.tanh();
            Arr<T> dCt = dC + dH * Go * (T(1) - tc * tc);
            blk(dX, b0, b1, 0, H, GH) = dCt * Gg * Gi * (T(1) - Gi);
            blk(dX, b0, b1, 1, H, GH) = dCt * Cp * Gf * (T(1) - Gf);
            blk(dX, b0, b1, 2, H, GH) = dCt * Gi * (T(1) - Gg * Gg);
            blk(dX, b0, b1, 3, H, GH) = dH * tc * Go * (T(1) - Go);
            dC = dCt * Gf;
            Dir.setZero();
            break;
          }
          case RnnMode::GRU: {
            auto Gr = blk(gs, b0, b1, 0, H, GH), Gz = blk(gs, b0, b1, 1, H, GH), Gn = blk(gs, b0, b1, 2, H, GH);
            auto Ex = blk(const_cast<T*>(extra + s * B * H), b0, b1, 0, H, H);
            auto Hp = blk(const_cast<T*>(hp_all), b0, b1, 0, H, H);
            Arr<T> dn = dH * (T(1) - Gz) * (T(1) - Gn * Gn);
            Arr<T> dr = dn * Ex * Gr * (T(1) - Gr);
            Arr<T> dz = dH * (Hp - Gn) * Gz * (T(1) - Gz);
            blk(dX, b0, b1, 0, H, GH) = dr;
            blk(dX, b0, b1, 1, H, GH) = dz;
            blk(dX, b0, b1, 2, H, GH) = dn;
            blk(dHp, b0, b1, 0, H, GH) = dr;
            blk(dHp, b0, b1, 1, H, GH) = dz;
            blk(dHp, b0, b1, 2, H, GH) = dn * Gr;
            Dir = dH * Gz;
            break;
          }
        }
        if (!shared && a.mode != RnnMode::GRU) blk(dHp, b0, b1, 0, GH, GH) = blk(dX, b0, b1, 0, GH, GH);
        if (a.lengths) {  // steps past a sequence's end: gradients pass through unchanged
          size_t kept = 0;
          for (int64_t b = b0; b < b1; ++b) {
            if (active(t, b)) continue;
            if (!keep_dc.empty()) {
              std::memcpy(dc.data() + b * H, keep_dc.data() + kept, H * sizeof(T));
              kept += H;
            }
            if (gout) for (int64_t j = 0; j < H; ++j) dh[b * H + j] -= gout[t * B * H + b * H + j];
            std::memset(dX + b * GH, 0, GH * sizeof(T));
            std::memset(dHp + b * GH, 0, GH * sizeof(T));
            std::memcpy(direct.data() + b * H, dh.data() + b * H, H * sizeof(T));
          }
        }
        // dh_prev = dHp (rows,GH) x W_hh (GH,H) + the direct path
        whh_step(b1 - b0, dHp + b0 * GH, GH, dh.data() + b0 * H, H);
        MapM<T>(dh.data() + b0 * H, b1 - b0, H) += MapM<T>(direct.data() + b0 * H, b1 - b0, H);
      }
    });
    if (dh0) std::memcpy(dh0, dh.data(), B * H * sizeof(T));
    if (dc0) {
      if (a.mode == RnnMode::LSTM) std::memcpy(dc0, dc.data(), B * H * sizeof(T));
      else std::memset(dc0, 0, B * H * sizeof(T));
    }
    CMapM<T> DXp(dxp.data(), T_ * B, GH), DHp(dhp, T_ * B, GH);
    // (T*B,GH)^T x (T*B,I) -> (GH,I);  (T*B,GH) x (GH,I) -> (T*B,I)
    if (dwih) gemm_any<T>(GH, I, T_ * B, DXp.data(), 1, GH, static_cast<const T*>(a.x), I, 1, dwih, I, false);
    if (dx) gemm_any<T>(T_ * B, I, GH, DXp.data(), GH, 1, Wih.data(), I, 1, dx, I, false);
    if (dwhh) gemm_any<T>(GH, H, T_ * B, DHp.data(), 1, GH, hs, H, 1, dwhh, H, false);
    if (dbih) Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(dbih, GH) = DXp.colwise().sum();
    if (dbhh) Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(dbhh, GH) = DHp.colwise().sum();
  }
};

}  // namespace

void rnn_forward(DType dt, const RnnArgs& a) {
  if (dt == DType::Float32) Layer<float>(a).forward();
  else if (dt == DType::Float64) Layer<double>(a).forward();
  else throw TypeError(str("[rnn] expected float32 or float64, got ", dtype_name(dt)));
}

void rnn_backward(DType dt, const RnnArgs& a, const void* grad_out, const void* grad_hn, const void* grad_cn, void* dx,
                  void* dh0, void* dc0, void* dw_ih, void* dw_hh, void* db_ih, void* db_hh) {
  if (dt == DType::Float32)
    Layer<float>(a).backward(static_cast<const float*>(grad_out), static_cast<const float*>(grad_hn),
                             static_cast<const float*>(grad_cn), static_cast<float*>(dx), static_cast<float*>(dh0),
                             static_cast<float*>(dc0), static_cast<float*>(dw_ih), static_cast<float*>(dw_hh),
                             static_cast<float*>(db_ih), static_cast<float*>(db_hh));
  else if (dt == DType::Float64)
    Layer<double>(a).backward(static_cast<const double*>(grad_out), static_cast<const double*>(grad_hn),
                              static_cast<const double*>(grad_cn), static_cast<double*>(dx), static_cast<double*>(dh0),
                              static_cast<double*>(dc0), static_cast<double*>(dw_ih), static_cast<double*>(dw_hh),
                              static_cast<double*>(db_ih), static_cast<double*>(db_hh));
  else throw TypeError(str("[rnn] expected float32 or float64, got ", dtype_name(dt)));
}

}  // namespace pydl::kernels::PYDL_ISA_NS
