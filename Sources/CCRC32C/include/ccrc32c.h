#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SSE4.2 crc32 instruction (x86-64 only), else 0.
int ccrc32c_hw_available(void);

/// Continues a CRC-32C (Castagnoli) checksum with the crc32 instruction; `crc` is the previous result
/// (0 to start). Call only when ccrc32c_hw_available() returned 1.
uint32_t ccrc32c_hw_update(uint32_t crc, const void *data, size_t count);

#endif
