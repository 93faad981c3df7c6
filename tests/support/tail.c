/* tail.c: rectify-tail as a child process with its output on pipes. */
#include "tail.h"
#include "cluster.h"

#include <criterion/criterion.h>
#include <unistd.h>

pid_t tail_start(const char *const *args, int *out_fd, int *err_fd)
{
    int out[2], err[2] = {-1, -1};
    cr_assert_eq(pipe(out), 0);
    cr_assert(!err_fd || pipe(err) == 0);
    pid_t test_pid = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        cluster_child_dies_with_test(test_pid);
        dup2(out[1], STDOUT_FILENO);
        if (err_fd)
            dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        if (err_fd) {
            close(err[0]);
            close(err[1]);
        }
        const char *argv[32];
        int n = 0;
        argv[n++] = RECTIFY_BIN_DIR "/rectify-tail";
        for (int i = 0; args[i] && n < 31; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    *out_fd = out[0];
    if (err_fd) {
        close(err[1]);
        *err_fd = err[0];
    }
    return pid;
}

size_t tail_read(int fd, char *out, size_t outlen)
{
    size_t n = 0;
    ssize_t got;
    while (n < outlen - 1 && (got = read(fd, out + n, outlen - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fd);
    return n;
}
