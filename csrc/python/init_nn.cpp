// Bindings for the nn ops (pydl._C.<name>).
#include "python/bind.h"

namespace pydl {

void init_nn(py::module_& m) { (void)m; }

}  // namespace pydl
