/*
 * launch.c -- sluice-launch: run a service as an unprivileged user, started
 * by root (deploy/stack.sh's supervisor, the integration tests).
 *
 * The binary is opened while still root and executed through that
 * descriptor (fexecve) after the switch, so the user needs neither a path
 * to the build directory (a clone under a 0700 directory stays 0700: no
 * parent's permissions are widened, nothing is copied) nor any file of its
 * own: the service's secrets reach it as descriptors its root parent
 * opened (SLUICE_CONFIG=/dev/fd/N, passfile=/dev/fd/M), so files of other
 * services stay out of its reach.  Supplementary groups are reset to the
 * user's, the real, effective and saved ids all change, the switch is
 * checked to be irreversible, and no_new_privs is set: nothing the service
 * executes can gain privileges again.
 *
 * usage: sluice-launch USER BIN [ARG...]
 * Exits 127 with a message on stderr if the switch or the exec fails.
 */
#define _GNU_SOURCE 1   /* setresuid, setresgid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "sluice-launch: %s%s%s: %s\n", what, arg ? " " : "",
            arg ? arg : "", strerror(errno));
    return 127;
}

int main(int argc, char **argv)
{
    const struct passwd *pw;
    int fd;

    if (argc < 3) {
        fprintf(stderr, "usage: sluice-launch USER BIN [ARG...]\n");
        return 2;
    }
    errno = 0;
    if (!(pw = getpwnam(argv[1]))) {
        if (!errno)
            errno = ENOENT;
        return fail("no such user", argv[1]);
    }
    if (pw->pw_uid == 0 || pw->pw_gid == 0) {
        errno = EPERM;
        return fail("refusing to run as a root user or group:", argv[1]);
    }
    if ((fd = open(argv[2], O_RDONLY | O_CLOEXEC)) < 0)
        return fail("cannot open", argv[2]);
    if (initgroups(pw->pw_name, pw->pw_gid) != 0)
        return fail("initgroups", pw->pw_name);
    if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0)
        return fail("setresgid", pw->pw_name);
    if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
        return fail("setresuid", pw->pw_name);
    if (setuid(0) == 0 || geteuid() == 0) {
        errno = EPERM;
        return fail("the switch to the user could be undone:", pw->pw_name);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail("prctl(PR_SET_NO_NEW_PRIVS)", NULL);
    fexecve(fd, argv + 2, environ);
    return fail("cannot execute", argv[2]);
}
