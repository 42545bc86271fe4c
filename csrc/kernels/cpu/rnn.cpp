#include "kernels/cpu/rnn.h"

#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/threads.h"

namespace pydl::kernels {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MapM = Eigen::Map<Mat<T>>;
template <typename T>
using CMapM = Eigen::Map<const Mat<T>>;

template <typename T>
inline T sigm(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <typename T>
struct Layer {
  const RnnArgs& a;
  int64_t T_, B, I, H, G;
  Layer(const RnnArgs& args) : a(args), T_(args.T), B(args.B), I(args.I), H(args.H), G(rnn_gates(args.mode)) {}
  int64_t time_of(int64_t s) const { return a.reverse ? T_ - 1 - s : s; }
  bool active(int64_t t, int64_t b) const { return !a.lengths || t < a.lengths[b]; }

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

    // Input projection of every step at once: (T*B, I) x (G*H, I)^T -> (T*B, G*H)
    std::vector<T> xp_buf(static_cast<size_t>(T_ * B * GH));
    MapM<T> Xp(xp_buf.data(), T_ * B, GH);
    Xp.noalias() = CMapM<T>(x, T_ * B, I) * Wih.transpose();
    // Biases: RNN/LSTM add both here; GRU keeps b_hh with the recurrent part (r gates it).
    std::vector<T> bias(GH, T(0));
    for (int64_t k = 0; k < GH; ++k) {
      if (bih) bias[k] += bih[k];
      if (bhh && a.mode != RnnMode::GRU) bias[k] += bhh[k];
    }
    std::vector<T> hp_buf(static_cast<size_t>(B * GH));
    MapM<T> Hp(hp_buf.data(), B, GH);

    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = time_of(s);
      const T* hprev = hs + s * B * H;
      T* hnext = hs + (s + 1) * B * H;
      Hp.noalias() = CMapM<T>(hprev, B, H) * Whh.transpose();  // (B,H) x (GH,H)^T -> (B,GH)
      const T* xp = xp_buf.data() + t * B * GH;
      T* gs = gates + s * B * GH;
      T* o = out + t * B * H;
      parallel_for(B, std::max<int64_t>(1, 4096 / std::max<int64_t>(H * G, 1)), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          const bool on = active(t, b);
          const T* xr = xp + b * GH;
          const T* hr = hp_buf.data() + b * GH;
          T* g = gs + b * GH;
          const T* hp = hprev + b * H;
          T* hn = hnext + b * H;
          T* orow = o + b * H;
          if (!on) {
            std::memcpy(hn, hp, H * sizeof(T));
            if (a.mode == RnnMode::LSTM) std::memcpy(cs + (s + 1) * B * H + b * H, cs + s * B * H + b * H, H * sizeof(T));
            std::memset(orow, 0, H * sizeof(T));
            continue;
          }
          switch (a.mode) {
            case RnnMode::Tanh:
            case RnnMode::Relu:
              for (int64_t j = 0; j < H; ++j) {
                T v = xr[j] + hr[j] + bias[j];
                v = a.mode == RnnMode::Tanh ? std::tanh(v) : (v > 0 ? v : T(0));
                hn[j] = v;
                orow[j] = v;
              }
              break;
            case RnnMode::LSTM: {
              const T* cp = cs + s * B * H + b * H;
              T* cn = cs + (s + 1) * B * H + b * H;
              for (int64_t j = 0; j < H; ++j) {
                T i = sigm(xr[j] + hr[j] + bias[j]);
                T f = sigm(xr[H + j] + hr[H + j] + bias[H + j]);
                T gg = std::tanh(xr[2 * H + j] + hr[2 * H + j] + bias[2 * H + j]);
                T oo = sigm(xr[3 * H + j] + hr[3 * H + j] + bias[3 * H + j]);
                T c = f * cp[j] + i * gg;
                g[j] = i; g[H + j] = f; g[2 * H + j] = gg; g[3 * H + j] = oo;
                cn[j] = c;
                hn[j] = oo * std::tanh(c);
                orow[j] = hn[j];
              }
              break;
            }
            case RnnMode::GRU: {
              T* ex = extra + s * B * H + b * H;
              for (int64_t j = 0; j < H; ++j) {
                T hr_r = hr[j] + (bhh ? bhh[j] : T(0));
                T hr_z = hr[H + j] + (bhh ? bhh[H + j] : T(0));
                T hr_n = hr[2 * H + j] + (bhh ? bhh[2 * H + j] : T(0));
                T r = sigm(xr[j] + bias[j] + hr_r);
                T z = sigm(xr[H + j] + bias[H + j] + hr_z);
                T n = std::tanh(xr[2 * H + j] + bias[2 * H + j] + r * hr_n);
                g[j] = r; g[H + j] = z; g[2 * H + j] = n;
                ex[j] = hr_n;
                hn[j] = (T(1) - z) * n + z * hp[j];
                orow[j] = hn[j];
              }
              break;
            }
          }
        }
      });
    }
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
    // Pre-activation gradients: time-ordered for the input side, step-ordered for the recurrent side.
    std::vector<T> dxp(static_cast<size_t>(T_ * B * GH)), dhp(static_cast<size_t>(T_ * B * GH));
    MapM<T> DH(dh.data(), B, H);

    for (int64_t s = T_ - 1; s >= 0; --s) {
      const int64_t t = time_of(s);
      const T* hp_all = hs + s * B * H;
      const T* hn_all = hs + (s + 1) * B * H;
      const T* gs = gates + s * B * GH;
      T* dX = dxp.data() + t * B * GH;
      T* dHp = dhp.data() + s * B * GH;
      parallel_for(B, std::max<int64_t>(1, 4096 / std::max<int64_t>(H * G, 1)), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          T* dhb = dh.data() + b * H;
          T* dcb = dc.data() + b * H;
          T* dirb = direct.data() + b * H;
          T* dxr = dX + b * GH;
          T* dhr = dHp + b * GH;
          if (!active(t, b)) {  // state carried through: gradients pass unchanged
            std::memset(dxr, 0, GH * sizeof(T));
            std::memset(dhr, 0, GH * sizeof(T));
            std::memcpy(dirb, dhb, H * sizeof(T));
            continue;
          }
          if (gout) {
            const T* go = gout + t * B * H + b * H;
            for (int64_t j = 0; j < H; ++j) dhb[j] += go[j];
          }
          const T* g = gs + b * GH;
          switch (a.mode) {
            case RnnMode::Tanh:
            case RnnMode::Relu: {
              const T* h = hn_all + b * H;
              for (int64_t j = 0; j < H; ++j) {
                T d = a.mode == RnnMode::Tanh ? dhb[j] * (T(1) - h[j] * h[j]) : (h[j] > 0 ? dhb[j] : T(0));
                dxr[j] = d; dhr[j] = d; dirb[j] = 0;
              }
              break;
            }
            case RnnMode::LSTM: {
              const T* cp = cs + s * B * H + b * H;
              const T* cn = cs + (s + 1) * B * H + b * H;
              for (int64_t j = 0; j < H; ++j) {
                T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
                T tc = std::tanh(cn[j]);
                T dO = dhb[j] * tc;
                T dC = dcb[j] + dhb[j] * o * (T(1) - tc * tc);
                T di = dC * gg * i * (T(1) - i);
                T df = dC * cp[j] * f * (T(1) - f);
                T dg = dC * i * (T(1) - gg * gg);
                T dop = dO * o * (T(1) - o);
                dxr[j] = di; dxr[H + j] = df; dxr[2 * H + j] = dg; dxr[3 * H + j] = dop;
                dhr[j] = di; dhr[H + j] = df; dhr[2 * H + j] = dg; dhr[3 * H + j] = dop;
                dcb[j] = dC * f;
                dirb[j] = 0;
              }
              break;
            }
            case RnnMode::GRU: {
              const T* hp = hp_all + b * H;
              const T* ex = extra + s * B * H + b * H;
              for (int64_t j = 0; j < H; ++j) {
                T r = g[j], z = g[H + j], n = g[2 * H + j];
                T dn = dhb[j] * (T(1) - z) * (T(1) - n * n);
                T dz = dhb[j] * (hp[j] - n) * z * (T(1) - z);
                T dr = dn * ex[j] * r * (T(1) - r);
                dxr[j] = dr; dxr[H + j] = dz; dxr[2 * H + j] = dn;
                dhr[j] = dr; dhr[H + j] = dz; dhr[2 * H + j] = dn * r;
                dirb[j] = dhb[j] * z;
              }
              break;
            }
          }
        }
      });
      // dh_prev = dHp (B,GH) x W_hh (GH,H) + the direct path
      DH.noalias() = CMapM<T>(dHp, B, GH) * Whh;
      for (int64_t k = 0; k < B * H; ++k) dh[k] += direct[k];
    }
    if (dh0) std::memcpy(dh0, dh.data(), B * H * sizeof(T));
    if (dc0) {
      if (a.mode == RnnMode::LSTM) std::memcpy(dc0, dc.data(), B * H * sizeof(T));
      else std::memset(dc0, 0, B * H * sizeof(T));
    }
    CMapM<T> DXp(dxp.data(), T_ * B, GH), DHp(dhp.data(), T_ * B, GH);
    // (T*B,GH)^T x (T*B,I) -> (GH,I);  (T*B,GH) x (GH,I) -> (T*B,I)
    if (dwih) MapM<T>(dwih, GH, I).noalias() = DXp.transpose() * CMapM<T>(static_cast<const T*>(a.x), T_ * B, I);
    if (dx) MapM<T>(dx, T_ * B, I).noalias() = DXp * Wih;
    if (dwhh) MapM<T>(dwhh, GH, H).noalias() = DHp.transpose() * CMapM<T>(hs, T_ * B, H);
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

}  // namespace pydl::kernels
