// zlib for gzip record-batch compression (Debian package zlib1g-dev).
#include <zlib.h>
