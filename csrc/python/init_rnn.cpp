// Bindings for the rnn ops (pydl._C.<name>).
#include "python/bind.h"

namespace pydl {

void init_rnn(py::module_& m) { (void)m; }

}  // namespace pydl
