// Linux headers that Swift's Glibc module does not export: epoll, eventfd, sendfile.
// Part of glibc itself, so nothing needs installing.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
