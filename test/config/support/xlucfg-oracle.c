/*
 * Test oracle: runs Xen's real libxlutil config parser (xlu_cfg_readdata, as xl uses it) on
 * many inputs in one process and prints, per input, one JSON line with the return code, the
 * report text and every setting (most recent first, as libxlu keeps them).
 *
 * Input on stdin: repeated "<source-name>\n<byte-length>\n<bytes>".
 * Build: gcc -o xlucfg-oracle xlucfg-oracle.c -lxlutil
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxlutil.h>

/* libxlutil's private layout (tools/libs/util/libxlu_internal.h, 4.17), needed to list settings. */
struct cfg_list { int avalues; int nvalues; struct cfg_value **values; };
struct cfg_loc { int first_line, first_column, last_line, last_column; };
struct cfg_value { int type; union { char *string; struct cfg_list list; } u; struct cfg_loc loc; };
struct cfg_setting { struct cfg_setting *next; char *name; struct cfg_value *value; int op; int lineno; };
struct cfg { struct cfg_setting *settings; FILE *report; char *source; };

static void json_str(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_value(const struct cfg_value *v)
{
    if (!v) { printf("null"); return; }
    if (v->type == XLU_STRING) {
        if (v->u.string) json_str(v->u.string, strlen(v->u.string)); else printf("null");
        return;
    }
    putchar('[');
    for (int i = 0; i < v->u.list.nvalues; i++) {
        if (i) putchar(',');
        json_value(v->u.list.values[i]);
    }
    putchar(']');
}

int main(void)
{
    char name[4096];
    while (fgets(name, sizeof name, stdin)) {
        name[strcspn(name, "\n")] = 0;
        long len;
        if (scanf("%ld", &len) != 1) return 1;
        getchar();
        char *data = malloc(len + 1);
        if (fread(data, 1, len, stdin) != (size_t)len) return 1;
        char *rep = NULL; size_t replen = 0;
        FILE *report = open_memstream(&rep, &replen);
        XLU_Config *cfg = xlu_cfg_init(report, name);
        int rc = xlu_cfg_readdata(cfg, data, len);
        fclose(report);
        printf("{\"rc\":%d,\"report\":", rc);
        json_str(rep, replen);
        printf(",\"settings\":[");
        int first = 1;
        for (struct cfg_setting *s = ((struct cfg *)cfg)->settings; s; s = s->next) {
            if (!first) putchar(',');
            first = 0;
            printf("{\"name\":");
            json_str(s->name, strlen(s->name));
            printf(",\"op\":\"%s\",\"line\":%d,\"value\":", s->op ? "+=" : "=", s->lineno);
            json_value(s->value);
            putchar('}');
        }
        printf("]}\n");
        fflush(stdout);
        xlu_cfg_destroy(cfg);
        free(rep);
        free(data);
    }
    return 0;
}
