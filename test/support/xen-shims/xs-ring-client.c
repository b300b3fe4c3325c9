/*
 * xs-ring-client.c -- plays a guest domain's side of its xenstore ring, for
 * colo-xl's tests against the real C xenstored running under xs-nohv-shim.c.
 *
 * Under the shim, domain N's ring page is the file $XS_SHIM_DIR/ring-N and
 * its event channel is "write the 4-byte local port into $XS_SHIM_DIR/evtchn".
 * The daemon serves whatever it finds in the ring as a request from domain N
 * (unprivileged, permissions checked against N), which a unix-socket
 * connection can never be: the daemon always treats those as dom0.
 *
 * Usage:
 *   xs-ring-client RING EVTCHN PORT
 *       Bridge: raw xenstore packets read from stdin go into the request ring;
 *       whatever the daemon puts in the response ring (replies and watch
 *       events) comes out on stdout, byte for byte.  Ends at end of stdin.
 *   xs-ring-client RING EVTCHN PORT read|directory PATH
 *   xs-ring-client RING EVTCHN PORT write PATH VALUE
 *       One request; prints the value (directory: one entry a line) or the
 *       error name the daemon gave, e.g. "EACCES", and exits 1 for an error.
 *
 * The daemon never signals us (the shim drops its notifications), so the
 * response ring is polled, every millisecond while busy and backing off to
 * every 20 ms when idle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

/* ---- the ring, as a guest sees it -------------------------------------- */

struct xs_ring {
    volatile struct xenstore_domain_interface *intf;
    int evtchn_fd;
    uint32_t port;
};

