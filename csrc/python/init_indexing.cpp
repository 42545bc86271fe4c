// Tensor indexing: x[...] and x[...] = v (filled in by the indexing work).
#include "python/bind.h"

namespace pydl {

void init_indexing(py::module_& m) { (void)m; }

}  // namespace pydl
