// CRC-32C with the SSE4.2 crc32 instruction. Swift cannot emit it, so this is the package's one small
// C target for a CPU instruction; the Swift slicing-by-16 code stays as the fallback and test oracle.
#include "ccrc32c.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int ccrc32c_hw_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

static const uint32_t poly = 0x82F63B78u;

// a·b mod P, reflected bit order (bit 31 is x^0).
static uint32_t multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
        if (a & m) product ^= b;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
    }
    return product;
}

// x^(8·bytes) mod P by repeated squaring.
static uint32_t shift_factor(size_t bytes) {
    uint32_t result = 1u << 31, square = 1u << 23;  // x^0 and x^8
    while (bytes != 0) {
        if (bytes & 1) result = multiply(result, square);
        square = multiply(square, square);
        bytes >>= 1;
    }
    return result;
}

__attribute__((target("sse4.2")))
static uint64_t run(uint64_t c, const unsigned char *p, size_t count) {
    while (count >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        count--;
    }
    return c;
}

// crc32 has a latency of 3 cycles and a throughput of 1 per cycle, so one dependency chain uses a third
// of the unit. Large buffers run three chains over three thirds, joined as the Swift code joins halves:
// R(r, A‖B) = R(r, A)·x^(8|B|) ⊕ R(0, B).
__attribute__((target("sse4.2")))
uint32_t ccrc32c_hw_update(uint32_t crc, const void *data, size_t count) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t a = (uint32_t)~crc;
    if (count >= 16384) {  // below this the join (~2k cycles) costs more than it saves
        size_t third = (count / 24) * 8;
        const unsigned char *pb = p + third, *pc = p + 2 * third;
        uint64_t b = 0, c = 0;
        for (size_t i = 0; i < third; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, p + i, 8); memcpy(&wb, pb + i, 8); memcpy(&wc, pc + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        uint32_t shift = shift_factor(third);
        uint32_t joined = multiply((uint32_t)a, shift) ^ (uint32_t)b;
        joined = multiply(joined, shift) ^ (uint32_t)c;
        a = joined;
        p += 3 * third;
        count -= 3 * third;
    }
    return ~(uint32_t)run(a, p, count);
}

#else

int ccrc32c_hw_available(void) { return 0; }

uint32_t ccrc32c_hw_update(uint32_t crc, const void *data, size_t count) {
    (void)data; (void)count;
    return crc;
}

#endif
