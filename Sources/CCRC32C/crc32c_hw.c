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

enum { stripe = 2048 };  // bytes per stream per round
static uint32_t stripe_shift;  // x^(8·stripe) mod P

__attribute__((constructor))
static void init_stripe_shift(void) { stripe_shift = shift_factor(stripe); }

// crc32 has a latency of 3 cycles and a throughput of 1 per cycle, so one dependency chain uses a third
// of the unit. Rounds of three stripes run three chains, joined as the Swift code joins halves:
// R(r, A‖B) = R(r, A)·x^(8|B|) ⊕ R(0, B), with the factor for one stripe computed once.
__attribute__((target("sse4.2")))
uint32_t ccrc32c_hw_update(uint32_t crc, const void *data, size_t count) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t a = (uint32_t)~crc;
    while (count >= 3 * stripe) {
        uint64_t b = 0, c = 0;
        for (size_t i = 0; i < stripe; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, p + i, 8); memcpy(&wb, p + stripe + i, 8); memcpy(&wc, p + 2 * stripe + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        uint32_t joined = multiply((uint32_t)a, stripe_shift) ^ (uint32_t)b;
        a = multiply(joined, stripe_shift) ^ (uint32_t)c;
        p += 3 * stripe;
        count -= 3 * stripe;
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
