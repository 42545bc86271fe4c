// Binding-layer reliability: op-named errors for badly typed arguments, and a GIL release
// that survives interpreter exit.
#include <unistd.h>

#include <cctype>
#include <cstring>

#include "python/bind.h"

namespace pydl {

NoGil::~NoGil() noexcept(false) {
#if PY_VERSION_HEX >= 0x030D0000
  const bool finalizing = Py_IsFinalizing();
#else
  const bool finalizing = _Py_IsFinalizing();
#endif
  // The process is exiting and will never give this (daemon) thread the GIL back.
  if (finalizing)
    for (;;) pause();
  PyEval_RestoreThread(state_);
}

namespace {

using FastCall = PyObject* (*)(PyObject*, PyObject* const*, Py_ssize_t, PyObject*);
FastCall g_pybind_dispatch = nullptr;

// Asks pydl._errors (plain Python: it only runs on a failed call) to explain a call that
// matched no overload; falls back to prefixing pybind11's own text with the op name.
PyObject* explain_bad_call(PyObject* message, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* tuple = PyTuple_New(nargs);
  if (!tuple) return nullptr;
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(tuple, i, args[i]);
  }
  PyObject* kwargs = PyDict_New();
  if (kwnames && kwargs)
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i)
      PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]);
  PyObject* text = nullptr;
  PyObject* mod = PyImport_ImportModule("pydl._errors");
  if (mod && kwargs) {
    text = PyObject_CallMethod(mod, "describe_bad_call", "OOO", message, tuple, kwargs);
    if (text && !PyUnicode_Check(text)) Py_CLEAR(text);
  }
  PyErr_Clear();
  Py_XDECREF(mod);
  Py_XDECREF(kwargs);
  Py_DECREF(tuple);
  if (!text) {
    const char* m = PyUnicode_AsUTF8(message);
    const char* paren = m ? std::strchr(m, '(') : nullptr;
    std::string name = paren ? std::string(m, paren) : "call";
    text = PyUnicode_FromString(("[" + name + "] " + (m ? m : "invalid arguments")).c_str());
  }
  return text;
}

// Exceptions of these plain types that leave a bound function without an "[op]" prefix (a
// NumPy error passed through, a Python protocol message) get the function's name in front.
// "[op] ..." (not a message that merely starts with a list, "[1, 2] is not ...").
bool has_op_prefix(const char* m) {
  if (m[0] != '[') return false;
  const char* p = m + 1;
  while (*p && (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_' || *p == '.')) ++p;
  return p > m + 1 && *p == ']';
}

bool prefixable(PyObject* type) {
  for (PyObject* t : {PyExc_TypeError, PyExc_ValueError, PyExc_IndexError, PyExc_RuntimeError, PyExc_MemoryError,
                      PyExc_OverflowError, PyExc_ZeroDivisionError, PyExc_NotImplementedError, PyExc_BufferError})
    if (type == t) return true;
  return false;
}

PyObject* dispatch_with_arg_errors(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* result = g_pybind_dispatch(self, args, nargs, kwnames);
  if (result || !PyErr_Occurred()) return result;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject* message = value ? PyObject_Str(value) : nullptr;
  const char* m = message ? PyUnicode_AsUTF8(message) : nullptr;
  if (!m || type != PyExc_TypeError || !std::strstr(m, "(): incompatible function arguments")) {
    if (m && !has_op_prefix(m) && prefixable(type)) {
      const char* name = reinterpret_cast<py::detail::function_record_PyObject*>(self)->cpp_func_rec->name;
      PyErr_Clear();
      PyErr_Format(type, "[%s] %s", name, m);
      Py_DECREF(message);
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
      return nullptr;
    }
    PyErr_Clear();
    Py_XDECREF(message);
    PyErr_Restore(type, value, tb);
    return nullptr;
  }
  PyObject* text = explain_bad_call(message, args, nargs & ~PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames);
  Py_DECREF(message);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  if (text) {
    PyErr_SetObject(PyExc_TypeError, text);
    Py_DECREF(text);
  }
  return nullptr;
}

void patch(PyObject* f) {
  if (!f || !PyCFunction_Check(f)) return;
  PyMethodDef* def = reinterpret_cast<PyCFunctionObject*>(f)->m_ml;
  if (reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(def->ml_meth)) == g_pybind_dispatch)
    def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(dispatch_with_arg_errors));
}

void patch_attr(const py::handle& v) {
  PyObject* o = v.ptr();
  if (PyCFunction_Check(o)) return patch(o);
  if (PyInstanceMethod_Check(o)) return patch(PyInstanceMethod_GET_FUNCTION(o));
  if (PyObject_TypeCheck(o, &PyProperty_Type) || PyObject_TypeCheck(o, &PyStaticMethod_Type)) {
    for (const char* a : {"fget", "fset", "__func__"})
      if (py::hasattr(v, a)) patch(py::getattr(v, a).ptr());
  }
}

}  // namespace

void install_arg_errors(py::module_& m) {
  // Every pybind11 function shares one dispatcher: take it from any of them.
  py::object probe = m.attr("get_num_threads");
  g_pybind_dispatch =
      reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(reinterpret_cast<PyCFunctionObject*>(probe.ptr())->m_ml->ml_meth));
  for (auto item : py::reinterpret_borrow<py::dict>(m.attr("__dict__"))) {
    py::handle v = item.second;
    patch_attr(v);
    if (PyType_Check(v.ptr()))
      for (auto member : py::reinterpret_borrow<py::dict>(reinterpret_cast<PyTypeObject*>(v.ptr())->tp_dict))
        patch_attr(member.second);
  }
}

}  // namespace pydl
