// zlib from Debian's zlib1g-dev (scripts/install-deps installs it).
#include <zlib.h>

// inflateInit2 is a macro (it passes the header's version and z_stream size
// so the library can check them); Swift cannot call macros, so this wraps
// it. windowBits -15: a raw deflate stream, no zlib or gzip wrapper.
static inline int nn_inflate_init_raw(z_streamp stream) {
    return inflateInit2(stream, -15);
}
