// A weak main: in a --sanitize=fuzzer build libFuzzer's own main replaces it and calls
// LLVMFuzzerInitialize / LLVMFuzzerTestOneInput (Sources/Fuzz); in any other build it replays
// corpus files through the chosen target.
#include "CFuzzMain.h"

__attribute__((weak)) int main(int argc, char **argv) { return coordkafka_fuzz_replay(argc, argv); }
