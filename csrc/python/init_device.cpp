// Devices: Tensor.device's parts, moving tensors, pinned memory, and the pydl.cuda queries.
#include "ops/device.h"
#include "python/bind.h"

namespace pydl {

namespace {
Device parse_device(const std::string& type, int index) {
  if (type == "cpu") return Device{};
  PYDL_CHECK(type == "cuda", RuntimeError, "[to] device type ", type, " is not available: pydl runs on cpu and cuda");
  return Device{DeviceType::CUDA, index < 0 ? 0 : index};
}
}  // namespace

void init_device(py::module_& m) {
  m.def("_device_of", [](const Tensor& t) {
        Device d = t->device();
        return py::make_tuple(d.is_cpu() ? "cpu" : "cuda", d.is_cpu() ? py::object(py::none()) : py::object(py::int_(d.index)));
      }, "(type, index) of the device a tensor lives on (index None for the CPU).");
  m.def("to_device", [](const Tensor& t, const std::string& type, int index, bool non_blocking) {
        Device d = parse_device(type, index);
        py::gil_scoped_release nogil;
        return to_device(t, d, non_blocking);
      }, py::arg("t"), py::arg("type"), py::arg("index") = -1, py::arg("non_blocking") = false,
      "The tensor on device type:index (a differentiable copy; itself when already there).");
  m.def("check_device", [](const std::string& type, int index, const std::string& op) {
        std::string spelled = index < 0 ? type : type + ":" + std::to_string(index);
        check_device_available(parse_device(type, index), op.c_str(), spelled.c_str());
      }, "RuntimeError naming op unless the device can hold tensors here.");
  m.def("pin_memory", &pin_memory, py::call_guard<py::gil_scoped_release>(), "A copy of a CPU tensor in pinned memory.");
  m.def("is_pinned", [](const Tensor& t) { return t->storage->pinned; });
  m.def("cuda_device_count", &cuda_device_count, "Visible CUDA devices (0 without a GPU or without a CUDA build).");
  m.def("cuda_self_test", &cuda_self_test, "Runs a trivial kernel on the GPU; False without one (or without CUDA).");
  m.def("cuda_synchronize", &cuda_synchronize, py::arg("index") = -1, py::call_guard<py::gil_scoped_release>(),
        "Waits for the queued work of a CUDA device (-1: all).");
  m.def("cuda_memory_allocated", &cuda_memory_allocated, py::arg("index") = 0, "Bytes held by tensors on a CUDA device.");
  m.def("cuda_memory_reserved", &cuda_memory_reserved, py::arg("index") = 0,
        "Bytes held by the caching allocator on a CUDA device (in use and cached).");
  m.def("cuda_empty_cache", &cuda_empty_cache, "Frees the CUDA caching allocator's unused blocks.");
  m.def("cublas_library", &cublas_library, "Path of the cuBLAS library in use ('' when none is loaded or found).");
  m.def("add_cublas_search_dir", &add_cublas_search_dir, "Adds a directory to search for libcublas.");
}

}  // namespace pydl
