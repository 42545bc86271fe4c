// The extension module pydl._C: exception translation, then each init_* in turn.
#include "core/allocator.h"
#include "core/threads.h"
#include "ops/device.h"
#include "python/bind.h"

namespace pydl {

static void register_exceptions() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "[alloc] out of memory");
    } catch (const std::length_error& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
}

}  // namespace pydl

PYBIND11_MODULE(_C, m) {
  using namespace pydl;
  m.doc() = "pydl's compiled core";
  register_exceptions();
  init_tensor(m);
  init_tensor_methods(m);  // every C++ method of Tensor
  init_ops(m);
  init_autograd(m);
  init_indexing(m);
  init_nn(m);
  init_optim(m);
  init_rnn(m);
  init_breadth(m);
  init_attention(m);
  init_resample(m);
  init_device(m);

  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Sets the number of threads used by kernels.");
  m.def("get_num_threads", &requested_num_threads, "Number of threads kernels may use (set_num_threads); fewer run while other processes keep CPUs busy.");
  m.def("_active_threads", &get_num_threads, "Threads the next kernel runs on (the load-following team size).");
  m.def("empty_cache", &empty_cache, "Returns cached memory blocks to the system.");
  m.def("cached_bytes", &cached_bytes, "Bytes held by the allocator's cache.");
  py::dict cfg;
  cfg["compiler"] = PYDL_COMPILER;
  cfg["arch"] = PYDL_ARCH_NAME;
  cfg["eigen"] = eigen_version();
  cfg["cuda"] = built_with_cuda();
  cfg["openmp"] = _OPENMP;
  m.attr("build_config") = cfg;
  init_engine(m);  // after build_config: adds the ISA level in use
  install_arg_errors(m);  // last: it covers every function bound above
}
