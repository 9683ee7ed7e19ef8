// The Fuzz program's C entry point (see main.c).
#pragma once
int coordkafka_fuzz_replay(int argc, char **argv);
