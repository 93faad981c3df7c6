/* tail.h: rectify-tail run as a process by a test, its output read back. */
#ifndef RECTIFY_TEST_TAIL_H
#define RECTIFY_TEST_TAIL_H

#include <stddef.h>
#include <sys/types.h>

/* Starts rectify-tail with args (NULL-terminated). Its stdout is read from
 * *out_fd, its stderr from *err_fd (err_fd may be NULL: stderr is the
 * test's). Both are pipes the caller reads with tail_read. */
pid_t tail_start(const char *const *args, int *out_fd, int *err_fd);
/* Reads everything until the tail closes fd (up to outlen - 1 bytes), closes
 * fd, NUL-terminates out and returns the length. */
size_t tail_read(int fd, char *out, size_t outlen);

#endif
