#pragma once
// Explicit instantiations for float and double of every template of a family's list X(name)
// (PYDL_NN_*_FNS, PYDL_ATTENTION_FNS, PYDL_RESAMPLE_FNS), from the declarations in scope: a CPU kernel
// file and its CUDA mirror instantiate the same list (template decltype(f<float>) f<float>; ...).
#define PYDL_INSTANTIATE_FLOATING(FNS) FNS(PYDL_INSTANTIATE_FLOAT) FNS(PYDL_INSTANTIATE_DOUBLE)
#define PYDL_INSTANTIATE_FLOAT(name) template decltype(name<float>) name<float>;
#define PYDL_INSTANTIATE_DOUBLE(name) template decltype(name<double>) name<double>;
