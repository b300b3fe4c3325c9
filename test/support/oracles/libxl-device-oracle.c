/*
 * An oracle for colo-xl's device-layer ports: Xen 4.17's own libxl__device_disk_dev_number,
 * libxl__devid_to_vdev and libxl__device_disk_set_backend, taken from libxenlight.a's
 * libxl_device.o and linked with this file. Their helpers that live elsewhere in libxl (the
 * allocator, the logger, the Linux phy check) are provided here; everything else the object
 * references is never reached and aborts if it is.
 *
 * Usage (one JSON line per argument):
 *   libxl-device-oracle devnum <vdev>...      devid without and with disk/partition wanted
 *   libxl-device-oracle vdev <devid>...       libxl__devid_to_vdev
 *   libxl-device-oracle backend <spec>...     xlu_disk_parse, then set_backend (the logged
 *                                             messages and the chosen backend or rc)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxl.h>
#include <libxlutil.h>

int libxl__device_disk_dev_number(const char *virtpath, int *pdisk, int *ppartition);
char *libxl__devid_to_vdev(void *gc, int devid);
int libxl__device_disk_set_backend(void *gc, libxl_device_disk *disk);

/* The gc is only passed through to these; none of them needs a real one. */
void *libxl__zalloc(void *gc, size_t n) { (void)gc; return calloc(1, n); }
void *libxl__malloc(void *gc, size_t n) { (void)gc; return malloc(n); }
void *libxl__realloc(void *gc, void *p, size_t n) { (void)gc; return realloc(p, n); }
char *libxl__strdup(void *gc, const char *s) { (void)gc; return s ? strdup(s) : NULL; }
char *libxl__sprintf(void *gc, const char *fmt, ...) {
    char *s; va_list ap; (void)gc;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return s;
}
/* libxl_linux.c */
int libxl__try_phy_backend(mode_t st_mode) { return S_ISBLK(st_mode) || S_ISREG(st_mode); }

static char logbuf[8192];
static size_t loglen;
void libxl__log(void *ctx, int level, int errnoval, const char *file, int line,
                const char *func, uint32_t domid, const char *fmt, ...) {
    va_list ap; (void)ctx; (void)file; (void)line; (void)func; (void)domid;
    if (level < 6 /* XTL_WARN */) return; /* debug and info messages are not the user's */
    va_start(ap, fmt);
    loglen += vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
    va_end(ap);
    if (errnoval >= 0 && loglen < sizeof(logbuf))
        loglen += snprintf(logbuf + loglen, sizeof(logbuf) - loglen, ": %s", strerror(errnoval));
    if (loglen < sizeof(logbuf) - 1) logbuf[loglen++] = '\n';
    logbuf[loglen] = 0;
}

#define STUB(f) void f(void); void f(void) { fprintf(stderr, "oracle: %s reached\n", #f); abort(); }
STUB(flexarray_append_pair) STUB(flexarray_make) STUB(libxl__ao_complete) STUB(libxl__ao_create)
STUB(libxl__ao_create_fail) STUB(libxl__ao_inprogress) STUB(libxl__ao_inprogress_gc)
STUB(libxl__async_exec_init) STUB(libxl__async_exec_inuse) STUB(libxl__async_exec_start)
STUB(libxl__destroy_qdisk_backend) STUB(libxl__device_action_to_string)
STUB(libxl__device_kind_from_string) STUB(libxl__device_kind_to_string) STUB(libxl__dm_check_start)
STUB(libxl__egc_ao_cleanup_1_baton) STUB(libxl__egc_cleanup_2_ul_cb_gc) STUB(libxl__ev_devstate_wait)
STUB(libxl__ev_qmp_init) STUB(libxl__ev_time_deregister) STUB(libxl__ev_time_register_rel)
STUB(libxl__ev_xswatch_register) STUB(libxl__get_domain_configuration) STUB(libxl__get_domid)
STUB(libxl__get_hotplug_script_info) STUB(libxl__initiate_device_usbctrl_remove)
STUB(libxl__lock_domain_userdata) STUB(libxl__nested_ao_create) STUB(libxl__nested_ao_free)
STUB(libxl__set_domain_configuration) STUB(libxl__spawn_qdisk_backend) STUB(libxl__unlock_file)
STUB(libxl__xenstore_child_wait_deprecated) STUB(libxl__xs_directory) STUB(libxl__xs_get_dompath)
STUB(libxl__xs_kvs_of_flexarray) STUB(libxl__xs_libxl_path) STUB(libxl__xs_path_cleanup)
STUB(libxl__xs_read) STUB(libxl__xs_read_checked) STUB(libxl__xs_rm_checked)
STUB(libxl__xs_transaction_abort) STUB(libxl__xs_transaction_commit) STUB(libxl__xs_transaction_start)
STUB(libxl__xs_write_checked) STUB(libxl__xs_writev) STUB(libxl__xs_writev_perms) STUB(libxl__xswait_init)
STUB(libxl__xswait_start) STUB(libxl__xswait_stop)

static void json_str(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    static char fake_gc[256];
    if (argc < 2) return 2;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[1], "devnum")) {
            int disk = -99, part = -99;
            int plain = libxl__device_disk_dev_number(argv[i], NULL, NULL);
            int split = libxl__device_disk_dev_number(argv[i], &disk, &part);
            printf("{\"vdev\":"); json_str(argv[i]);
            printf(",\"devid\":%d,\"devidSplit\":%d,\"disk\":%d,\"partition\":%d}\n", plain, split, disk, part);
        } else if (!strcmp(argv[1], "vdev")) {
            printf("{\"devid\":%s,\"vdev\":", argv[i]);
            json_str(libxl__devid_to_vdev(fake_gc, atoi(argv[i])));
            printf("}\n");
        } else if (!strcmp(argv[1], "backend")) {
            libxl_device_disk disk;
            XLU_Config *cfg = xlu_cfg_init(stderr, "oracle");
            const char *spec = argv[i];
            libxl_device_disk_init(&disk);
            printf("{\"spec\":"); json_str(spec);
            if (xlu_disk_parse(cfg, 1, &spec, &disk)) {
                printf(",\"parse\":false}\n");
            } else {
                /* what libxl__device_disk_setdefault does before it picks the backend */
                libxl_defbool_setdefault(&disk.discard_enable, !!disk.readwrite);
                libxl_defbool_setdefault(&disk.colo_enable, false);
                libxl_defbool_setdefault(&disk.colo_restore_enable, false);
                libxl_defbool_setdefault(&disk.trusted, true);
                loglen = 0; logbuf[0] = 0;
                int rc = libxl__device_disk_set_backend(fake_gc, &disk);
                printf(",\"rc\":%d,\"backend\":\"%s\",\"log\":", rc, libxl_disk_backend_to_string(disk.backend));
                json_str(logbuf);
                printf("}\n");
            }
            libxl_device_disk_dispose(&disk);
            xlu_cfg_destroy(cfg);
        } else {
            return 2;
        }
    }
    return 0;
}
