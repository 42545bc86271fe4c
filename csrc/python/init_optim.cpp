// Bindings for the optim ops (pydl._C.<name>).
#include "python/bind.h"

namespace pydl {

void init_optim(py::module_& m) { (void)m; }

}  // namespace pydl
