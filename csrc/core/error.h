#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdint>

namespace pydl {

// Each maps to the Python exception of the same name (see csrc/python/module.cpp).
struct ValueError : std::runtime_error { using std::runtime_error::runtime_error; };
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct IndexError : std::runtime_error { using std::runtime_error::runtime_error; };
struct RuntimeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct MemoryError : std::runtime_error { using std::runtime_error::runtime_error; };

/// "(64, 784)" — shapes printed the way Python prints tuples.
inline std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  if (s.size() == 1) os << ",";
  os << ")";
  return os.str();
}

namespace detail {
inline void cat_to(std::ostringstream&) {}
template <typename T, typename... R>
void cat_to(std::ostringstream& os, const T& v, const R&... r) { os << v; cat_to(os, r...); }
}  // namespace detail

/// Concatenates its arguments with operator<< into a string.
template <typename... A>
std::string str(const A&... a) { std::ostringstream os; detail::cat_to(os, a...); return os.str(); }

}  // namespace pydl

// PYDL_CHECK(cond, ErrorType, parts...) throws ErrorType(str(parts...)) when cond is false.
#define PYDL_CHECK(COND, ERR, ...) \
  do { if (!(COND)) throw ::pydl::ERR(::pydl::str(__VA_ARGS__)); } while (0)
