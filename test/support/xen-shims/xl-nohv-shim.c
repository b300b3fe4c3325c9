/*
 * xl-nohv-shim: LD_PRELOAD library (used together with xs-nohv-shim.so) that lets Xen 4.17's
 * real `xl` get through libxl_ctx_alloc() and the physinfo/version queries of its dry-run
 * paths (`xl -N create`, `xl -N block-attach`) on a machine without a hypervisor.
 *
 * It answers the libxenctrl calls those paths make with a small, fixed host: Xen 4.17,
 * x86_64 with HVM and PV, 2 CPUs on 1 NUMA node, 4 GiB of RAM (half free), 4 KiB pages.
 * Xenstore is not faked: point XENSTORED_PATH at a running (shimmed) xenstored.
 * Anything that would really build a domain still fails, which is intended.
 *
 * Build: gcc -shared -fPIC -O2 -o xl-nohv-shim.so xl-nohv-shim.c
 */
#define _GNU_SOURCE
#include <string.h>
#include <xenctrl.h>
#include <xen/version.h>

#define FAKE_CPUS 2
#define FAKE_MEM_BYTES (4ULL << 30)
#define FAKE_FREE_BYTES (2ULL << 30)
#define PAGE_BYTES 4096ULL

static int put_text(void *dst, const char *text)
{
    strcpy((char *)dst, text);
    return 0;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
    (void)xch;
    if (cmd == XENVER_version)
        return (4 << 16) | 17;
    if (cmd == XENVER_pagesize)
        return (int)PAGE_BYTES;
    if (cmd == XENVER_extraversion)
        return put_text(arg, ".0-nohv");
    if (cmd == XENVER_changeset)
        return put_text(arg, "nohv");
    if (cmd == XENVER_capabilities)
        return put_text(arg, "xen-3.0-x86_64 hvm-3.0-x86_64");
    if (cmd == XENVER_commandline)
        return put_text(arg, "");
    if (cmd == XENVER_compile_info) {
        xen_compile_info_t *ci = arg;
        memset(ci, 0, sizeof(*ci));
        strcpy(ci->compiler, "none");
        return 0;
    }
    if (cmd == XENVER_platform_parameters) {
        memset(arg, 0, sizeof(xen_platform_parameters_t));
        return 0;
    }
    /* build id and anything newer: report "not available" */
    return -1;
}

int xc_get_max_cpus(xc_interface *xch) { (void)xch; return FAKE_CPUS; }
int xc_get_online_cpus(xc_interface *xch) { (void)xch; return FAKE_CPUS; }
int xc_get_max_nodes(xc_interface *xch) { (void)xch; return 1; }

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
    (void)xch;
    memset(info, 0, sizeof(*info));
    info->nr_cpus = FAKE_CPUS;
    info->max_cpu_id = FAKE_CPUS - 1;
    info->threads_per_core = 1;
    info->cores_per_socket = FAKE_CPUS;
    info->nr_nodes = 1;
    info->max_node_id = 0;
    info->cpu_khz = 2000000;
    info->total_pages = FAKE_MEM_BYTES / PAGE_BYTES;
    info->free_pages = FAKE_FREE_BYTES / PAGE_BYTES;
    info->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv;
    return 0;
}

/* libxl_get_physinfo asks for the shared/paged page counts through memory ops: none. */
long xc_memory_op(xc_interface *xch, unsigned int cmd, void *arg, size_t len)
{
    (void)xch; (void)cmd; (void)arg; (void)len;
    return 0;
}
