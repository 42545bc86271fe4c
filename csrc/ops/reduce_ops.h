#pragma once
// The reductions, one line each: X(name, form), the form being the op's arguments after the input:
//   Dims:        (IntList dims (empty = all), bool keepdim)
//   DimsDtype:   (dims, keepdim, optional dtype: the input is first converted to it, as torch's dtype=)
//   OptDim:      (optional<int64_t> dim (none = all), bool keepdim)
//   OptDimDtype: (dim, keepdim, dtype)
//   Correction:  (dims, double correction (subtracted from the count), keepdim)
// Generates the declarations (ops.h), the bindings pydl._C.<name> (python/init_ops.cpp, keywords by form)
// and pydl._C._reductions, from which pydl and Tensor take their functional forms and methods
// (pydl/_functional.py parses torch's arguments by form). The definitions are in reduce.cpp.
#define PYDL_REDUCE_OPS(X) \
  X(sum, DimsDtype)        \
  X(mean, DimsDtype)       \
  X(prod, OptDimDtype)     \
  X(amax, Dims)            \
  X(amin, Dims)            \
  X(argmax, OptDim)        \
  X(argmin, OptDim)        \
  X(var, Correction)       \
  X(std, Correction)       \
  X(logsumexp, Dims)

#define PYDL_REDUCE_PARAMS_Dims IntList dims, bool keepdim
#define PYDL_REDUCE_PARAMS_DimsDtype IntList dims, bool keepdim, std::optional<DType> dtype
#define PYDL_REDUCE_PARAMS_OptDim std::optional<int64_t> dim, bool keepdim
#define PYDL_REDUCE_PARAMS_OptDimDtype std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype
#define PYDL_REDUCE_PARAMS_Correction IntList dims, double correction, bool keepdim
