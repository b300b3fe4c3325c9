/*
 * xs-nohv-shim.c -- LD_PRELOAD library for colo-xl's tests.
 *
 * Xen 4.17's C xenstored refuses to start without a hypervisor: it opens the
 * privileged command interface (libxenctrl), grant tables (libxengnttab) and
 * event channels (libxenevtchn), and maps dom0's ring through
 * /proc/xen/xsd_kva.  This library answers all of those locally so that the
 * real daemon serves its unix socket and nothing else, which makes it an
 * oracle the differential tests can compare the embedded server against.
 *
 * What each fake does:
 *   libxenctrl    a non-NULL handle; every domid queried exists and runs,
 *                 except ids listed in $XS_SHIM_DIR/dead-domids (one per line),
 *                 which lets a test make a domain disappear.
 *   libxengnttab  mapping domain N's grant maps the file $XS_SHIM_DIR/ring-N
 *                 (created and sized to one page on first use) MAP_SHARED, so
 *                 another process mapping the same file plays the guest's
 *                 side of the ring (test/support/xen-shims/xs-ring-client.c).
 *   libxenevtchn  the event fd is the read end of the FIFO $XS_SHIM_DIR/evtchn:
 *                 a guest "notifies" by writing its 4-byte local port into it.
 *                 Bound ports are counted up from 10; binding domain N's
 *                 channel records the local port in $XS_SHIM_DIR/port-N, the
 *                 VIRQ's in $XS_SHIM_DIR/port-virq (writing that one makes the
 *                 daemon re-check which domains are gone).  Notifications from
 *                 the daemon go nowhere: guests poll their ring indexes.
 *   /proc/xen/xsd_port, /proc/xen/xsd_kva
 *                 redirected to files under $XS_SHIM_DIR ("1" and a zeroed
 *                 page), so dom0's ring is an ordinary file mapping.
 *
 * Environment: XS_SHIM_DIR (default: /tmp), XS_SHIM_TRACE=1 logs each call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

typedef int (*open_fn)(const char *, int, ...);

static struct {
    int trace;
    char dir[400];
    int evtchn_fd;
    evtchn_port_t port_counter;
    char handle_storage[32];
} shim = { .evtchn_fd = -1, .port_counter = 10 };

#define TRACE(...) \
    do { if (shim.trace) fprintf(stderr, "xs-nohv-shim: " __VA_ARGS__); } while (0)

__attribute__((constructor)) static void shim_setup(void)
{
    const char *d = getenv("XS_SHIM_DIR");
    snprintf(shim.dir, sizeof(shim.dir), "%s", d && *d ? d : "/tmp");
    shim.trace = getenv("XS_SHIM_TRACE") != NULL;
}

static open_fn next_open(const char *name)
{
    return (open_fn)dlsym(RTLD_NEXT, name);
}

/* Writes the stand-in for a /proc/xen file once and returns its path. */
static const char *stand_in(const char *proc_path, char *buf, size_t len)
{
    const int is_port = strcmp(proc_path, "/proc/xen/xsd_port") == 0;
    snprintf(buf, len, "%s/shim-%s.%d", shim.dir, is_port ? "xsd_port" : "xsd_kva", (int)getpid());
    struct stat st;
    if (stat(buf, &st) == 0)
        return buf;
    int fd = next_open("open")(buf, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0)
        return NULL;
    int ok = is_port ? write(fd, "1\n", 2) == 2 : ftruncate(fd, sysconf(_SC_PAGESIZE)) == 0;
    close(fd);
    return ok ? buf : NULL;
}

