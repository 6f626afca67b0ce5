/*
 * extract_pdf.c -- the page text of a PDF, read by poppler (poppler-glib,
 * Debian libpoppler-glib-dev) in a child process the stage can kill.
 *
 * Why a child: poppler is a large C++ renderer with a history of hangs and
 * crashes on hostile files, and it takes no work budget -- a crafted page
 * can keep it busy for as long as it likes.  So the scan stage never runs
 * it in its own process: sl_xi_pdf_pages() forks, the child opens the PDF
 * from the bytes it inherited, and writes each page's text to a pipe as a
 * frame (page number, length, UTF-8 text: 4 + 4 bytes big-endian, then the
 * text), ending with a frame for page 0.  The parent reads the pipe until
 * that end frame, the deadline (limits.pdf_timeout_ms, wall clock) or the
 * byte cap, then SIGKILLs what is left and reaps it.  The child also runs
 * under RLIMIT_CPU (the deadline, rounded up) and, outside sanitizer
 * builds, RLIMIT_AS (1 GiB) so that even an orphaned child cannot spin or
 * balloon.  A child that fails, crashes or times out sets SL_XF_PDF_FAILED
 * with the reason in `detail`: the caller flags the sample (its text was
 * not read) rather than accept it unread.
 *
 * Work: the PDF's bytes are charged once, each page's text as it is read
 * (bytes) plus one step per page; at most limits.pdf_max_pages pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <poppler.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extract_int.h"

#define PDF_CHILD_MEMORY ((rlim_t)1 << 30)

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int frame(int fd, uint32_t page, const char *text, size_t len)
{
    uint8_t h[8] = {
        (uint8_t)(page >> 24), (uint8_t)(page >> 16), (uint8_t)(page >> 8), (uint8_t)page,
        (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
    };

    return write_all(fd, h, 8) == 0 && (len == 0 || write_all(fd, text, len) == 0) ? 0 : -1;
}

/* The child: never returns. */
static void child(int fd, const uint8_t *p, size_t n, uint32_t max_pages,
                  uint32_t timeout_ms, size_t max_text)
{
    struct rlimit rl;
    GBytes *bytes;
    GError *err = NULL;
    PopplerDocument *doc;
    int pages, devnull;

    signal(SIGPIPE, SIG_IGN);
    /* poppler reports syntax errors on stderr: not into the stage's log */
    if ((devnull = open("/dev/null", O_WRONLY)) >= 0) {
        dup2(devnull, 2);
        close(devnull);
    }
    rl.rlim_cur = timeout_ms / 1000 + 1;
    rl.rlim_max = rl.rlim_cur + 1;
    (void)setrlimit(RLIMIT_CPU, &rl);
#if !defined(__SANITIZE_ADDRESS__)
    rl.rlim_cur = rl.rlim_max = PDF_CHILD_MEMORY;
    (void)setrlimit(RLIMIT_AS, &rl);
#endif
    bytes = g_bytes_new_static(p, n);
    doc = poppler_document_new_from_bytes(bytes, NULL, &err);
    if (!doc)
        _exit(err && err->code == POPPLER_ERROR_ENCRYPTED ? 3 : 2);
    pages = poppler_document_get_n_pages(doc);
    for (int i = 0; i < pages && (uint32_t)i < max_pages; i++) {
        PopplerPage *pg = poppler_document_get_page(doc, i);
        char *t = pg ? poppler_page_get_text(pg) : NULL;
        size_t len = t ? strlen(t) : 0;

        if (len > max_text)
            len = max_text;
        if (frame(fd, (uint32_t)i + 1, t, len) != 0)
            _exit(4);
        g_free(t);
        if (pg)
            g_object_unref(pg);
    }
    _exit(frame(fd, 0, NULL, 0) == 0 ? 0 : 4);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Emits the complete frames of got[0..len); 1 when the end frame came. */
static int emit_frames(sl_extract *x, const uint8_t *got, size_t len, int *rc)
{
    size_t i = 0;

    while (*rc == SL_OK && len - i >= 8 && !sl_xi_stopped(x)) {
        uint32_t page = be32(got + i), tl = be32(got + i + 4);
        char name[16];

        if (page == 0)
            return 1;
        if (tl > len - i - 8)
            break;                      /* cut by the cap or the deadline */
        if (!sl_xi_charge(x, tl, 1))
            break;
        snprintf(name, sizeof(name), "%u", page);
        *rc = sl_xi_emit(x, "pdf:page:", name, got + i + 8, tl, SL_XI_UTF8,
                         SL_XMAP_MEMBER, 0, x->in.len);
        i += 8 + tl;
    }
    return 0;
}

int sl_xi_pdf_pages(sl_extract *x, const uint8_t *p, size_t n)
{
    uint32_t timeout = x->lim.pdf_timeout_ms;
    size_t cap = x->max_bytes + 8 * ((size_t)x->lim.pdf_max_pages + 1);
    int fds[2], status = 0, rc = SL_OK, done, timed_out = 0, full = 0;
    int64_t deadline;
    sl_buf got;
    pid_t pid;

    if (timeout == 0 || x->lim.pdf_max_pages == 0 || sl_xi_stopped(x))
        return 0;
    if (!sl_xi_charge(x, n, 1))
        return 0;
    /* one deadline for all the sample's PDFs (a zip of a thousand PDFs
     * gets the same time as one) */
    if (x->pdf_deadline_ms == 0)
        x->pdf_deadline_ms = now_ms() + timeout;
    if (now_ms() >= x->pdf_deadline_ms) {
        x->flags |= SL_XF_PDF_FAILED;
        snprintf(x->detail, sizeof(x->detail), "page text: the sample's PDFs took "
                 "more than %u ms (scan.pdf.timeout.ms)", timeout);
        return 0;
    }
    if (pipe(fds) != 0) {
        x->flags |= SL_XF_PDF_FAILED;
        snprintf(x->detail, sizeof(x->detail), "page text: pipe: %s", strerror(errno));
        return 0;
    }
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], p, n, x->lim.pdf_max_pages, timeout, x->max_bytes);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        x->flags |= SL_XF_PDF_FAILED;
        snprintf(x->detail, sizeof(x->detail), "page text: fork: %s", strerror(errno));
        return 0;
    }
    sl_buf_init(&got, cap);
    deadline = x->pdf_deadline_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd pf = { .fd = fds[0], .events = POLLIN };
        ssize_t k;

        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(&pf, 1, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!pf.revents)
            continue;
        if (got.len == cap) {
            full = 1;
            break;
        }
        if (sl_buf_reserve(&got, cap - got.len < 65536 ? cap - got.len : 65536) != SL_OK) {
            rc = SL_ENOMEM;
            break;
        }
        k = read(fds[0], got.data + got.len, got.max - got.len < 65536 ?
                 got.max - got.len : 65536);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got.len += (size_t)k;
    }
    close(fds[0]);
    kill(pid, SIGKILL);                 /* gone already, or cut off now */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    done = emit_frames(x, got.data, got.len, &rc);
    sl_buf_free(&got);
    if (rc != SL_OK)
        return -1;
    if (full)
        x->flags |= SL_XF_TRUNCATED;
    if (done || full || sl_xi_stopped(x))
        return 1;
    x->flags |= SL_XF_PDF_FAILED;
    if (timed_out)
        snprintf(x->detail, sizeof(x->detail), "page text: poppler did not finish "
                 "within %u ms (scan.pdf.timeout.ms)", timeout);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
        snprintf(x->detail, sizeof(x->detail), "page text: the PDF is encrypted");
    else if (WIFEXITED(status))
        snprintf(x->detail, sizeof(x->detail), "page text: poppler could not read "
                 "the PDF (exit %d)", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(x->detail, sizeof(x->detail), "page text: poppler died of signal %d",
                 WTERMSIG(status));
    return 0;
}
