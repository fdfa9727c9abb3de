/*
 * A tiny JSON reader for the C tests: enough for tests/vectors/encode.json (objects, arrays,
 * strings with every escape, numbers kept as text, true/false/null). No third-party library.
 * Strings are UTF-8 with their byte length (they may contain NUL bytes after \u0000).
 */
#ifndef PL_TEST_JSON_H
#define PL_TEST_JSON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_TRUE, J_FALSE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jval {
    jtype type;
    char *str;          /* J_STRING and J_NUMBER: the bytes, NUL-terminated */
    size_t len;         /* their length */
    struct jval **items; /* J_ARRAY and J_OBJECT: the values */
    char **keys;        /* J_OBJECT: the keys */
    size_t n;
} jval;

typedef struct {
    const char *p, *end;
} jparser;

static void json_free(jval *v) {
    if (v == NULL) return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys != NULL) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static void json_ws(jparser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int json_hex4(jparser *ps, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (ps->p >= ps->end) return 0;
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* Appends the UTF-8 encoding of code point `c` to `out` at `*n`. */
static void json_utf8(char *out, size_t *n, uint32_t c) {
    if (c < 0x80) {
        out[(*n)++] = (char)c;
    } else if (c < 0x800) {
        out[(*n)++] = (char)(0xC0 | (c >> 6));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (c >> 12));
        out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (c >> 18));
        out[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    }
}

/* Parses a string after its opening quote into a new NUL-terminated buffer. */
static char *json_string(jparser *ps, size_t *len) {
    /* The decoded string is never longer than the encoded one. */
    const char *start = ps->p;
    const char *q = start;
    while (q < ps->end && *q != '"') q += (*q == '\\') ? 2 : 1;
    if (q >= ps->end) return NULL;
    char *out = malloc((size_t)(q - start) + 1);
    if (out == NULL) return NULL;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        uint32_t cp = 0;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u':
            if (!json_hex4(ps, &cp)) goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo = 0;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') goto fail;
                ps->p += 2;
                if (!json_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) goto fail;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            json_utf8(out, &n, cp);
            break;
        default: goto fail;
        }
    }
    if (ps->p >= ps->end) goto fail;
    ps->p++; /* closing quote */
    out[n] = '\0';
    *len = n;
    return out;
fail:
    free(out);
    return NULL;
}

static jval *json_value(jparser *ps, int depth);

static int json_push(jval *v, jval *item, char *key) {
    jval **items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (items == NULL) return 0;
    v->items = items;
    if (v->type == J_OBJECT) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (keys == NULL) return 0;
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = item;
    return 1;
}

static jval *json_value(jparser *ps, int depth) {
    if (depth > 64) return NULL;
    json_ws(ps);
    if (ps->p >= ps->end) return NULL;
    jval *v = calloc(1, sizeof *v);
    if (v == NULL) return NULL;
    char c = *ps->p;
    if (c == '"') {
        ps->p++;
        v->type = J_STRING;
        if ((v->str = json_string(ps, &v->len)) == NULL) goto fail;
    } else if (c == '[' || c == '{') {
        v->type = c == '[' ? J_ARRAY : J_OBJECT;
        char close = c == '[' ? ']' : '}';
        ps->p++;
        json_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            if (v->type == J_OBJECT) {
                size_t klen = 0;
                json_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') goto fail;
                ps->p++;
                if ((key = json_string(ps, &klen)) == NULL) goto fail;
                json_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { free(key); goto fail; }
                ps->p++;
            }
            jval *item = json_value(ps, depth + 1);
            if (item == NULL || !json_push(v, item, key)) {
                json_free(item);
                free(key);
                goto fail;
            }
            json_ws(ps);
            if (ps->p >= ps->end) goto fail;
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == close) { ps->p++; return v; }
            goto fail;
        }
    } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
        v->type = J_TRUE;
        ps->p += 4;
    } else if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
        v->type = J_FALSE;
        ps->p += 5;
    } else if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
        v->type = J_NULL;
        ps->p += 4;
    } else {
        const char *start = ps->p;
        while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) != NULL) ps->p++;
        if (ps->p == start) goto fail;
        v->type = J_NUMBER;
        v->len = (size_t)(ps->p - start);
        if ((v->str = malloc(v->len + 1)) == NULL) goto fail;
        memcpy(v->str, start, v->len);
        v->str[v->len] = '\0';
    }
    return v;
fail:
    json_free(v);
    return NULL;
}

/* Parses a whole document; NULL if it is not valid JSON (of the kinds above). */
static jval *json_parse(const char *text, size_t len) {
    jparser ps = {text, text + len};
    jval *v = json_value(&ps, 0);
    json_ws(&ps);
    if (v != NULL && ps.p != ps.end) {
        json_free(v);
        return NULL;
    }
    return v;
}

/* The member `key` of an object, or NULL. */
static const jval *json_get(const jval *obj, const char *key) {
    if (obj == NULL || obj->type != J_OBJECT) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
    return NULL;
}

#endif