static int redirect_open(const char *which, const char *path, int flags, va_list ap)
{
    mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
    char buf[512];
    if (strcmp(path, "/proc/xen/xsd_port") == 0 || strcmp(path, "/proc/xen/xsd_kva") == 0) {
        const char *p = stand_in(path, buf, sizeof(buf));
        TRACE("%s(%s) -> %s\n", which, path, p ? p : "(failed)");
        if (!p) {
            errno = ENOENT;
            return -1;
        }
        path = p;
    }
    return next_open(which)(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int r = redirect_open("open", path, flags, ap);
    va_end(ap);
    return r;
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int r = redirect_open("open64", path, flags, ap);
    va_end(ap);
    return r;
}

/* A domid listed in $XS_SHIM_DIR/dead-domids is reported as gone. */
static int domid_is_dead(uint32_t domid)
{
    char path[512], line[32];
    snprintf(path, sizeof(path), "%s/dead-domids", shim.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int dead = 0;
    while (!dead && fgets(line, sizeof(line), f))
        dead = strtoul(line, NULL, 10) == domid && line[0] >= '0' && line[0] <= '9';
    fclose(f);
    return dead;
}

/* ---- libxenctrl ---------------------------------------------------------- */

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    (void)logger, (void)dombuild_logger, (void)open_flags;
    TRACE("xc_interface_open\n");
    return (xc_interface *)shim.handle_storage;
}

int xc_interface_close(xc_interface *xch)
{
    (void)xch;
    return 0;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
                      xc_dominfo_t *info)
{
    (void)xch;
    if (max_doms == 0)
        return 0;
    if (domid_is_dead(first_domid)) {
        TRACE("xc_domain_getinfo(%u) -> gone\n", first_domid);
        return 0;
    }
    memset(info, 0, sizeof(*info));
    info->domid = first_domid;
    info->running = 1;
    TRACE("xc_domain_getinfo(%u) -> running\n", first_domid);
    return 1;
}

/* ---- libxengnttab -------------------------------------------------------- */

xengnttab_handle *xengnttab_open(xentoollog_logger *logger, unsigned open_flags)
{
    (void)logger, (void)open_flags;
    return (xengnttab_handle *)shim.handle_storage;
}

int xengnttab_close(xengnttab_handle *xgt)
{
    (void)xgt;
    return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
    (void)xgt, (void)nr_grants;
    return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
    (void)xgt;
    char path[512];
    snprintf(path, sizeof(path), "%s/ring-%u", shim.dir, domid);
    const long page_size = sysconf(_SC_PAGESIZE);
    void *page = MAP_FAILED;
    int fd = next_open("open")(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && ftruncate(fd, page_size) == 0)
        page = mmap(NULL, page_size, prot ? prot : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    TRACE("xengnttab_map_grant_ref(dom%u, ref %u) -> %s at %p\n", domid, ref, path, page);
    return page == MAP_FAILED ? NULL : page;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
    (void)xgt;
    return munmap(start_address, (size_t)count * sysconf(_SC_PAGESIZE));
}

/* ---- libxenevtchn -------------------------------------------------------- */

/*
 * The FIFO is opened read-write so that it never reports end-of-file when no
 * guest holds it open, and non-blocking so a spurious wake-up cannot hang the
 * daemon in xenevtchn_pending().
 */
static xenevtchn_handle *evtchn_handle(void)
{
    if (shim.evtchn_fd < 0) {
        char path[512];
        snprintf(path, sizeof(path), "%s/evtchn", shim.dir);
        if (mkfifo(path, 0600) != 0 && errno != EEXIST)
            return NULL;
        shim.evtchn_fd = next_open("open")(path, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
        if (shim.evtchn_fd < 0)
            return NULL;
    }
    return (xenevtchn_handle *)shim.handle_storage;
}

/* Publishes a bound port under $XS_SHIM_DIR/port-<what>, atomically for readers. */
static void publish_port(const char *what, evtchn_port_t port)
{
    char path[512], partial[540], text[16];
    snprintf(path, sizeof(path), "%s/port-%s", shim.dir, what);
    snprintf(partial, sizeof(partial), "%s.tmp", path);
    int fd = next_open("open")(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int n = snprintf(text, sizeof(text), "%u\n", port);
    int ok = write(fd, text, n) == n;
    close(fd);
    if (ok)
        rename(partial, path);
}

xenevtchn_handle *xenevtchn_open(xentoollog_logger *logger, unsigned open_flags)
{
    (void)logger, (void)open_flags;
    return evtchn_handle();
}

xenevtchn_handle *xenevtchn_fdopen(xentoollog_logger *logger, int fd, unsigned open_flags)
{
    (void)logger, (void)fd, (void)open_flags;
    return evtchn_handle();
}

int xenevtchn_close(xenevtchn_handle *xce)
{
    (void)xce;
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
    (void)xce;
    return shim.evtchn_fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    (void)xce, (void)port;
    return 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
    (void)xce;
    evtchn_port_t port = shim.port_counter++;
    TRACE("xenevtchn_bind_virq(%u) -> %u\n", virq, port);
    publish_port("virq", port);
    return port;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
                                                     evtchn_port_t remote_port)
{
    (void)xce;
    evtchn_port_t port = shim.port_counter++;
    char what[16];
    snprintf(what, sizeof(what), "%u", domid);
    TRACE("xenevtchn_bind_interdomain(dom%u, %u) -> %u\n", domid, remote_port, port);
    publish_port(what, port);
    return port;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    (void)xce, (void)port;
    return 0;
}

/*
 * xenstored scans every domain's ring after any event, so which port fired
 * matters only for the VIRQ.  With nothing to read (another wake-up consumed
 * it) the answer is port 0, which is bound to nothing: the daemon treats -1 as
 * fatal.
 */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
    (void)xce;
    uint32_t port = 0;
    if (read(shim.evtchn_fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
        port = 0;
    TRACE("xenevtchn_pending -> %u\n", port);
    return port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    (void)xce, (void)port;
    return 0;
}