static int xs_ring_open(struct xs_ring *r, const char *ring_path, const char *evtchn_path,
                        uint32_t port)
{
    int fd = open(ring_path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (page == MAP_FAILED)
        return -1;
    r->intf = page;
    r->port = port;
    r->evtchn_fd = open(evtchn_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    return r->evtchn_fd < 0 ? -1 : 0;
}

/* One 4-byte write into a FIFO is atomic, so concurrent guests never mix ports. */
static void xs_ring_notify(struct xs_ring *r)
{
    if (write(r->evtchn_fd, &r->port, sizeof(r->port)) < 0 && errno != EAGAIN)
        perror("xs-ring-client: notify");
}

/* Copies up to len bytes into the request ring; returns how many fitted. */
static size_t xs_ring_put(struct xs_ring *r, const char *data, size_t len)
{
    XENSTORE_RING_IDX cons = r->intf->req_cons, prod = r->intf->req_prod;
    __sync_synchronize();
    size_t done = 0;
    while (done < len && prod - cons < XENSTORE_RING_SIZE) {
        size_t chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
        size_t space = XENSTORE_RING_SIZE - (prod - cons);
        if (chunk > space)
            chunk = space;
        if (chunk > len - done)
            chunk = len - done;
        memcpy((char *)r->intf->req + MASK_XENSTORE_IDX(prod), data + done, chunk);
        prod += chunk;
        done += chunk;
    }
    __sync_synchronize();
    r->intf->req_prod = prod;
    return done;
}

/* Takes up to len bytes out of the response ring; returns how many. */
static size_t xs_ring_get(struct xs_ring *r, char *data, size_t len)
{
    XENSTORE_RING_IDX cons = r->intf->rsp_cons, prod = r->intf->rsp_prod;
    __sync_synchronize();
    size_t done = 0;
    while (done < len && cons != prod) {
        size_t chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
        if (chunk > prod - cons)
            chunk = prod - cons;
        if (chunk > len - done)
            chunk = len - done;
        memcpy(data + done, (const char *)r->intf->rsp + MASK_XENSTORE_IDX(cons), chunk);
        cons += chunk;
        done += chunk;
    }
    __sync_synchronize();
    r->intf->rsp_cons = cons;
    return done;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Reads exactly len response bytes, waiting up to timeout_ms; -1 on timeout. */
static int xs_ring_get_exact(struct xs_ring *r, char *data, size_t len, int timeout_ms)
{
    size_t got = 0;
    for (int waited = 0; got < len; waited++) {
        size_t n = xs_ring_get(r, data + got, len - got);
        got += n;
        if (n) {
            xs_ring_notify(r); /* room freed in the response ring */
            continue;
        }
        if (waited >= timeout_ms)
            return -1;
        sleep_ms(1);
    }
    return 0;
}

/* Sends one request and waits for its reply, skipping watch events. */
static int xs_ring_request(struct xs_ring *r, uint32_t type, const char *payload, uint32_t len,
                           struct xsd_sockmsg *reply, char *body, size_t body_max)
{
    static uint32_t req_id = 1;
    struct xsd_sockmsg head = { .type = type, .req_id = req_id++, .tx_id = 0, .len = len };
    char packet[sizeof(head) + XENSTORE_PAYLOAD_MAX];
    if (len > XENSTORE_PAYLOAD_MAX)
        return -1;
    memcpy(packet, &head, sizeof(head));
    memcpy(packet + sizeof(head), payload, len);
    size_t sent = 0, total = sizeof(head) + len;
    for (int waited = 0; sent < total; waited++) {
        sent += xs_ring_put(r, packet + sent, total - sent);
        xs_ring_notify(r);
        if (sent < total) {
            if (waited > 5000)
                return -1;
            sleep_ms(1);
        }
    }
    for (;;) {
        if (xs_ring_get_exact(r, (char *)reply, sizeof(*reply), 5000) != 0 || reply->len >= body_max)
            return -1;
        if (xs_ring_get_exact(r, body, reply->len, 5000) != 0)
            return -1;
        body[reply->len] = '\0';
        if (reply->type != XS_WATCH_EVENT && reply->req_id == head.req_id)
            return 0;
    }
}

/* ---- command line ------------------------------------------------------- */

static int bridge(struct xs_ring *r)
{
    char in[4096], out[XENSTORE_RING_SIZE];
    size_t in_len = 0, in_off = 0;
    int stdin_open = 1, idle = 0;
    if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) != 0)
        return 1;
    while (stdin_open || in_off < in_len) {
        int busy = 0;
        if (in_off == in_len && stdin_open) {
            ssize_t n = read(0, in, sizeof(in));
            if (n == 0)
                stdin_open = 0;
            else if (n > 0)
                in_off = 0, in_len = (size_t)n, busy = 1;
            else if (errno != EAGAIN && errno != EINTR)
                return 1;
        }
        if (in_off < in_len) {
            size_t n = xs_ring_put(r, in + in_off, in_len - in_off);
            in_off += n;
            if (n) {
                xs_ring_notify(r);
                busy = 1;
            }
        }
        size_t n = xs_ring_get(r, out, sizeof(out));
        if (n) {
            xs_ring_notify(r);
            for (size_t w = 0; w < n;) {
                ssize_t k = write(1, out + w, n - w);
                if (k < 0 && errno != EINTR)
                    return 1;
                w += k > 0 ? (size_t)k : 0;
            }
            busy = 1;
        }
        idle = busy ? 0 : idle + 1;
        if (!busy) {
            struct pollfd p = { .fd = 0, .events = POLLIN };
            poll(&p, stdin_open && in_off == in_len ? 1 : 0, idle < 50 ? 1 : 20);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct xs_ring r;
    if (argc < 4 || xs_ring_open(&r, argv[1], argv[2], (uint32_t)strtoul(argv[3], NULL, 10)) != 0) {
        fprintf(stderr, "usage: xs-ring-client RING EVTCHN PORT [read|directory PATH | write PATH VALUE]\n");
        if (argc >= 4)
            perror("xs-ring-client");
        return 2;
    }
    if (argc == 4)
        return bridge(&r);

    char payload[XENSTORE_PAYLOAD_MAX], body[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t type, len;
    const char *op = argv[4];
    if (argc == 6 && (strcmp(op, "read") == 0 || strcmp(op, "directory") == 0)) {
        type = op[0] == 'r' ? XS_READ : XS_DIRECTORY;
        len = (uint32_t)snprintf(payload, sizeof(payload), "%s", argv[5]) + 1;
    } else if (argc == 7 && strcmp(op, "write") == 0) {
        type = XS_WRITE;
        len = (uint32_t)snprintf(payload, sizeof(payload), "%s%c%s", argv[5], '\0', argv[6]);
    } else {
        fprintf(stderr, "xs-ring-client: unknown request %s\n", op);
        return 2;
    }
    struct xsd_sockmsg reply;
    if (xs_ring_request(&r, type, payload, len, &reply, body, sizeof(body)) != 0) {
        fprintf(stderr, "xs-ring-client: no reply from xenstored\n");
        return 2;
    }
    if (reply.type == XS_ERROR) {
        printf("%s\n", body);
        return 1;
    }
    if (type == XS_DIRECTORY) {
        for (uint32_t i = 0; i < reply.len; i += strlen(body + i) + 1)
            printf("%s\n", body + i);
    } else if (type == XS_READ) {
        fwrite(body, 1, reply.len, stdout);
        putchar('\n');
    } else {
        printf("%s\n", body);
    }
    return 0;
}
