/*
 * xl-domain-shim: LD_PRELOAD library, used with xs-nohv-shim.so and xl-nohv-shim.so, that lets
 * Xen 4.17's real `xl` run the non-dry-run paths that only need a domain to exist (block-attach
 * and the saved configuration it reads and rewrites under libxl's userdata lock), so a test can
 * check that colo-xl and xl share /var/lib/xen/userdata-* and its lock.
 *
 *   xc_domain_getinfolist  domain N exists, as a running HVM guest, when $XS_SHIM_DIR/uuid-N
 *                          holds its UUID (36 characters), which becomes the domain handle
 *                          libxl names the userdata files after.
 *   xc_flask_sid_to_context  no XSM here: fails, so libxl leaves the domain's label empty.
 *   flock                  the real call; then, when $XL_SHIM_HOLD_DIR is set and the lock just
 *                          taken is a domain-userdata-lock, creates $XL_SHIM_HOLD_DIR/held and
 *                          returns only once $XL_SHIM_HOLD_DIR/release exists (at most 60 s):
 *                          xl holds libxl's real lock for as long as the test wants.
 *
 * Build: gcc -shared -fPIC -O2 -o xl-domain-shim.so xl-domain-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenctrl.h>

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads $XS_SHIM_DIR/uuid-<domid> into the 16-byte handle; 0 when the domain is not staged. */
static int staged_uuid(uint32_t domid, uint8_t handle[16])
{
    const char *dir = getenv("XS_SHIM_DIR");
    char path[512], text[64];
    snprintf(path, sizeof(path), "%s/uuid-%u", dir && *dir ? dir : "/tmp", domid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    int byte = 0;
    for (const char *p = text; *p && byte < 16; p++) {
        if (*p == '-')
            continue;
        int hi = hex_nibble(p[0]), lo = p[1] ? hex_nibble(p[1]) : -1;
        if (hi < 0 || lo < 0)
            return 0;
        handle[byte++] = (uint8_t)(hi << 4 | lo);
        p++;
    }
    return byte == 16;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
                          xc_domaininfo_t *info)
{
    (void)xch;
    if (max_domains == 0)
        return 0;
    memset(info, 0, sizeof(*info));
    if (!staged_uuid(first_domain, info->handle))
        return 0;
    info->domain = (domid_t)first_domain;
    info->flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_running;
    info->max_vcpu_id = 0;
    info->nr_online_vcpus = 1;
    return 1;
}

int xc_flask_sid_to_context(xc_interface *xc_handle, int sid, char *buf, uint32_t size)
{
    (void)xc_handle, (void)sid, (void)buf, (void)size;
    errno = ENOSYS;
    return -1;
}

/* Whether fd is open on a file whose name ends in "domain-userdata-lock". */
static int is_userdata_lock(int fd)
{
    char link[64], target[1024];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    const char *suffix = "domain-userdata-lock";
    size_t s = strlen(suffix);
    return (size_t)n >= s && strcmp(target + n - s, suffix) == 0;
}

int flock(int fd, int operation)
{
    int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
    int r = real(fd, operation);
    const char *hold = getenv("XL_SHIM_HOLD_DIR");
    if (r != 0 || !hold || !*hold || !(operation & LOCK_EX) || !is_userdata_lock(fd))
        return r;
    char held[512], release[512];
    snprintf(held, sizeof(held), "%s/held", hold);
    snprintf(release, sizeof(release), "%s/release", hold);
    int h = open(held, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (h >= 0)
        close(h);
    struct stat st;
    for (int i = 0; i < 6000 && stat(release, &st) != 0; i++)
        usleep(10000);
    return r;
}
