// Linux headers that Swift's Glibc module does not export: epoll, eventfd, sendfile, spawn actions.
// Part of glibc itself, so nothing needs installing.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>

// posix_spawn file actions glibc (2.34+) declares only under _GNU_SOURCE, which Swift's Glibc
// module is not built with; used to spawn children without Foundation's Process.
#include <spawn.h>
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);


// Thread names (for top -H and /proc/PID/task/*/comm), also _GNU_SOURCE only.
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
