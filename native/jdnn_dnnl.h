/* The one header jextract reads: oneDNN's C API plus its debug helpers (status2str & co). */
#include "oneapi/dnnl/dnnl.h"
#include "oneapi/dnnl/dnnl_debug.h"
