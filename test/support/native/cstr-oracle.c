/*
 * glibc's own strtol, strtoul, atoi and strerror, for test/util/cstr.test.ts: each stdin line is
 * "<function> <base or errno> <input as hex>", each stdout line the answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void unhex(const char *h, char *out) {
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) sscanf(h + 2 * i, "%2hhx", (unsigned char *)&out[i]);
    out[n] = '\0';
}

int main(void) {
    char fn[16], hex[4096], s[2048];
    int arg;
    while (scanf("%15s %d %4095s", fn, &arg, hex) == 3) {
        unhex(strcmp(hex, "-") == 0 ? "" : hex, s);
        char *ep = s;
        errno = 0;
        if (strcmp(fn, "strtol") == 0) {
            long v = strtol(s, &ep, arg);
            printf("%ld %ld %d\n", v, (long)(ep - s), errno == ERANGE);
        } else if (strcmp(fn, "strtoul") == 0) {
            unsigned long v = strtoul(s, &ep, arg);
            printf("%lu %ld %d\n", v, (long)(ep - s), errno == ERANGE);
        } else if (strcmp(fn, "atoi") == 0) {
            printf("%d\n", atoi(s));
        } else {
            printf("%s\n", strerror(arg));
        }
    }
    return 0;
}
