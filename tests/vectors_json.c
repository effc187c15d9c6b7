/* The flat JSON reader of tests/vectors_json.h. */
#include <stdlib.h>
#include <string.h>

#include "tests/vectors_json.h"

struct reader {
  const char *p, *end;
};

static void ws(struct reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) {
    r->p++;
  }
}

static int expect(struct reader *r, char c) {
  ws(r);
  if (r->p < r->end && *r->p == c) {
    r->p++;
    return 1;
  }
  return 0;
}

static size_t put_utf8(uint8_t *o, unsigned long cp) {
  if (cp < 0x80) {
    o[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (uint8_t)(0xc0 | (cp >> 6));
    o[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xe0 | (cp >> 12));
    o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (uint8_t)(0xf0 | (cp >> 18));
  o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

static int hex4(struct reader *r, unsigned long *v) {
  char buf[5];
  char *e;
  if (r->end - r->p < 4) {
    return 0;
  }
  memcpy(buf, r->p, 4);
  buf[4] = '\0';
  *v = strtoul(buf, &e, 16);
  r->p += 4;
  return e == buf + 4;
}

/* A JSON string into out (UTF-8 octets). */
static int read_string(struct reader *r, uint8_t *out, size_t cap, size_t *len) {
  size_t n = 0;
  if (!expect(r, '"')) {
    return 0;
  }
  while (r->p < r->end && *r->p != '"') {
    unsigned char c = (unsigned char)*r->p++;
    if (n + 4 > cap) {
      return 0;
    }
    if (c != '\\') {
      out[n++] = c;
      continue;
    }
    if (r->p >= r->end) {
      return 0;
    }
    c = (unsigned char)*r->p++;
    switch (c) {
    case '"':
    case '\\':
    case '/': out[n++] = c; break;
    case 'n': out[n++] = '\n'; break;
    case 't': out[n++] = '\t'; break;
    case 'r': out[n++] = '\r'; break;
    case 'b': out[n++] = '\b'; break;
    case 'f': out[n++] = '\f'; break;
    case 'u': {
      unsigned long cp, lo;
      if (!hex4(r, &cp)) {
        return 0;
      }
      if (cp >= 0xd800 && cp < 0xdc00) {
        if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
          return 0;
        }
        r->p += 2;
        if (!hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff) {
          return 0;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      n += put_utf8(out + n, cp);
      break;
    }
    default: return 0;
    }
  }
  if (r->p >= r->end) {
    return 0;
  }
  r->p++;
  *len = n;
  return 1;
}

static int read_number(struct reader *r, long *v) {
  char *e;
  ws(r);
  if (r->p >= r->end || *r->p < '0' || *r->p > '9') {
    return 0;
  }
  *v = strtol(r->p, &e, 10);
  if (e > r->end) {
    return 0;
  }
  r->p = e;
  return 1;
}

static int read_field(struct reader *r, struct field *f) {
  size_t nlen;
  if (!read_string(r, (uint8_t *)f->name, sizeof(f->name) - 1, &nlen) || !expect(r, ':')) {
    return 0;
  }
  f->name[nlen] = '\0';
  ws(r);
  if (r->p < r->end && *r->p == '"') {
    f->type = F_STR;
    return read_string(r, f->str, sizeof(f->str), &f->len);
  }
  if (expect(r, '[')) {
    f->type = F_ARR;
    f->arr_len = 0;
    if (expect(r, ']')) {
      return 1;
    }
    do {
      if (f->arr_len == CPNS_MAX_OFFERED_SUITES || !read_number(r, &f->arr[f->arr_len++])) {
        return 0;
      }
    } while (expect(r, ','));
    return expect(r, ']');
  }
  ws(r);
  if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
    f->type = F_BOOL;
    f->num = 1;
    r->p += 4;
    return 1;
  }
  if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
    f->type = F_BOOL;
    f->num = 0;
    r->p += 5;
    return 1;
  }
  f->type = F_NUM;
  return read_number(r, &f->num);
}

int vectors_json_read(const char *text, size_t len, struct vec *vecs, size_t max, size_t *n) {
  struct reader r = {text, text + len};
  size_t n_vecs = 0;
  *n = 0;
  if (!expect(&r, '[')) {
    return 0;
  }
  do {
    struct vec *v;
    if (n_vecs == max || !expect(&r, '{')) {
      return 0;
    }
    v = &vecs[n_vecs++];
    v->n = 0;
    do {
      if (v->n == sizeof(v->f) / sizeof(v->f[0]) || !read_field(&r, &v->f[v->n++])) {
        return 0;
      }
    } while (expect(&r, ','));
    if (!expect(&r, '}')) {
      return 0;
    }
  } while (expect(&r, ','));
  if (!expect(&r, ']')) {
    return 0;
  }
  ws(&r);
  *n = n_vecs;
  return r.p == r.end;
}
