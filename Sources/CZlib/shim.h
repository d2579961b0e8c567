// zlib from Debian's zlib1g-dev (scripts/install-deps installs it).
#include <zlib.h>
