#pragma once

namespace pydl {

/// Whether ops record autograd history on this thread (pydl.no_grad turns it off).
struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

/// RAII guard that sets grad mode and restores the previous one.
struct AutoGradMode {
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  bool prev_;
};

}  // namespace pydl
