/*
 * perfgate.trace._scan: the native trace reader's per-event work, in C.
 *
 * Why C: a 15 MB trace holds about 3 million events; Python spends at least ~0.3 us on each,
 * which kept the reader near go tool trace's own speed. A Reader object is fed one generation
 * at a time (its batches already split by batches.py) and keeps, across generations, what
 * pairing and goroutine states need. It fills native buffers only: the annotation columns
 * (columns.py's layout), an interned string pool, and per generation a chunk of goroutine
 * state changes (states.py's StateChunk). finish() hands them over as bytes.
 *
 * scan.py and timing.py (the pure-Python fallback) implement the very same rules; they
 * document them, and the test suite checks that both give identical results on real and on
 * damaged traces. Nothing about the wire format is hard-coded here: argument counts, which
 * event types matter and what they do come in as 256-byte tables built from wire.py and
 * states.py.
 *
 * Every algorithm is linear or n log n in the generation's size, whatever the input: threads
 * and goroutines are found through hash maps keyed with a random seed, ties between threads
 * through a merge of the threads' sorted times, sorting is a merge sort. Limits (limits.py)
 * refuse absurd generations with the limit exception the caller passes in. Every read is
 * bounds-checked: garbage raises the caller's Corrupt class, never crashes.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* mremap; as pyconfig.h defines it, in case a header came first */
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define PERFGATE_MMAP 0 /* no mmap: big blocks come from malloc and go back with free */
#else
#define PERFGATE_MMAP 1
#include <sys/mman.h>
#endif

/* Event kinds (the kinds table, scan.py's _K_*). */
enum { K_BORING = 0, K_USER = 1, K_SETTER = 2, K_SWITCH = 3, K_STATUS = 4, K_STATE = 5 };
/* Roles (the roles table): what pairing or validation does with an event type. */
enum { R_NONE = 0, R_TASK_BEGIN, R_TASK_END, R_REGION_BEGIN, R_REGION_END, R_LOG, R_STW_BEGIN };
/* State actions (the actions table, states.py's _A_*). */
enum {
    A_NONE = 0,
    A_CUR_RUNNING, A_CUR_RUNNABLE, A_CUR_SYSCALL, A_CUR_NOTEXIST, A_CUR_WAITING, /* current g */
    A_NAMED_RUNNABLE, A_NAMED_RUNNING, A_NAMED_SYSCALL, A_NAMED_WAITING,        /* g = arg 1 */
    A_STATUS,        /* GoStatus: g = arg 1, status = arg 3 */
    A_SWITCH,        /* GoSwitch: named unblocked, current blocked, named started */
    A_SWITCH_DESTROY,/* GoSwitchDestroy: the same with the current goroutine destroyed */
    A_RANGE          /* GC / stop-the-world / assist: handed to Python as it is */
};
/* State codes (states.py): WAITING + i is "waiting for reason i". */
enum { S_NOT_EXIST = 0, S_RUNNING = 1, S_RUNNABLE = 2, S_SYSCALL = 3, S_WAITING = 4 };

#define MAX_TIES 16              /* timing.py's _MAX_TIES: tie-break depth between threads */
#define TIME_LIMIT ((int64_t)1 << 61) /* event times (ns) from here on are garbage */
#define NO_G UINT64_MAX          /* Go's NoGoroutine */
#define NO_TIME INT64_MIN
#define NO_PARENT UINT64_MAX

/* ---- memory ------------------------------------------------------------------------------------
 * Blocks of BIG bytes and more are mapped from the OS and unmapped when freed: a generation's
 * buffers are gone from the process as soon as it is read. (Through malloc they would stay
 * resident: glibc raises its mmap threshold after each freed big block and then serves the
 * next generation's buffers from a heap it does not give back.) A 16-byte header keeps the
 * block's size. */
#define BIG ((size_t)1 << 18)

static void *xmalloc(size_t n) {
    size_t *h;
    if (n + 16 >= BIG) {
#if PERFGATE_MMAP
        void *p = mmap(NULL, n + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        h = p == MAP_FAILED ? NULL : p;
#else
        h = malloc(n + 16);
#endif
    } else {
        h = PyMem_Malloc(n + 16);
    }
    if (h == NULL) return NULL;
    h[0] = n;
    return (char *)h + 16;
}

static void xfree(void *p) {
    if (p == NULL) return;
    size_t *h = (size_t *)((char *)p - 16);
    if (h[0] + 16 >= BIG) {
#if PERFGATE_MMAP
        munmap(h, h[0] + 16);
#else
        free(h);
#endif
    } else {
        PyMem_Free(h);
    }
}

static void *xcalloc(size_t n, size_t elem) {
    void *p = xmalloc(n * elem);
    if (p != NULL && (!PERFGATE_MMAP || n * elem + 16 < BIG))
        memset(p, 0, n * elem); /* mapped pages are zero */
    return p;
}

static void *xrealloc(void *p, size_t n) {
    if (p == NULL) return xmalloc(n);
    size_t *h = (size_t *)((char *)p - 16), old = h[0];
    if (old + 16 < BIG && n + 16 < BIG) {
        h = PyMem_Realloc(h, n + 16);
        if (h == NULL) return NULL;
        h[0] = n;
        return (char *)h + 16;
    }
#if defined(__linux__) && defined(MREMAP_MAYMOVE) /* else: copy, as elsewhere */
    if (old + 16 >= BIG && n + 16 >= BIG) {
        void *q = mremap(h, old + 16, n + 16, MREMAP_MAYMOVE);
        if (q == MAP_FAILED) return NULL;
        h = q;
        h[0] = n;
        return (char *)h + 16;
    }
#endif
    void *q = xmalloc(n);
    if (q == NULL) return NULL;
    memcpy(q, p, old < n ? old : n);
    xfree(p);
    return q;
}

/* ---- growable arrays ----------------------------------------------------------------------- */

static int grow(void **v, Py_ssize_t *cap, Py_ssize_t need, size_t elem) {
    if (need <= *cap) return 0;
    Py_ssize_t c = *cap ? *cap : 16;
    while (c < need) c += c / 2 + 16;
    void *p = xrealloc(*v, (size_t)c * elem);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *v = p;
    *cap = c;
    return 0;
}

#define DEFVEC(T, Name) \
    typedef struct {    \
        T *v;           \
        Py_ssize_t n, cap; \
    } Name;
DEFVEC(int64_t, I64Vec)
DEFVEC(uint64_t, U64Vec)
DEFVEC(uint32_t, U32Vec)
DEFVEC(uint8_t, U8Vec)
#define RESERVE(a, extra) grow((void **)&(a)->v, &(a)->cap, (a)->n + (extra), sizeof(*(a)->v))
#define PUSH(a, x) (((a)->n < (a)->cap || RESERVE((a), 1) == 0) ? ((a)->v[(a)->n++] = (x), 0) : -1)
#define FREE(a) (xfree((a)->v), (a)->v = NULL, (a)->n = (a)->cap = 0)

/* A column of 64-bit ids kept as 32 bits while every value fits (goroutine and task ids are
 * small counters), widened in place the first time one does not. With `none`, 2^64 - 1 (Go's
 * NoGoroutine, "no parent") is stored as 2^32 - 1 while narrow; otherwise it is a value like
 * any other. */
typedef struct {
    void *v;
    Py_ssize_t n, cap;
    int wide, none;
} IdCol;

static inline uint64_t idc_get(const IdCol *c, Py_ssize_t i) {
    if (c->wide) return ((const uint64_t *)c->v)[i];
    uint32_t x = ((const uint32_t *)c->v)[i];
    return c->none && x == UINT32_MAX ? NO_G : x;
}

static int idc_widen(IdCol *c) {
    uint64_t *w = xrealloc(c->v, (size_t)(c->cap ? c->cap : 1) * sizeof(uint64_t));
    if (w == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    const uint32_t *v32 = (const uint32_t *)w;
    for (Py_ssize_t i = c->n - 1; i >= 0; i--) /* back to front: no value overwritten unread */
        w[i] = c->none && v32[i] == UINT32_MAX ? NO_G : v32[i];
    c->v = w;
    c->wide = 1;
    return 0;
}

static int idc_set(IdCol *c, Py_ssize_t i, uint64_t x) {
    if (!c->wide && x >= UINT32_MAX && !(c->none && x == NO_G) && idc_widen(c) < 0) return -1;
    if (c->wide) ((uint64_t *)c->v)[i] = x;
    else ((uint32_t *)c->v)[i] = x == NO_G ? UINT32_MAX : (uint32_t)x;
    return 0;
}

static int idc_push(IdCol *c, uint64_t x) {
    if (c->n == c->cap &&
        grow(&c->v, &c->cap, c->n + 1, c->wide ? sizeof(uint64_t) : sizeof(uint32_t)) < 0)
        return -1;
    c->n++;
    return idc_set(c, c->n - 1, x);
}

/* Free a column's values and leave it empty (reusable). */
static void idc_free(IdCol *c) {
    xfree(c->v);
    memset(c, 0, sizeof *c);
}

/* The column as (typecode, bytes), its buffer freed. */
static PyObject *idc_take(IdCol *c) {
    size_t elem = c->wide ? 8 : 4;
    const char *v = c->v ? (const char *)c->v : "";
    PyObject *b = PyBytes_FromStringAndSize(v, c->n * (Py_ssize_t)elem);
    const char *code = c->wide ? "Q" : "I";
    xfree(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
    return b ? Py_BuildValue("(sN)", code, b) : NULL;
}

/* ---- hash map uint64 -> uint32 (open addressing, random seed) ---------------------------- */

static uint64_t seed;

static inline uint64_t mix(uint64_t x) {
    x ^= seed;
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Up to 3/4 full: 13 bytes a slot, about 18 bytes an entry. */
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    uint8_t *used;
    Py_ssize_t n, cap; /* cap: 0 or a power of two */
} Map;

static void map_free(Map *m) {
    xfree(m->keys);
    xfree(m->vals);
    xfree(m->used);
    memset(m, 0, sizeof(*m));
}

static int map_rehash(Map *m, Py_ssize_t cap) {
    uint64_t *keys = xmalloc((size_t)cap * sizeof(uint64_t));
    uint32_t *vals = xmalloc((size_t)cap * sizeof(uint32_t));
    uint8_t *used = xcalloc((size_t)cap, 1);
    if (!keys || !vals || !used) {
        xfree(keys);
        xfree(vals);
        xfree(used);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < m->cap; i++) {
        if (!m->used[i]) continue;
        size_t h = (size_t)mix(m->keys[i]) & (size_t)(cap - 1);
        while (used[h]) h = (h + 1) & (size_t)(cap - 1);
        used[h] = 1;
        keys[h] = m->keys[i];
        vals[h] = m->vals[i];
    }
    xfree(m->keys);
    xfree(m->vals);
    xfree(m->used);
    m->keys = keys;
    m->vals = vals;
    m->used = used;
    m->cap = cap;
    return 0;
}

/* Pointer to the value of key, or NULL if absent. */
static inline uint32_t *map_get(const Map *m, uint64_t key) {
    if (m->cap == 0) return NULL;
    size_t mask = (size_t)(m->cap - 1), h = (size_t)mix(key) & mask;
    while (m->used[h]) {
        if (m->keys[h] == key) return &m->vals[h];
        h = (h + 1) & mask;
    }
    return NULL;
}

/* Pointer to the value of key, inserted with value dflt if absent (*created set). NULL: error. */
static uint32_t *map_slot(Map *m, uint64_t key, uint32_t dflt, int *created) {
    if (4 * (m->n + 1) > 3 * m->cap && map_rehash(m, m->cap ? 2 * m->cap : 64) < 0) return NULL;
    size_t mask = (size_t)(m->cap - 1), h = (size_t)mix(key) & mask;
    while (m->used[h]) {
        if (m->keys[h] == key) {
            if (created) *created = 0;
            return &m->vals[h];
        }
        h = (h + 1) & mask;
    }
    m->used[h] = 1;
    m->keys[h] = key;
    m->vals[h] = dflt;
    m->n++;
    if (created) *created = 1;
    return &m->vals[h];
}

/* Remove key (backward-shift deletion: no tombstones, lookups stay short). */
static void map_del(Map *m, uint64_t key) {
    if (m->cap == 0) return;
    size_t mask = (size_t)(m->cap - 1), i = (size_t)mix(key) & mask;
    while (m->used[i] && m->keys[i] != key) i = (i + 1) & mask;
    if (!m->used[i]) return;
    m->used[i] = 0;
    m->n--;
    for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        size_t home = (size_t)mix(m->keys[j]) & mask;
        /* Entry j may move to the hole at i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        m->used[i] = 1;
        m->used[j] = 0;
        i = j;
    }
}

static int map_put(Map *m, uint64_t key, uint32_t val) {
    uint32_t *v = map_slot(m, key, val, NULL);
    if (v == NULL) return -1;
    *v = val;
    return 0;
}

/* uint64 -> uint64: the values in a side vector (for the few maps that hold goroutine ids). */
typedef struct {
    Map index;
    U64Vec vals;
} GMap;

static void gmap_free(GMap *m) {
    map_free(&m->index);
    FREE(&m->vals);
}

static inline uint64_t *gmap_get(const GMap *m, uint64_t key) {
    uint32_t *i = map_get(&m->index, key);
    return i == NULL ? NULL : &m->vals.v[*i];
}

static int gmap_put(GMap *m, uint64_t key, uint64_t val) {
    int created;
    uint32_t *i = map_slot(&m->index, key, (uint32_t)m->vals.n, &created);
    if (i == NULL) return -1;
    if (created) return PUSH(&m->vals, val);
    m->vals.v[*i] = val;
    return 0;
}

/* Task id -> row. Go numbers tasks 1, 2, 3, ...: while ids stay within twice the count (plus
 * some), a plain array indexed by id (4 bytes a task); ids beyond, in a hash map. */
typedef struct {
    U32Vec direct; /* row + 1 by id, 0: none */
    Map sparse;
    Py_ssize_t count;
} IdIndex;

static void ix_free(IdIndex *x) {
    FREE(&x->direct);
    map_free(&x->sparse);
    x->count = 0;
}

static int ix_find(const IdIndex *x, uint64_t id, uint32_t *row) {
    if (id < (uint64_t)x->direct.n && x->direct.v[id]) {
        *row = x->direct.v[id] - 1;
        return 1;
    }
    uint32_t *v = x->sparse.n ? map_get(&x->sparse, id) : NULL;
    if (v == NULL) return 0;
    *row = *v;
    return 1;
}

static int ix_set(IdIndex *x, uint64_t id, uint32_t row) {
    uint32_t *v = x->sparse.n ? map_get(&x->sparse, id) : NULL;
    if (v != NULL) {
        *v = row;
        return 0;
    }
    if (id >= (uint64_t)x->direct.n && id < (uint64_t)(2 * x->count + 65536)) {
        Py_ssize_t n = x->direct.n;
        if (RESERVE(&x->direct, (Py_ssize_t)id + 1 - n) < 0) return -1;
        memset(x->direct.v + n, 0, ((size_t)id + 1 - (size_t)n) * sizeof(uint32_t));
        x->direct.n = (Py_ssize_t)id + 1;
    }
    if (id < (uint64_t)x->direct.n) {
        if (!x->direct.v[id]) x->count++;
        x->direct.v[id] = row + 1;
        return 0;
    }
    x->count++;
    return map_put(&x->sparse, id, row);
}

/* ---- varints --------------------------------------------------------------------------------- */

/* Decode one unsigned LEB128 varint of at most 10 bytes at *pp (< end).
 * Returns 0 and advances *pp; -1 if malformed or cut off; -2 if it overflows 64 bits. */
static inline int uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (p >= end) return -1;
        uint8_t c = *p++;
        if (!(c & 0x80)) {
            if (i == 9 && c > 1) return -2;
            v |= (uint64_t)c << (7 * i);
            *pp = p;
            *out = v;
            return 0;
        }
        v |= (uint64_t)(c & 0x7f) << (7 * i);
    }
    return -1;
}

/* Skip one varint without decoding it (same acceptance as uvarint: a varint past 64 bits is
 * corrupt wherever it is, as scan.py's _OVERFLOW check says). */
static inline int skip_varint(const uint8_t **pp, const uint8_t *end) {
    const uint8_t *p = *pp;
    for (int i = 0; i < 10; i++) {
        if (p >= end) return -1;
        uint8_t c = *p++;
        if (!(c & 0x80)) {
            if (i == 9 && c > 1) return -2;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

/* ---- sorting and searching ----------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static Py_ssize_t lower_bound(const int64_t *a, Py_ssize_t n, int64_t x) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static inline int64_t ceildiv(int64_t a, int64_t b) { /* b > 0 */
    int64_t q = a / b;
    if (a % b != 0 && a > 0) q++;
    return q;
}


/* Stable merge sort of packed state changes by their time (the bits above CHANGE_BITS).
 * tmp: n entries of scratch. */
#define CHANGE_BITS 16
static void merge_sort_changes(uint64_t *e, uint64_t *tmp, Py_ssize_t n) {
    int sorted = 1;
    for (Py_ssize_t i = 1; i < n && sorted; i++)
        sorted = e[i - 1] >> CHANGE_BITS <= e[i] >> CHANGE_BITS;
    if (sorted) return;
    uint64_t *src = e, *dst = tmp;
    for (Py_ssize_t width = 1; width < n; width *= 2) {
        for (Py_ssize_t lo = 0; lo < n; lo += 2 * width) {
            Py_ssize_t mid = lo + width < n ? lo + width : n;
            Py_ssize_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            Py_ssize_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = src[b] >> CHANGE_BITS < src[a] >> CHANGE_BITS ? src[b++] : src[a++];
            while (a < mid) dst[o++] = src[a++];
            while (b < hi) dst[o++] = src[b++];
        }
        uint64_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != e) memcpy(e, src, (size_t)n * sizeof(uint64_t));
}

/* ---- the interned string pool (columns.Strings) ------------------------------------------- */

typedef struct {
    U8Vec data;
    U64Vec off;     /* off[i] .. off[i + 1]: string i; off has n + 1 entries */
    uint32_t *slot; /* hash table of string index + 1 (0: empty) */
    uint64_t *slot_hash;
    Py_ssize_t cap, n;
} Pool;

static uint64_t hash_bytes(const uint8_t *p, Py_ssize_t n) {
    uint64_t h = mix((uint64_t)n);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w);
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, (size_t)n);
    return mix(h ^ w ^ 0x5bd1e995ull);
}

static int pool_rehash(Pool *P, Py_ssize_t cap) {
    uint32_t *slot = xcalloc((size_t)cap, sizeof(uint32_t));
    uint64_t *sh = xmalloc((size_t)cap * sizeof(uint64_t));
    if (!slot || !sh) {
        xfree(slot);
        xfree(sh);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < P->cap; i++) {
        if (!P->slot[i]) continue;
        size_t h = (size_t)P->slot_hash[i] & (size_t)(cap - 1);
        while (slot[h]) h = (h + 1) & (size_t)(cap - 1);
        slot[h] = P->slot[i];
        sh[h] = P->slot_hash[i];
    }
    xfree(P->slot);
    xfree(P->slot_hash);
    P->slot = slot;
    P->slot_hash = sh;
    P->cap = cap;
    return 0;
}

/* Index of the string p[0..n) in the pool, added if new; -1 on error. */
static int64_t pool_intern(Pool *P, const uint8_t *p, Py_ssize_t n) {
    if (2 * (P->n + 1) > P->cap && pool_rehash(P, P->cap ? 2 * P->cap : 1024) < 0) return -1;
    uint64_t h = hash_bytes(p, n);
    size_t mask = (size_t)(P->cap - 1), s = (size_t)h & mask;
    while (P->slot[s]) {
        if (P->slot_hash[s] == h) {
            uint32_t i = P->slot[s] - 1;
            uint64_t a = P->off.v[i], b = P->off.v[i + 1];
            if ((Py_ssize_t)(b - a) == n && memcmp(P->data.v + a, p, (size_t)n) == 0) return i;
        }
        s = (s + 1) & mask;
    }
    if (P->n >= (Py_ssize_t)UINT32_MAX - 1) {
        PyErr_SetString(PyExc_OverflowError, "string pool full");
        return -1;
    }
    if (RESERVE(&P->data, n) < 0 || PUSH(&P->off, 0) < 0) return -1;
    if (n) memcpy(P->data.v + P->data.n, p, (size_t)n);
    P->data.n += n;
    P->off.v[P->off.n - 1] = (uint64_t)P->data.n;
    P->slot[s] = (uint32_t)(P->n + 1);
    P->slot_hash[s] = h;
    return P->n++;
}

static void pool_free(Pool *P) {
    FREE(&P->data);
    FREE(&P->off);
    xfree(P->slot);
    xfree(P->slot_hash);
    P->slot = NULL;
    P->slot_hash = NULL;
    P->cap = P->n = 0;
}

/* ---- the reader ------------------------------------------------------------------------------ */

typedef struct {
    uint64_t *v; /* chunk arrays, owned */
    uint64_t *gids;
    Py_ssize_t ngids;
    uint32_t *offsets; /* ngids + 1 */
    int64_t base;
    void *times;       /* uint32 (relative to base) or int64 (absolute, base 0) */
    int wide_times;
    void *codes;       /* uint8 or uint16 */
    int wide_codes;
    Py_ssize_t n;      /* changes */
} Chunk;

typedef struct {
    PyObject_HEAD
    uint8_t argc[256], kinds[256], keep[256], roles[256], actions[256];
    int states;
    uint64_t st_running, st_syscall;
    PyObject *corrupt, *limit;
    Py_ssize_t max_threads, max_strings, max_events, max_reasons;
    int64_t max_span;
    GMap carry;      /* M -> goroutine running at the end of the last generation */
    IdIndex task_row; /* task id -> its latest row */
    Map open_top;    /* goroutine -> top open region row + 1 (0: none) */
    Map region_below; /* open region row -> the open region below it + 1 (while open) */
    Map last_code;   /* goroutine -> its last state code */
    Map reason_of;   /* pool index -> reason index */
    Map odd;         /* task ids whose goroutines are not just their one task's begin/end */
    U32Vec reasons;  /* reason index -> pool index */
    Pool pool;
    /* columns */
    IdCol t_id, t_parent, t_bg, t_eg;
    U32Vec t_name;
    I64Vec t_begin, t_end;
    IdCol r_task, r_g;
    U32Vec r_name;
    I64Vec r_begin, r_end;
    IdCol l_task, l_g;
    U32Vec l_key, l_value;
    I64Vec l_time;
    Chunk *chunks;
    Py_ssize_t nchunks, chunk_cap;
} Reader;

typedef struct {
    uint64_t g;
    Py_ssize_t bucket;
} BucketRef;

/* One batch of the generation being read. */
typedef struct {
    const uint8_t *data;
    Py_ssize_t len;
    uint32_t thread;
    int64_t base; /* array units */
} BatchView;

typedef struct {
    uint64_t m;
    uint32_t first_batch, last_batch; /* its batches, linked through Gen.next_batch */
    int64_t last_t;   /* time of its latest event so far (array units: ticks or ns) */
    int unsorted;     /* a batch starts before the previous one ended: a broken clock */
    int has_g, b_has_g; /* goroutine on this M now (phase A / phase B) */
    uint64_t g, b_g;
    int has_res;      /* goroutine for events before the first setter: binding or carry */
    uint64_t res;
    int64_t unknown;  /* phase A: state changes of the current goroutine while not known */
} Thread;

/* One user event found by the scan (its arguments are decoded again from the batch). */
typedef struct {
    int64_t time;   /* array units until nudged, then Go's time in ns */
    uint32_t batch;
    uint16_t off, ties;
} URec;

/* The goroutine on the thread of user events first .. (next run's first - 1): one entry per
 * change of it along the user events in scan order (they come in runs of one goroutine). */
typedef struct {
    uint64_t g;
    uint32_t first;
    int has_g;
} GRun;

/* Go's order of a generation's user events is a stable sort of them by time. They come in scan
 * order, in long runs already in time order (a thread's batches), so they are merged run by
 * run: a heap of the runs' heads, by (time, position) — ties to the earlier event in scan
 * order, as a stable sort has them — instead of sorting an index of every event (4 bytes an
 * event, and 4 more of scratch: the reader's peak on an annotation-dense trace). */
typedef struct {
    uint32_t pos, end; /* the run's next event and its end */
} URun;

static inline int urun_less(const URec *u, URun a, URun b) {
    int64_t ta = u[a.pos].time, tb = u[b.pos].time;
    return ta < tb || (ta == tb && a.pos < b.pos);
}

static void urun_sift(URun *h, Py_ssize_t n, Py_ssize_t i, const URec *u) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, m = i;
        if (l < n && urun_less(u, h[l], h[m])) m = l;
        if (l + 1 < n && urun_less(u, h[l + 1], h[m])) m = l + 1;
        if (m == i) return;
        URun t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}


/* (time, thread) of another thread's events at a shared time, and how many come first. */
typedef struct {
    int64_t t;
    uint32_t thread;
    int64_t extra;
} Shared;

typedef struct {
    const uint8_t *p; /* NULL: no such string id */
    uint32_t pool;    /* UINT32_MAX: not interned yet */
    uint16_t len;
    uint16_t reason;  /* UINT16_MAX: not looked up yet; else the code - S_WAITING */
} StrEnt;

typedef struct {
    BatchView *b;
    Py_ssize_t nb;
    uint32_t *next_batch; /* per batch: the next batch of the same thread (UINT32_MAX: none) */
    Thread *th;
    Py_ssize_t nth, thcap;
    Map thmap;     /* M -> thread index */
    GMap bindings; /* M -> goroutine from a GoStatus in syscall on that M */
    I64Vec extra;  /* ns: events Go synthesises (switches) and CPU samples, sorted */
    int64_t count;
    URec *u;
    Py_ssize_t nu, ucap;
    GRun *runs;
    Py_ssize_t nrun, runcap;
    Shared *sh;
    Py_ssize_t nsh, shcap;
    I64Vec pile;   /* ns: every time before `bound`, sorted (the pile-up after Sync) */
    int64_t bound;
    int64_t unit;
    int ns_mode;
    double freq;
    int64_t sync;
    Map strmap;    /* string id -> StrEnt index, when ids are sparse */
    int dense_ids; /* else se[string id] directly (Go numbers a generation's strings from 1) */
    StrEnt *se;
    Py_ssize_t nse;
    /* states (phase B) */
    Map gbucket;   /* goroutine -> bucket index */
    I64Vec bcount; /* per bucket: changes, then the next free slot */
    U64Vec bgid;
    BucketRef *order; /* buckets by goroutine */
    uint64_t *ce;  /* per change: (Go time - lo_ns) << 16 | code << 2 | offset (0-2: switches) */
    int64_t lo_ns; /* the generation's earliest event time */
    Py_ssize_t nch;
    PyObject *ranges;
} Gen;

static void gen_free(Gen *G) {
    xfree(G->b);
    xfree(G->th);
    xfree(G->next_batch);
    map_free(&G->thmap);
    gmap_free(&G->bindings);
    FREE(&G->extra);
    xfree(G->u);
    xfree(G->runs);
    xfree(G->sh);
    FREE(&G->pile);
    map_free(&G->strmap);
    xfree(G->se);
    map_free(&G->gbucket);
    FREE(&G->bcount);
    FREE(&G->bgid);
    xfree(G->order);
    xfree(G->ce);
    Py_XDECREF(G->ranges);
    memset(G, 0, sizeof(*G));
}

static int fail(PyObject *exc, const char *msg) {
    PyErr_SetString(exc, msg);
    return -1;
}

/* ---- strings ----------------------------------------------------------------------------- */

/* One pass over the generation's string batches (EvStrings, then EvString: id, length,
 * bytes): check = 0 validates and counts them (and finds the largest id), check = 1 files them
 * and refuses an id defined twice. (The pure-Python reader checks in the same order.) */
static int strings_pass(Reader *R, Gen *G, PyObject *seq, int fill, uint64_t *max_sid) {
    Py_ssize_t nb = PySequence_Fast_GET_SIZE(seq), count = 0;
    for (Py_ssize_t bi = 0; bi < nb; bi++) {
        PyObject *o = PySequence_Fast_GET_ITEM(seq, bi);
        if (!PyBytes_Check(o)) {
            PyErr_SetString(PyExc_TypeError, "string batches must be bytes");
            return -1;
        }
        const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(o);
        const uint8_t *end = p + PyBytes_GET_SIZE(o);
        if (p < end) p++; /* the EvStrings byte */
        while (p < end) {
            uint64_t sid, len;
            if (*p++ != 5 || uvarint(&p, end, &sid) != 0 || uvarint(&p, end, &len) != 0)
                return fail(R->corrupt, "bad string event in a strings batch");
            if (len > 1024 || (uint64_t)(end - p) < len)
                return fail(R->corrupt, "bad string length");
            if (!fill) {
                if (count >= R->max_strings) {
                    char msg[160];
                    snprintf(msg, sizeof msg,
                             "more than %zd strings in one generation (limit "
                             "MAX_STRINGS_PER_GENERATION)", R->max_strings);
                    return fail(R->limit, msg);
                }
                count++;
                if (sid > *max_sid) *max_sid = sid;
                p += len;
                continue;
            }
            StrEnt *e;
            if (G->dense_ids) {
                e = &G->se[sid];
            } else {
                int created;
                uint32_t *slot = map_slot(&G->strmap, sid, (uint32_t)G->nse, &created);
                if (slot == NULL) return -1;
                e = &G->se[created ? G->nse++ : *slot];
            }
            if (e->p != NULL) {
                char msg[64];
                snprintf(msg, sizeof msg, "string id %llu defined twice", (unsigned long long)sid);
                return fail(R->corrupt, msg);
            }
            e->p = p;
            e->len = (uint16_t)len;
            p += len;
        }
    }
    if (!fill) G->nse = count;
    return 0;
}

static int parse_strings(Reader *R, Gen *G, PyObject *batches) {
    PyObject *seq = PySequence_Fast(batches, "strings must be a sequence");
    if (seq == NULL) return -1;
    uint64_t max_sid = 0;
    int rc = -1;
    if (strings_pass(R, G, seq, 0, &max_sid) < 0) goto done;
    Py_ssize_t count = G->nse;
    G->dense_ids = max_sid < (uint64_t)(2 * count + 1024);
    Py_ssize_t slots = G->dense_ids ? (Py_ssize_t)max_sid + 1 : (count ? count : 1);
    G->se = xmalloc((size_t)slots * sizeof(StrEnt));
    if (G->se == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < slots; i++) {
        G->se[i].p = NULL;
        G->se[i].pool = UINT32_MAX;
        G->se[i].reason = UINT16_MAX;
    }
    G->nse = 0;
    if (strings_pass(R, G, seq, 1, &max_sid) < 0) goto done;
    G->nse = slots;
    rc = 0;
done:
    Py_DECREF(seq);
    return rc;
}

/* The generation's string with id sid, or NULL. */
static inline StrEnt *string_of(const Gen *G, uint64_t sid) {
    if (G->dense_ids) return sid < (uint64_t)G->nse && G->se[sid].p ? &G->se[sid] : NULL;
    uint32_t *v = map_get(&G->strmap, sid);
    return v == NULL ? NULL : &G->se[*v];
}

/* The pool index of string id sid (interned on first use); -1 unknown (no error set), -2 error. */
static int64_t string_index(Reader *R, Gen *G, uint64_t sid) {
    StrEnt *e = string_of(G, sid);
    if (e == NULL) return -1;
    if (e->pool == UINT32_MAX) {
        int64_t i = pool_intern(&R->pool, e->p, e->len);
        if (i < 0) return -2;
        e->pool = (uint32_t)i;
    }
    return e->pool;
}

static int unknown_string(Reader *R, const char *what, uint64_t sid) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s refers to unknown string id %llu", what, (unsigned long long)sid);
    return fail(R->corrupt, msg);
}

/* The state code for "waiting for the reason with string id sid". -1: error. */
static int64_t reason_code(Reader *R, Gen *G, uint64_t sid) {
    StrEnt *e = string_of(G, sid);
    if (e == NULL) {
        unknown_string(R, "a scheduler event", sid);
        return -1;
    }
    if (e->reason != UINT16_MAX) return S_WAITING + e->reason;
    int64_t pi = string_index(R, G, sid);
    if (pi < 0) return -1;
    int created;
    uint32_t *slot = map_slot(&R->reason_of, (uint64_t)pi, (uint32_t)R->reasons.n, &created);
    if (slot == NULL) return -1;
    if (created) {
        if (R->reasons.n >= R->max_reasons) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "more than %zd distinct blocking reasons (limit MAX_REASONS; Go has a few "
                     "dozen)", R->max_reasons);
            return fail(R->limit, msg);
        }
        if (PUSH(&R->reasons, (uint32_t)pi) < 0) return -1;
    }
    e->reason = (uint16_t)*slot;
    return S_WAITING + e->reason;
}

/* ---- the scan ---------------------------------------------------------------------------- */

static int thread_of(Reader *R, Gen *G, uint64_t m, uint32_t *out) {
    int created;
    uint32_t *slot = map_slot(&G->thmap, m, (uint32_t)G->nth, &created);
    if (slot == NULL) return -1;
    if (created) {
        if (G->nth >= R->max_threads) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "more than %zd threads in one generation (limit "
                     "MAX_THREADS_PER_GENERATION)", R->max_threads);
            return fail(R->limit, msg);
        }
        if (grow((void **)&G->th, &G->thcap, G->nth + 1, sizeof(Thread)) < 0) return -1;
        Thread *th = &G->th[G->nth++];
        memset(th, 0, sizeof(*th));
        th->m = m;
        th->first_batch = UINT32_MAX;
    }
    *out = (uint32_t)*slot;
    return 0;
}

/* Convert one tick count to array units: ticks themselves (unit mode) or truncated ns. */
static inline int to_units(uint64_t ticks, const Gen *G, int64_t *out) {
    if (!G->ns_mode) {
        if (ticks >= (uint64_t)TIME_LIMIT) return -1;
        *out = (int64_t)ticks;
        return 0;
    }
    double x = (double)ticks * G->freq;
    if (!(x < (double)TIME_LIMIT) || x < 0) return -1;
    *out = (int64_t)x;
    return 0;
}

static int64_t kept_time(const Gen *G, uint32_t thread, int64_t t, int64_t ties);
static int emit_changes(Reader *R, Gen *G, uint32_t thread, int64_t time, uint8_t typ,
                        int has_g, uint64_t g, const uint64_t *a);
static int count_changes(Reader *R, Gen *G, Thread *th, uint8_t typ, int has_g, uint64_t g,
                         const uint64_t *a);

/* One pass over the generation's event batches, in file order. Phase 0 records every event's
 * time per thread, the user events, the goroutine bindings and (with states) how many state
 * changes each goroutine gets; phase 1 (states only) decodes the same events again and writes
 * each state change, with its final time, into its goroutine's bucket. The goroutine running
 * on each thread is tracked identically in both (scan.py's scan_generation). */
static int scan(Reader *R, Gen *G, int phase) {
    for (Py_ssize_t bi = 0; bi < G->nb; bi++) {
        BatchView *b = &G->b[bi];
        Thread *th = &G->th[b->thread];
        const uint8_t *start = b->data, *p = start, *end = start + b->len;
        int has_g = phase ? th->b_has_g : th->has_g, has_pend = 0;
        uint64_t g = phase ? th->b_g : th->g, pend = 0;
        int64_t t = b->base, ties = 0;
        Py_ssize_t k = 0;
        if (phase == 0 && th->last_t > t) th->unsorted = 1;
        while (p < end) {
            const uint8_t *ev = p;
            uint8_t typ = *p++;
            int n = R->argc[typ];
            uint64_t dt;
            if (n == 0 || uvarint(&p, end, &dt) < 0)
                return fail(R->corrupt, "undecodable event in an event batch");
            int64_t d;
            if (to_units(dt, G, &d) < 0 || __builtin_add_overflow(t, d, &t))
                return fail(R->corrupt, "timestamp out of range");
            int64_t tn;
            if (__builtin_mul_overflow(t, G->unit, &tn) || tn >= TIME_LIMIT)
                return fail(R->corrupt, "timestamp out of range");
            ties = (k > 0 && dt == 0) ? ties + 1 : 0;
            k++;
            int kind = R->kinds[typ];
            if (kind == K_BORING) {
                for (int i = 1; i < n; i++) {
                    int r = skip_varint(&p, end);
                    if (r < 0)
                        return fail(R->corrupt, r == -2 ? "varint overflows 64 bits"
                                                        : "undecodable event in an event batch");
                }
                continue;
            }
            uint64_t a[4] = {0, 0, 0, 0};
            for (int i = 1; i < n; i++) {
                int r = (i <= 3) ? uvarint(&p, end, &a[i]) : skip_varint(&p, end);
                if (r < 0)
                    return fail(R->corrupt, r == -2 ? "varint overflows 64 bits"
                                                    : "undecodable event in an event batch");
            }
            if (n <= 3) a[2] = a[3] = 0;
            if (kind == K_USER || R->keep[typ]) {
                if (has_pend) {
                    g = pend;
                    has_g = 1;
                    has_pend = 0;
                }
                if (kind == K_USER) {
                    if (phase == 0) {
                        if (G->nu >= (Py_ssize_t)UINT32_MAX)
                            return fail(R->corrupt, "too many events");
                        if (grow((void **)&G->u, &G->ucap, G->nu + 1, sizeof(URec)) < 0) return -1;
                        URec *u = &G->u[G->nu++];
                        u->time = t;
                        u->batch = (uint32_t)bi;
                        u->off = (uint16_t)(ev - start);
                        u->ties = (uint16_t)ties;
                        GRun *r = G->nrun ? &G->runs[G->nrun - 1] : NULL;
                        if (r == NULL || r->has_g != has_g || (has_g && r->g != g)) {
                            if (grow((void **)&G->runs, &G->runcap, G->nrun + 1, sizeof(GRun)) < 0)
                                return -1;
                            r = &G->runs[G->nrun++];
                            r->g = g;
                            r->has_g = has_g;
                            r->first = (uint32_t)(G->nu - 1);
                        }
                    }
                    continue;
                }
                if (phase == 0) {
                    if (count_changes(R, G, th, typ, has_g, g, a) < 0) return -1;
                } else {
                    int64_t time = kept_time(G, b->thread, t, ties);
                    if (emit_changes(R, G, b->thread, time, typ, has_g, g, a) < 0) return -1;
                }
                if (kind == K_STATE) continue;
            }
            if (kind == K_STATUS) {
                uint64_t gid = a[1], m2 = a[2], status = a[3];
                if (status == R->st_running || (status == R->st_syscall && m2 == th->m)) {
                    g = gid;
                    has_g = 1;
                    has_pend = 0;
                } else if (status == R->st_syscall && phase == 0) {
                    if (gmap_put(&G->bindings, m2, gid) < 0) return -1;
                }
            } else {
                pend = a[1];
                has_pend = 1;
                if (kind == K_SWITCH && phase == 0) {
                    /* Go's reader turns a switch into three events at the same time. */
                    if (PUSH(&G->extra, tn) < 0 || PUSH(&G->extra, tn) < 0) return -1;
                }
            }
        }
        if (has_pend) {
            g = pend;
            has_g = 1;
        }
        if (phase == 0) {
            th->g = g;
            th->has_g = has_g;
            if (k) th->last_t = t;
            G->count += k;
            if (G->count > R->max_events) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "more than %zd events in one generation (limit "
                         "MAX_EVENTS_PER_GENERATION)", R->max_events);
                return fail(R->limit, msg);
            }
        } else {
            th->b_g = g;
            th->b_has_g = has_g;
        }
    }
    return 0;
}

/* ---- Go's times (timing.py) -------------------------------------------------------------- */

/* A thread's place in Go's tie-break between threads with events at the same time: its
 * previous distinct times, newest first, up to MAX_TIES (timing.py's tie_key). */
typedef struct {
    int64_t prev[MAX_TIES];
    int len;
    uint32_t thread;
    int64_t count;
    int64_t extra;
} TieKey;

static int cmp_tie(const void *pa, const void *pb) {
    const TieKey *a = pa, *b = pb;
    for (int l = 0; l < MAX_TIES; l++) {
        int ea = l >= a->len, eb = l >= b->len;
        if (ea || eb) {
            if (ea && eb) return 0;
            /* Ran out of earlier events: last at odd depths (1, 3, ...), first at even ones. */
            int a_first = (l % 2 == 0) ? eb : ea;
            return a_first ? -1 : 1;
        }
        if (a->prev[l] != b->prev[l]) {
            /* Odd depths: the more recent previous event goes first; even depths: reversed. */
            int a_first = (l % 2 == 0) ? a->prev[l] > b->prev[l] : a->prev[l] < b->prev[l];
            return a_first ? -1 : 1;
        }
    }
    return 0;
}

static int cmp_thread(const void *pa, const void *pb) {
    const TieKey *a = pa, *b = pb;
    return (a->thread > b->thread) - (a->thread < b->thread);
}

/* A cursor over one thread's event times in time order, decoding its batches again (Go's
 * batchCursor); a thread whose clock went backwards has its times sorted in an array instead.
 * ring: its latest distinct times, newest at ring[(head - 1) % MAX_TIES]. */
typedef struct {
    int64_t t;
    uint32_t thread, batch;
    const uint8_t *p, *end;
    int64_t *arr;
    Py_ssize_t pos, n;
    int64_t ring[MAX_TIES];
    int nring, head;
} Cur;

static int cur_next(const Reader *R, const Gen *G, Cur *c) {
    if (c->arr) {
        if (c->pos >= c->n) return 0;
        c->t = c->arr[c->pos++];
        return 1;
    }
    while (c->p >= c->end) {
        if (c->batch == UINT32_MAX) return 0;
        c->batch = G->next_batch[c->batch];
        if (c->batch == UINT32_MAX) return 0;
        c->p = G->b[c->batch].data;
        c->end = c->p + G->b[c->batch].len;
        c->t = G->b[c->batch].base;
    }
    /* Phase 0 read these bytes already: they decode. */
    uint8_t typ = *c->p++;
    int n = R->argc[typ];
    uint64_t dt = 0;
    int64_t d = 0;
    uvarint(&c->p, c->end, &dt);
    to_units(dt, G, &d);
    c->t += d;
    for (int i = 1; i < n; i++) skip_varint(&c->p, c->end);
    return 1;
}

static inline int cur_less(const Cur *a, const Cur *b) {
    return a->t < b->t || (a->t == b->t && a->thread < b->thread);
}

static void sift_down(Cur **h, Py_ssize_t n, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cur_less(h[l], h[m])) m = l;
        if (r < n && cur_less(h[r], h[m])) m = r;
        if (m == i) return;
        Cur *x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

/* A thread with a broken clock: its times decoded again, sorted. */
static int sorted_times(const Reader *R, const Gen *G, uint32_t thread, Cur *c) {
    I64Vec a = {0};
    Cur s;
    memset(&s, 0, sizeof(s));
    s.batch = G->th[thread].first_batch;
    s.p = G->b[s.batch].data;
    s.end = s.p + G->b[s.batch].len;
    s.t = G->b[s.batch].base;
    while (cur_next(R, G, &s))
        if (PUSH(&a, s.t) < 0) {
            FREE(&a);
            return -1;
        }
    qsort(a.v, (size_t)a.n, sizeof(int64_t), cmp_i64);
    c->arr = a.v;
    c->n = a.n;
    c->pos = 0;
    return 0;
}

/* One merge of every thread's events in time order (timing.py's shared_extras, pileup and
 * last_time): the times at which two or more threads have events, with each such thread's
 * share of the tie-break (G->sh, sorted by (t, thread)); every event time before the bound
 * of the pile-up after Sync (G->pile); Go's time of the generation's last event (*last). */
static int merge_times(const Reader *R, Gen *G, int64_t *last) {
    Py_ssize_t k = 0, ngrp = 0, grpcap = 0;
    Cur *cur = xcalloc((size_t)(G->nth ? G->nth : 1), sizeof(Cur));
    Cur **heap = xmalloc((size_t)(G->nth ? G->nth : 1) * sizeof(Cur *));
    Cur **members = NULL; /* the cursors with events at the current time */
    TieKey *grp = NULL;
    Py_ssize_t memcap = 0;
    int rc = -1;
    if (cur == NULL || heap == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    G->bound = G->sync + G->count + G->extra.n + 1;
    int64_t q = ceildiv(G->bound, G->unit);
    for (Py_ssize_t i = 0; i < G->nth; i++) {
        Cur *c = &cur[i];
        const Thread *th = &G->th[i];
        c->thread = (uint32_t)i;
        if (th->unsorted) {
            if (sorted_times(R, G, (uint32_t)i, c) < 0) goto done;
        } else {
            c->batch = th->first_batch;
            c->p = G->b[c->batch].data;
            c->end = c->p + G->b[c->batch].len;
            c->t = G->b[c->batch].base;
        }
        if (cur_next(R, G, c)) heap[k++] = c;
    }
    for (Py_ssize_t i = k / 2 - 1; i >= 0; i--) sift_down(heap, k, i);
    int64_t t_max = 0, c_max = 0, total = 0;
    while (k > 0) {
        /* The next time, and every thread with events at it. */
        int64_t t = heap[0]->t;
        ngrp = 0;
        total = 0;
        while (k > 0 && heap[0]->t == t) {
            Cur *c = heap[0];
            int64_t count = 1;
            int more;
            while ((more = cur_next(R, G, c)) && c->t == t) count++;
            if (grow((void **)&members, &memcap, ngrp + 1, sizeof(Cur *)) < 0 ||
                grow((void **)&grp, &grpcap, ngrp + 1, sizeof(TieKey)) < 0)
                goto done;
            members[ngrp] = c;
            grp[ngrp].thread = c->thread;
            grp[ngrp].count = count;
            ngrp++;
            total += count;
            if (more) {
                sift_down(heap, k, 0);
            } else {
                heap[0] = heap[--k];
                sift_down(heap, k, 0);
            }
        }
        if (ngrp >= 2) {
            for (Py_ssize_t i = 0; i < ngrp; i++) {
                const Cur *c = members[i];
                TieKey *key = &grp[i];
                key->len = c->nring;
                for (int j = 0; j < c->nring; j++)
                    key->prev[j] = c->ring[(c->head - 1 - j + 2 * MAX_TIES) % MAX_TIES];
            }
            qsort(grp, (size_t)ngrp, sizeof(TieKey), cmp_tie);
            int64_t before = 0;
            for (Py_ssize_t i = 0; i < ngrp;) {
                Py_ssize_t j = i;
                int64_t cls = 0;
                while (j < ngrp && cmp_tie(&grp[i], &grp[j]) == 0) cls += grp[j++].count;
                /* equal and ran out of earlier times: each sees the others as first */
                int mutual = grp[i].len < MAX_TIES;
                for (Py_ssize_t x = i; x < j; x++)
                    grp[x].extra = before + (mutual ? cls - grp[x].count : 0);
                before += cls;
                i = j;
            }
            qsort(grp, (size_t)ngrp, sizeof(TieKey), cmp_thread);
            if (grow((void **)&G->sh, &G->shcap, G->nsh + ngrp, sizeof(Shared)) < 0) goto done;
            for (Py_ssize_t i = 0; i < ngrp; i++) {
                G->sh[G->nsh].t = t;
                G->sh[G->nsh].thread = grp[i].thread;
                G->sh[G->nsh].extra = grp[i].extra;
                G->nsh++;
            }
        }
        for (Py_ssize_t i = 0; i < ngrp; i++) { /* t is now each member's latest time */
            Cur *c = members[i];
            c->ring[c->head] = t;
            c->head = (c->head + 1) % MAX_TIES;
            if (c->nring < MAX_TIES) c->nring++;
        }
        if (G->sync && t < q) {
            if (RESERVE(&G->pile, total) < 0) goto done;
            for (int64_t x = 0; x < total; x++) G->pile.v[G->pile.n++] = t * G->unit;
        }
        t_max = t;
        c_max = total;
    }
    /* The pile-up also counts the events Go makes up (switches, CPU samples). */
    if (G->sync) {
        Py_ssize_t c = lower_bound(G->extra.v, G->extra.n, G->bound);
        if (RESERVE(&G->pile, c) < 0) goto done;
        memcpy(G->pile.v + G->pile.n, G->extra.v, (size_t)c * sizeof(int64_t));
        G->pile.n += c;
        if (c) qsort(G->pile.v, (size_t)G->pile.n, sizeof(int64_t), cmp_i64);
    }
    /* timing.py's last_time */
    int64_t n = G->count + G->extra.n;
    if (n == 0) {
        *last = G->sync;
    } else {
        int64_t t_last = t_max * G->unit, c = c_max;
        if (G->extra.n && G->extra.v[G->extra.n - 1] > t_last) {
            t_last = G->extra.v[G->extra.n - 1];
            c = 0; /* no thread event is that late */
        }
        c += G->extra.n - lower_bound(G->extra.v, G->extra.n, t_last);
        int64_t x = G->sync + n, y = t_last + c - 1;
        *last = x > y ? x : y;
    }
    rc = 0;
done:
    if (cur != NULL)
        for (Py_ssize_t i = 0; i < G->nth; i++) xfree(cur[i].arr);
    xfree(cur);
    xfree(heap);
    xfree(members);
    xfree(grp);
    return rc;
}

/* Go's time (ns) for a kept event at t (array units) on a thread, `ties` earlier events of the
 * same batch at the same time (timing.py's nudge_all). */
static int64_t kept_time(const Gen *G, uint32_t thread, int64_t t, int64_t ties) {
    int64_t tn = t * G->unit, time = tn + ties;
    if (G->nsh) {
        Py_ssize_t lo = 0, hi = G->nsh;
        while (lo < hi) {
            Py_ssize_t mid = lo + (hi - lo) / 2;
            const Shared *s = &G->sh[mid];
            if (s->t < t || (s->t == t && s->thread < thread)) lo = mid + 1;
            else hi = mid;
        }
        if (lo < G->nsh && G->sh[lo].t == t && G->sh[lo].thread == thread) time += G->sh[lo].extra;
    }
    if (G->sync && tn < G->bound) {
        int64_t off = G->sync + lower_bound(G->pile.v, G->pile.n, tn) + 1 - tn;
        if (off > 0) time += off;
    }
    return time;
}

/* ---- goroutine states ------------------------------------------------------------------------ */

static int bump(Gen *G, uint64_t g, int64_t by) {
    int created;
    uint32_t *slot = map_slot(&G->gbucket, g, (uint32_t)G->bcount.n, &created);
    if (slot == NULL) return -1;
    if (created && (PUSH(&G->bcount, 0) < 0 || PUSH(&G->bgid, g) < 0)) return -1;
    G->bcount.v[*slot] += by;
    return 0;
}

/* Phase 0: how many changes the event makes, per goroutine (states.py's _WIRE rules). */
static int count_changes(Reader *R, Gen *G, Thread *th, uint8_t typ, int has_g, uint64_t g,
                         const uint64_t *a) {
    switch (R->actions[typ]) {
    case A_CUR_RUNNING: case A_CUR_RUNNABLE: case A_CUR_SYSCALL: case A_CUR_NOTEXIST:
    case A_CUR_WAITING:
        if (has_g) return bump(G, g, 1);
        th->unknown++;
        return 0;
    case A_NAMED_RUNNABLE: case A_NAMED_RUNNING: case A_NAMED_SYSCALL: case A_NAMED_WAITING:
        return bump(G, a[1], 1);
    case A_STATUS:
        return (a[3] >= 1 && a[3] <= 4) ? bump(G, a[1], 1) : 0;
    case A_SWITCH: case A_SWITCH_DESTROY:
        if (bump(G, a[1], 2) < 0) return -1;
        if (has_g) return bump(G, g, 1);
        th->unknown++;
        return 0;
    default:
        return 0;
    }
}

static inline int put_change(Gen *G, uint64_t g, int64_t time, uint32_t code, uint32_t offset) {
    uint32_t *slot = map_get(&G->gbucket, g);
    if (slot == NULL) return 0; /* cannot happen: counted in phase 0 */
    Py_ssize_t i = (Py_ssize_t)G->bcount.v[*slot]++;
    G->ce[i] = (uint64_t)(time - G->lo_ns) << CHANGE_BITS | code << 2 | offset;
    return 0;
}

/* Phase 1: write the event's changes (and hand range events to Python). */
static int emit_changes(Reader *R, Gen *G, uint32_t thread, int64_t time, uint8_t typ,
                        int has_g, uint64_t g, const uint64_t *a) {
    int act = R->actions[typ];
    if (!has_g && G->th[thread].has_res) {
        g = G->th[thread].res;
        has_g = 1;
    }
    switch (act) {
    case A_CUR_RUNNING: return has_g ? put_change(G, g, time, S_RUNNING, 0) : 0;
    case A_CUR_RUNNABLE: return has_g ? put_change(G, g, time, S_RUNNABLE, 0) : 0;
    case A_CUR_SYSCALL: return has_g ? put_change(G, g, time, S_SYSCALL, 0) : 0;
    case A_CUR_NOTEXIST: return has_g ? put_change(G, g, time, S_NOT_EXIST, 0) : 0;
    case A_CUR_WAITING: {
        if (!has_g) return 0;
        int64_t code = reason_code(R, G, a[1]);
        if (code < 0) return -1;
        return put_change(G, g, time, (uint32_t)code, 0);
    }
    case A_NAMED_RUNNABLE: return put_change(G, a[1], time, S_RUNNABLE, 0);
    case A_NAMED_RUNNING: return put_change(G, a[1], time, S_RUNNING, 0);
    case A_NAMED_SYSCALL: return put_change(G, a[1], time, S_SYSCALL, 0);
    case A_NAMED_WAITING: return put_change(G, a[1], time, S_WAITING, 0);
    case A_STATUS: {
        /* tracev2.GoStatus: 1 runnable, 2 running, 3 syscall, 4 waiting. */
        static const uint32_t map[5] = {0, S_RUNNABLE, S_RUNNING, S_SYSCALL, S_WAITING};
        return (a[3] >= 1 && a[3] <= 4) ? put_change(G, a[1], time, map[a[3]], 0) : 0;
    }
    case A_SWITCH: case A_SWITCH_DESTROY:
        /* Go's reader yields three events at t, t+1, t+2. */
        put_change(G, a[1], time, S_RUNNABLE, 0);
        if (has_g) put_change(G, g, time, act == A_SWITCH ? S_WAITING : S_NOT_EXIST, 1);
        return put_change(G, a[1], time, S_RUNNING, 2);
    case A_RANGE: {
        if (R->roles[typ] == R_STW_BEGIN && string_of(G, a[1]) == NULL)
            return unknown_string(R, "a scheduler event", a[1]);
        PyObject *gg = has_g ? PyLong_FromUnsignedLongLong(g) : Py_NewRef(Py_None);
        PyObject *tup = gg ? Py_BuildValue("(LiNK)", (long long)time, (int)typ, gg,
                                           (unsigned long long)a[1])
                           : NULL;
        int r = tup ? PyList_Append(G->ranges, tup) : -1;
        Py_XDECREF(tup);
        return r;
    }
    default:
        return 0;
    }
}

static int cmp_bucket(const void *pa, const void *pb) {
    const BucketRef *a = pa, *b = pb;
    return (a->g > b->g) - (a->g < b->g);
}

/* Allocate the buckets after phase 0: a counting sort by goroutine, the buckets laid out in
 * goroutine order (so that make_chunk can filter them in place, front to back). */
static int buckets(Gen *G) {
    for (Py_ssize_t i = 0; i < G->nth; i++) {
        Thread *th = &G->th[i];
        if (th->unknown && th->has_res && bump(G, th->res, th->unknown) < 0) return -1;
    }
    Py_ssize_t nb = G->bcount.n;
    G->order = xmalloc((size_t)(nb ? nb : 1) * sizeof(BucketRef));
    if (G->order == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nb; i++) {
        G->order[i].g = G->bgid.v[i];
        G->order[i].bucket = i;
    }
    qsort(G->order, (size_t)nb, sizeof(BucketRef), cmp_bucket);
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < nb; i++) {
        Py_ssize_t b = G->order[i].bucket;
        int64_t c = G->bcount.v[b];
        G->bcount.v[b] = total;
        total += c;
    }
    G->nch = total;
    G->ce = xmalloc((size_t)(total ? total : 1) * sizeof(uint64_t));
    if (!G->ce) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* After phase 1: each goroutine's changes in Go's order (stable by event time), minus the
 * ones that do not change its state (summary.go's rule, carried across generations), as one
 * chunk sorted by goroutine. */
static int make_chunk(Reader *R, Gen *G) {
    Py_ssize_t nb = G->bcount.n;
    if (nb == 0) return 0;
    Py_ssize_t prev = 0, maxlen = 0;
    for (Py_ssize_t i = 0; i < nb; i++) { /* bcount[b] is now the end of bucket b */
        Py_ssize_t end = (Py_ssize_t)G->bcount.v[G->order[i].bucket];
        if (end - prev > maxlen) maxlen = end - prev;
        prev = end;
    }
    uint64_t *tmp = xmalloc((size_t)(maxlen ? maxlen : 1) * sizeof(uint64_t));
    Chunk ch;
    memset(&ch, 0, sizeof(ch));
    ch.gids = xmalloc((size_t)nb * sizeof(uint64_t));
    ch.offsets = xmalloc((size_t)(nb + 1) * sizeof(uint32_t));
    if (!tmp || !ch.gids || !ch.offsets) {
        PyErr_NoMemory();
        goto fail;
    }
    /* Sort and filter in place: the write position never passes the bucket being read. */
    Py_ssize_t out = 0;
    uint64_t rmin = UINT64_MAX, rmax = 0;
    uint32_t cmax = 0;
    ch.offsets[0] = 0;
    prev = 0;
    for (Py_ssize_t i = 0; i < nb; i++) {
        Py_ssize_t s = prev, e = (Py_ssize_t)G->bcount.v[G->order[i].bucket];
        prev = e;
        merge_sort_changes(G->ce + s, tmp, e - s);
        int created;
        uint32_t *last = map_slot(&R->last_code, G->order[i].g, UINT32_MAX, &created);
        if (last == NULL) goto fail;
        int64_t pc = *last == UINT32_MAX ? -1 : (int64_t)*last;
        Py_ssize_t first = out;
        for (Py_ssize_t x = s; x < e; x++) {
            uint64_t v = G->ce[x];
            int64_t c = (int64_t)((v >> 2) & 0x3fff);
            if (pc == c || (pc >= S_WAITING && c >= S_WAITING)) continue;
            uint64_t rel = (v >> CHANGE_BITS) + (v & 3);
            G->ce[out++] = rel << CHANGE_BITS | (uint64_t)c;
            pc = c;
            if (rel < rmin) rmin = rel;
            if (rel > rmax) rmax = rel;
            if ((uint32_t)c > cmax) cmax = (uint32_t)c;
        }
        *last = pc < 0 ? UINT32_MAX : (uint32_t)pc;
        if (out > first) {
            ch.gids[ch.ngids] = G->order[i].g;
            ch.offsets[++ch.ngids] = (uint32_t)out;
        }
    }
    xfree(tmp);
    tmp = NULL;
    if (out == 0) {
        xfree(ch.gids);
        xfree(ch.offsets);
        return 0;
    }
    ch.n = out;
    ch.wide_times = rmax - rmin > UINT32_MAX;
    ch.base = ch.wide_times ? 0 : G->lo_ns + (int64_t)rmin;
    ch.wide_codes = cmax > UINT8_MAX;
    ch.codes = xmalloc((size_t)out * (ch.wide_codes ? 2 : 1));
    if (ch.codes == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    /* Codes out, then the times narrowed in place, front to back (entry x is read before
     * anything is written over it), and the rest given back. */
    for (Py_ssize_t x = 0; x < out; x++) {
        uint64_t v = G->ce[x];
        if (ch.wide_codes) ((uint16_t *)ch.codes)[x] = (uint16_t)(v & 0xffff);
        else ((uint8_t *)ch.codes)[x] = (uint8_t)(v & 0xff);
    }
    for (Py_ssize_t x = 0; x < out; x++) {
        uint64_t rel = G->ce[x] >> CHANGE_BITS;
        if (ch.wide_times) ((int64_t *)G->ce)[x] = G->lo_ns + (int64_t)rel;
        else ((uint32_t *)G->ce)[x] = (uint32_t)(rel - rmin);
    }
    ch.times = xrealloc(G->ce, (size_t)out * (ch.wide_times ? 8 : 4));
    if (ch.times == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    G->ce = NULL;
    if (grow((void **)&R->chunks, &R->chunk_cap, R->nchunks + 1, sizeof(Chunk)) < 0) goto fail;
    R->chunks[R->nchunks++] = ch;
    return 0;
fail:
    xfree(tmp);
    xfree(ch.gids);
    xfree(ch.offsets);
    xfree(ch.times);
    xfree(ch.codes);
    return -1;
}

/* ---- pairing (annotations.py's Assembler) ------------------------------------------------- */

static int pair(Reader *R, Gen *G, const URec *u) {
    const BatchView *b = &G->b[u->batch];
    const uint8_t *p = b->data + u->off + 1, *end = b->data + b->len;
    uint8_t typ = b->data[u->off];
    /* the goroutine: from the run of user events this one belongs to */
    uint32_t ui = (uint32_t)(u - G->u);
    Py_ssize_t lo = 0, hi = G->nrun;
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (G->runs[mid].first <= ui) lo = mid;
        else hi = mid;
    }
    int has_g = G->runs[lo].has_g;
    int n = R->argc[typ];
    uint64_t a[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        if (i <= 3) {
            if (uvarint(&p, end, &a[i]) != 0) return fail(R->corrupt, "bad user event");
        } else if (skip_varint(&p, end) != 0) {
            return fail(R->corrupt, "bad user event");
        }
    }
    if (n <= 3) a[2] = a[3] = 0;
    uint64_t g = has_g ? G->runs[lo].g : NO_G;
    if (!has_g && G->th[b->thread].has_res) g = G->th[b->thread].res;
    int64_t t = u->time;
    int role = R->roles[typ];
    if (role == R_TASK_END) {
        uint32_t row;
        if (!ix_find(&R->task_row, a[1], &row)) {
            /* Begun before tracing started: Go knows neither its type nor its parent. */
            if (R->t_id.n >= (Py_ssize_t)UINT32_MAX - 1) return fail(R->corrupt, "too many tasks");
            if (ix_set(&R->task_row, a[1], (uint32_t)R->t_id.n) < 0) return -1;
            if (idc_push(&R->t_id, a[1]) < 0 || idc_push(&R->t_parent, NO_PARENT) < 0 ||
                PUSH(&R->t_name, 0) < 0 || PUSH(&R->t_begin, NO_TIME) < 0 ||
                PUSH(&R->t_end, t) < 0 || idc_push(&R->t_bg, NO_G) < 0 ||
                idc_push(&R->t_eg, g) < 0)
                return -1;
            return 0;
        }
        /* A repeated end overwrites the first, as go tool trace's task summary does. */
        R->t_end.v[row] = t;
        return idc_set(&R->t_eg, row, g);
    }
    uint64_t sid = role == R_TASK_BEGIN ? a[3] : a[2];
    int64_t name = string_index(R, G, sid);
    if (name == -2) return -1;
    if (name < 0) return unknown_string(R, role == R_TASK_BEGIN ? "a task" : "an annotation", sid);
    switch (role) {
    case R_TASK_BEGIN: {
        if (R->t_id.n >= (Py_ssize_t)UINT32_MAX - 1) return fail(R->corrupt, "too many tasks");
        uint32_t row;
        if (ix_find(&R->task_row, a[1], &row)) {
            if (R->t_begin.v[row] != NO_TIME && R->t_end.v[row] == NO_TIME) {
                char msg[64];
                snprintf(msg, sizeof msg, "task id %llu begun twice", (unsigned long long)a[1]);
                return fail(R->corrupt, msg);
            }
            if (map_put(&R->odd, a[1], 1) < 0) return -1; /* an id of several tasks */
        }
        if (ix_set(&R->task_row, a[1], (uint32_t)R->t_id.n) < 0) return -1;
        if (idc_push(&R->t_id, a[1]) < 0 ||
            idc_push(&R->t_parent, a[2] == 0 ? NO_PARENT : a[2]) < 0 ||
            PUSH(&R->t_name, (uint32_t)name) < 0 || PUSH(&R->t_begin, t) < 0 ||
            PUSH(&R->t_end, NO_TIME) < 0 || idc_push(&R->t_bg, g) < 0 ||
            idc_push(&R->t_eg, NO_G) < 0)
            return -1;
        return 0;
    }
    case R_REGION_BEGIN: {
        if (R->r_task.n >= (Py_ssize_t)UINT32_MAX - 1) return fail(R->corrupt, "too many regions");
        uint32_t *top = map_slot(&R->open_top, g, 0, NULL);
        if (top == NULL) return -1;
        uint32_t below = *top;
        *top = (uint32_t)R->r_task.n + 1;
        if (below && map_put(&R->region_below, (uint64_t)R->r_task.n, below) < 0) return -1;
        if (idc_push(&R->r_task, a[1]) < 0 || PUSH(&R->r_name, (uint32_t)name) < 0 ||
            idc_push(&R->r_g, g) < 0 || PUSH(&R->r_begin, t) < 0 ||
            PUSH(&R->r_end, NO_TIME) < 0)
            return -1;
        return 0;
    }
    case R_REGION_END: {
        uint32_t *top = map_get(&R->open_top, g);
        if (top != NULL && *top) {
            uint64_t row = *top - 1;
            R->r_end.v[row] = t;
            uint32_t *below = map_get(&R->region_below, row);
            if (below == NULL) {
                map_del(&R->open_top, g); /* keep only goroutines in regions */
                return 0;
            }
            *top = *below;
            map_del(&R->region_below, row);
            return 0;
        }
        if (idc_push(&R->r_task, a[1]) < 0 || PUSH(&R->r_name, (uint32_t)name) < 0 ||
            idc_push(&R->r_g, g) < 0 || PUSH(&R->r_begin, NO_TIME) < 0 ||
            PUSH(&R->r_end, t) < 0)
            return -1;
        return 0;
    }
    case R_LOG: {
        int64_t value = string_index(R, G, a[3]);
        if (value == -2) return -1;
        if (value < 0) return unknown_string(R, "a log", a[3]);
        if (idc_push(&R->l_task, a[1]) < 0 || PUSH(&R->l_key, (uint32_t)name) < 0 ||
            PUSH(&R->l_value, (uint32_t)value) < 0 || PUSH(&R->l_time, t) < 0 ||
            idc_push(&R->l_g, g) < 0)
            return -1;
        return 0;
    }
    default:
        return fail(R->corrupt, "unexpected user event");
    }
}

/* Pair G's user events (times already Go's) in Go's order. */
static int pair_in_order(Reader *R, Gen *G) {
    const URec *u = G->u;
    Py_ssize_t n = G->nu, nr = 1;
    for (Py_ssize_t i = 1; i < n; i++) nr += u[i].time < u[i - 1].time;
    URun *h = xmalloc((size_t)nr * sizeof(URun));
    if (h == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t k = 0;
    uint32_t start = 0;
    for (Py_ssize_t i = 1; i <= n; i++)
        if (i == n || u[i].time < u[i - 1].time) {
            h[k].pos = start;
            h[k++].end = (uint32_t)i;
            start = (uint32_t)i;
        }
    for (Py_ssize_t i = nr / 2 - 1; i >= 0; i--) urun_sift(h, nr, i, u);
    while (nr) {
        if (pair(R, G, &u[h[0].pos]) < 0) {
            xfree(h);
            return -1;
        }
        if (++h[0].pos == h[0].end) h[0] = h[--nr];
        urun_sift(h, nr, 0, u);
    }
    xfree(h);
    return 0;
}

/* ---- Reader.generation -------------------------------------------------------------------- */

static int load_batches(Reader *R, Gen *G, PyObject *seq) {
    Py_ssize_t nb = PySequence_Fast_GET_SIZE(seq);
    G->b = xmalloc((size_t)(nb ? nb : 1) * sizeof(BatchView));
    G->next_batch = xmalloc((size_t)(nb ? nb : 1) * sizeof(uint32_t));
    if (G->b == NULL || G->next_batch == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t bi = 0; bi < nb; bi++) {
        PyObject *o = PySequence_Fast_GET_ITEM(seq, bi);
        if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 3 ||
            !PyBytes_Check(PyTuple_GET_ITEM(o, 2))) {
            PyErr_SetString(PyExc_TypeError, "event batches must be (m, time, bytes) tuples");
            return -1;
        }
        uint64_t m = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(o, 0));
        uint64_t t = PyErr_Occurred() ? 0 : PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(o, 1));
        if (PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return -1;
            PyErr_Clear();
            return fail(R->corrupt, "batch header value out of range");
        }
        PyObject *d = PyTuple_GET_ITEM(o, 2);
        BatchView *b = &G->b[G->nb];
        b->data = (const uint8_t *)PyBytes_AS_STRING(d);
        b->len = PyBytes_GET_SIZE(d);
        if (b->len == 0) continue;
        if (b->len > 65536) return fail(R->corrupt, "batch too large");
        if (to_units(t, G, &b->base) < 0) return fail(R->corrupt, "timestamp out of range");
        if (thread_of(R, G, m, &b->thread) < 0) return -1;
        Thread *th = &G->th[b->thread];
        if (th->first_batch == UINT32_MAX) th->first_batch = (uint32_t)G->nb;
        else G->next_batch[th->last_batch] = (uint32_t)G->nb;
        th->last_batch = (uint32_t)G->nb;
        G->next_batch[G->nb] = UINT32_MAX;
        G->nb++;
    }
    return 0;
}

PyDoc_STRVAR(generation_doc,
"generation(batches, strings, unit, freq, samples, sync) -> (last_time, ranges)\n"
"--\n\n"
"Read one generation. batches: its event batches in file order, as (m, time ticks, bytes);\n"
"strings: its string batches (bytes); unit: ns per tick when whole (times kept in ticks),\n"
"else 0 (each delta converted with freq, ns per tick); samples: CPU-sample times (ns) as\n"
"native int64 bytes, sorted; sync: the time of the generation's Sync (0: none).\n"
"Returns Go's time of the generation's last event and, with states, its GC, stop-the-world\n"
"and mark-assist events as (time, type, goroutine or None, arg1). Raises the reader's\n"
"corrupt or limit exception.");

static PyObject *Reader_generation(Reader *R, PyObject *args) {
    PyObject *batches, *strings;
    long long unit_in, sync;
    double freq;
    Py_buffer samples;
    if (!PyArg_ParseTuple(args, "OOLdy*L", &batches, &strings, &unit_in, &freq, &samples, &sync))
        return NULL;
    Gen G;
    memset(&G, 0, sizeof(G));
    PyObject *seq = NULL, *result = NULL;
    G.ns_mode = unit_in == 0;
    G.unit = G.ns_mode ? 1 : unit_in;
    G.freq = freq;
    G.sync = sync;
    if (G.unit < 1 || G.unit > (1 << 20) || sync < 0 || sync >= TIME_LIMIT || samples.len % 8) {
        PyErr_SetString(PyExc_ValueError, "unit, sync or samples out of range");
        goto done;
    }
    G.ranges = PyList_New(0);
    seq = PySequence_Fast(batches, "batches must be a sequence");
    if (G.ranges == NULL || seq == NULL) goto done;
    if (parse_strings(R, &G, strings) < 0 || load_batches(R, &G, seq) < 0) goto done;
    if (scan(R, &G, 0) < 0) goto done;

    /* Extra events (switches, CPU samples), sorted; per-thread times sorted (broken clocks). */
    Py_ssize_t ns = samples.len / 8;
    if (ns) {
        if (RESERVE(&G.extra, ns) < 0) goto done;
        memcpy(G.extra.v + G.extra.n, samples.buf, (size_t)ns * 8);
        G.extra.n += ns;
    }
    if (G.extra.n > 1) qsort(G.extra.v, (size_t)G.extra.n, sizeof(int64_t), cmp_i64);

    /* Goroutines not known from this generation's events: the thread's syscall binding, else
     * the goroutine it ran at the end of the previous generation. */
    for (Py_ssize_t i = 0; i < G.nth; i++) {
        Thread *th = &G.th[i];
        uint64_t *v = gmap_get(&G.bindings, th->m);
        if (v == NULL) v = gmap_get(&R->carry, th->m);
        if (v != NULL) {
            th->has_res = 1;
            th->res = *v;
        }
    }
    /* How far apart the generation's times are: refuse absurd spans (the packed changes
     * hold 48 bits of time; a Go generation lasts about a second). */
    {
        int64_t lo = INT64_MAX, hi = 0;
        for (Py_ssize_t i = 0; i < G.nb; i++)
            if (G.b[i].base < lo) lo = G.b[i].base;
        for (Py_ssize_t i = 0; i < G.nth; i++)
            if (G.th[i].last_t > hi) hi = G.th[i].last_t;
        if (G.nb == 0) lo = hi = 0;
        G.lo_ns = lo * G.unit;
        hi *= G.unit;
        if (G.sync > hi) hi = G.sync;
        if (hi - G.lo_ns >= R->max_span) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "a generation spanning more than %lld ns (limit MAX_GENERATION_SPAN_NS)",
                     (long long)R->max_span);
            fail(R->limit, msg);
            goto done;
        }
    }
    int64_t last;
    if (merge_times(R, &G, &last) < 0) goto done;

    /* User events in Go's order, paired (before the state buckets exist: less at once). */
    if (G.nu) {
        for (Py_ssize_t i = 0; i < G.nu; i++) {
            URec *u = &G.u[i];
            u->time = kept_time(&G, G.b[u->batch].thread, u->time, u->ties);
        }
        if (pair_in_order(R, &G) < 0) goto done;
        xfree(G.u);
        G.u = NULL;
        G.nu = G.ucap = 0;
    }

    if (R->states) {
        if (buckets(&G) < 0 || scan(R, &G, 1) < 0 || make_chunk(R, &G) < 0) goto done;
    }

    /* What the next generation needs: the goroutine each thread ran last. */
    const Map *bi = &G.bindings.index;
    for (Py_ssize_t i = 0; i < bi->cap; i++)
        if (bi->used[i] && gmap_put(&R->carry, bi->keys[i], G.bindings.vals.v[bi->vals[i]]) < 0)
            goto done;
    for (Py_ssize_t i = 0; i < G.nth; i++)
        if (G.th[i].has_g && gmap_put(&R->carry, G.th[i].m, G.th[i].g) < 0) goto done;
    result = Py_BuildValue("(LO)", (long long)last, G.ranges);
done:
    PyBuffer_Release(&samples);
    Py_XDECREF(seq);
    gen_free(&G);
    return result;
}

/* ---- Reader.finish ------------------------------------------------------------------------- */

static PyObject *take_bytes(void *v, Py_ssize_t n, size_t elem) {
    return PyBytes_FromStringAndSize(v ? (const char *)v : "", n * (Py_ssize_t)elem);
}

#define COLUMN(vec, code)                                                  \
    ((tmp = take_bytes((vec)->v, (vec)->n, sizeof(*(vec)->v)))             \
         ? (FREE(vec), Py_BuildValue("(sN)", code, tmp))                   \
         : NULL)

static int set_item(PyObject *d, const char *k, PyObject *v) {
    if (v == NULL) return -1;
    int r = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return r;
}

PyDoc_STRVAR(finish_doc,
"finish() -> dict\n"
"--\n\n"
"Hand over everything read (the reader is empty afterwards): the string pool, the task,\n"
"region and log columns as (typecode, bytes), the goroutine-state chunks, the goroutine\n"
"index over them and the blocking reasons (pool indices).");

static int cmp_gid_pair(const void *pa, const void *pb) {
    const uint64_t *a = pa, *b = pb; /* pairs of uint64, by both */
    if (a[0] != b[0]) return (a[0] > b[0]) - (a[0] < b[0]);
    return (a[1] > b[1]) - (a[1] < b[1]);
}

static inline int is_none_g(uint64_t g) { return g == NO_G; }

/* columns.py's task_goroutine_index: every goroutine of the task ids whose goroutines are not
 * just the begin and end goroutines of their one task, as sorted (id, goroutine) pairs. */
static int irregular(Reader *R, U64Vec *pairs) {
    const IdCol *tg[2] = {&R->r_task, &R->l_task}, *gg[2] = {&R->r_g, &R->l_g};
    for (int k = 0; k < 2; k++)
        for (Py_ssize_t i = 0; i < tg[k]->n; i++) {
            uint64_t g = idc_get(gg[k], i), tid = idc_get(tg[k], i);
            if (is_none_g(g)) continue;
            uint32_t row;
            int found = ix_find(&R->task_row, tid, &row);
            if ((!found || (g != idc_get(&R->t_bg, row) && g != idc_get(&R->t_eg, row))) &&
                map_put(&R->odd, tid, 1) < 0)
                return -1;
        }
    if (R->odd.n == 0) return 0;
    for (Py_ssize_t i = 0; i < R->t_id.n; i++) {
        uint64_t tid = idc_get(&R->t_id, i);
        if (map_get(&R->odd, tid) == NULL) continue;
        uint64_t g2[2] = {idc_get(&R->t_bg, i), idc_get(&R->t_eg, i)};
        for (int j = 0; j < 2; j++)
            if (!is_none_g(g2[j]) && (PUSH(pairs, tid) < 0 || PUSH(pairs, g2[j]) < 0)) return -1;
    }
    for (int k = 0; k < 2; k++)
        for (Py_ssize_t i = 0; i < tg[k]->n; i++) {
            uint64_t g = idc_get(gg[k], i), tid = idc_get(tg[k], i);
            if (is_none_g(g) || map_get(&R->odd, tid) == NULL) continue;
            if (PUSH(pairs, tid) < 0 || PUSH(pairs, g) < 0) return -1;
        }
    qsort(pairs->v, (size_t)(pairs->n / 2), 2 * sizeof(uint64_t), cmp_gid_pair);
    return 0;
}

static PyObject *Reader_finish(Reader *R, PyObject *noargs) {
    (void)noargs;
    PyObject *d = PyDict_New(), *tmp;
    if (d == NULL) return NULL;
    U64Vec odd = {0};
    if (irregular(R, &odd) < 0) {
        FREE(&odd);
        goto fail;
    }
    {
        /* every odd id, also those with no goroutine at all */
        U64Vec ids = {0};
        for (Py_ssize_t i = 0; i < R->odd.cap; i++)
            if (R->odd.used[i] && PUSH(&ids, R->odd.keys[i]) < 0) {
                FREE(&ids);
                FREE(&odd);
                goto fail;
            }
        if (set_item(d, "odd_ids", COLUMN(&ids, "Q")) < 0 ||
            set_item(d, "odd_pairs", COLUMN(&odd, "Q")) < 0) {
            FREE(&ids);
            FREE(&odd);
            goto fail;
        }
    }
    if (set_item(d, "pool_data", take_bytes(R->pool.data.v, R->pool.data.n, 1)) < 0 ||
        set_item(d, "pool_offsets", take_bytes(R->pool.off.v, R->pool.off.n, 8)) < 0)
        goto fail;
    pool_free(&R->pool);
    if (set_item(d, "task_id", idc_take(&R->t_id)) < 0 ||
        set_item(d, "task_parent", idc_take(&R->t_parent)) < 0 ||
        set_item(d, "task_name", COLUMN(&R->t_name, "I")) < 0 ||
        set_item(d, "task_begin", COLUMN(&R->t_begin, "q")) < 0 ||
        set_item(d, "task_end", COLUMN(&R->t_end, "q")) < 0 ||
        set_item(d, "task_begin_g", idc_take(&R->t_bg)) < 0 ||
        set_item(d, "task_end_g", idc_take(&R->t_eg)) < 0 ||
        set_item(d, "region_task", idc_take(&R->r_task)) < 0 ||
        set_item(d, "region_name", COLUMN(&R->r_name, "I")) < 0 ||
        set_item(d, "region_g", idc_take(&R->r_g)) < 0 ||
        set_item(d, "region_begin", COLUMN(&R->r_begin, "q")) < 0 ||
        set_item(d, "region_end", COLUMN(&R->r_end, "q")) < 0 ||
        set_item(d, "log_task", idc_take(&R->l_task)) < 0 ||
        set_item(d, "log_key", COLUMN(&R->l_key, "I")) < 0 ||
        set_item(d, "log_value", COLUMN(&R->l_value, "I")) < 0 ||
        set_item(d, "log_time", COLUMN(&R->l_time, "q")) < 0 ||
        set_item(d, "log_g", idc_take(&R->l_g)) < 0)
        goto fail;
    /* The goroutine index over the chunks: (g, chunk, pos) sorted. */
    Py_ssize_t np = 0;
    for (Py_ssize_t c = 0; c < R->nchunks; c++) np += R->chunks[c].ngids;
    uint64_t *pairs = xmalloc((size_t)(np ? np : 1) * 2 * sizeof(uint64_t));
    if (pairs == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t c = 0; c < R->nchunks; c++)
        for (Py_ssize_t p = 0; p < R->chunks[c].ngids; p++) {
            pairs[2 * k] = R->chunks[c].gids[p];
            pairs[2 * k + 1] = (uint64_t)c << 32 | (uint64_t)p;
            k++;
        }
    qsort(pairs, (size_t)np, 2 * sizeof(uint64_t), cmp_gid_pair);
    U64Vec gids = {0};
    I64Vec start = {0};
    U32Vec chunk = {0}, pos = {0};
    int bad = RESERVE(&chunk, np) < 0 || RESERVE(&pos, np) < 0;
    for (Py_ssize_t i = 0; i < np && !bad; i++) {
        if ((gids.n == 0 || gids.v[gids.n - 1] != pairs[2 * i]) &&
            (PUSH(&gids, pairs[2 * i]) < 0 || PUSH(&start, i) < 0))
            bad = 1;
        chunk.v[chunk.n++] = (uint32_t)(pairs[2 * i + 1] >> 32);
        pos.v[pos.n++] = (uint32_t)pairs[2 * i + 1];
    }
    xfree(pairs);
    if (bad || PUSH(&start, np) < 0 ||
        set_item(d, "index_gids", COLUMN(&gids, "Q")) < 0 ||
        set_item(d, "index_start", COLUMN(&start, "q")) < 0 ||
        set_item(d, "index_chunk", COLUMN(&chunk, "I")) < 0 ||
        set_item(d, "index_pos", COLUMN(&pos, "I")) < 0) {
        FREE(&gids);
        FREE(&start);
        FREE(&chunk);
        FREE(&pos);
        goto fail;
    }
    PyObject *chunks = PyList_New(0);
    if (chunks == NULL || PyDict_SetItemString(d, "chunks", chunks) < 0) {
        Py_XDECREF(chunks);
        goto fail;
    }
    Py_DECREF(chunks);
    for (Py_ssize_t c = 0; c < R->nchunks; c++) {
        Chunk *ch = &R->chunks[c];
        PyObject *t = Py_BuildValue(
            "(NNLsNsN)", take_bytes(ch->gids, ch->ngids, 8),
            take_bytes(ch->offsets, ch->ngids + 1, 4), (long long)ch->base,
            ch->wide_times ? "q" : "I", take_bytes(ch->times, ch->n, ch->wide_times ? 8 : 4),
            ch->wide_codes ? "H" : "B", take_bytes(ch->codes, ch->n, ch->wide_codes ? 2 : 1));
        xfree(ch->gids);
        xfree(ch->offsets);
        xfree(ch->times);
        xfree(ch->codes);
        memset(ch, 0, sizeof(*ch));
        if (t == NULL || PyList_Append(chunks, t) < 0) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    R->nchunks = 0;
    if (set_item(d, "reasons", COLUMN(&R->reasons, "I")) < 0) goto fail;
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* ---- task_totals: states.py's task_breakdown, summed per task type --------------------------- */

/* Element i of a buffer of unsigned (or, at 8 bytes, any 64-bit) integers. */
static inline uint64_t at(const Py_buffer *b, Py_ssize_t i) {
    const char *p = (const char *)b->buf + i * b->itemsize;
    switch (b->itemsize) {
    case 1: return *(const uint8_t *)p;
    case 2: return *(const uint16_t *)p;
    case 4: return *(const uint32_t *)p;
    default: return *(const uint64_t *)p;
    }
}

typedef struct {
    Py_buffer gids, offsets, times, codes;
    int64_t base;
} CView;

static int hold(void *unused, PyObject *o, Py_buffer *b) {
    (void)unused;
    if (PyObject_GetBuffer(o, b, PyBUF_FORMAT | PyBUF_ND) < 0) return -1;
    if (b->itemsize != 1 && b->itemsize != 2 && b->itemsize != 4 && b->itemsize != 8) {
        PyBuffer_Release(b);
        PyErr_SetString(PyExc_ValueError, "unsupported item size");
        return -1;
    }
    return 0;
}

/* Hold one chunk of goroutine-state changes, a (gids, offsets, base, times, codes) tuple, in
 * ``v``; on failure nothing stays held. */
static int hold_chunk(PyObject *c, CView *v) {
    if (!PyTuple_Check(c) || PyTuple_GET_SIZE(c) != 5) {
        PyErr_SetString(PyExc_ValueError, "chunks must be 5-tuples");
        return -1;
    }
    v->base = PyLong_AsLongLong(PyTuple_GET_ITEM(c, 2));
    if (PyErr_Occurred()) return -1;
    Py_buffer *bufs[4] = {&v->gids, &v->offsets, &v->times, &v->codes};
    int items[4] = {0, 1, 3, 4}, k = 0;
    for (; k < 4; k++)
        if (hold(NULL, PyTuple_GET_ITEM(c, items[k]), bufs[k]) < 0) break;
    if (k < 4) {
        while (k-- > 0) PyBuffer_Release(bufs[k]);
        return -1;
    }
    return 0;
}

/* Release what hold_chunk held for the first n views, and the array. */
static void release_chunks(CView *cv, Py_ssize_t n) {
    for (Py_ssize_t c = 0; c < n; c++) {
        PyBuffer_Release(&cv[c].gids);
        PyBuffer_Release(&cv[c].offsets);
        PyBuffer_Release(&cv[c].times);
        PyBuffer_Release(&cv[c].codes);
    }
    xfree(cv);
}

/* states.py's RangeSum: how much of [b, e) a set of ranges covers, summed over the ranges:
 * F(e) - F(b), F(x) the total length of the ranges' parts up to x, from sorted starts and ends
 * with prefix sums. An open range start or end (NO_TIME) reaches beyond any time. */
#define FAR ((int64_t)1 << 62)

typedef struct {
    int64_t *begins, *ends, *bsum, *esum; /* bsum[i]: sum of begins[0..i) */
    Py_ssize_t n;
} RangeSum;

static void rs_free(RangeSum *r) {
    xfree(r->begins);
    xfree(r->ends);
    xfree(r->bsum);
    xfree(r->esum);
    memset(r, 0, sizeof(*r));
}

/* From flat [begin, end] pairs. */
static int rs_init(RangeSum *r, const int64_t *flat, Py_ssize_t n) {
    memset(r, 0, sizeof(*r));
    size_t sz = (size_t)(n ? n : 1) * sizeof(int64_t);
    r->begins = xmalloc(sz);
    r->ends = xmalloc(sz);
    r->bsum = xmalloc(sz + sizeof(int64_t));
    r->esum = xmalloc(sz + sizeof(int64_t));
    if (!r->begins || !r->ends || !r->bsum || !r->esum) {
        rs_free(r);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t b = flat[2 * i] == NO_TIME ? -FAR : flat[2 * i];
        int64_t e = flat[2 * i + 1] == NO_TIME ? FAR : flat[2 * i + 1];
        if (e <= b) continue; /* covers nothing */
        r->begins[r->n] = b;
        r->ends[r->n] = e;
        r->n++;
    }
    qsort(r->begins, (size_t)r->n, sizeof(int64_t), cmp_i64);
    qsort(r->ends, (size_t)r->n, sizeof(int64_t), cmp_i64);
    r->bsum[0] = r->esum[0] = 0;
    for (Py_ssize_t i = 0; i < r->n; i++) {
        r->bsum[i + 1] = r->bsum[i] + r->begins[i];
        r->esum[i + 1] = r->esum[i] + r->ends[i];
    }
    return 0;
}

static Py_ssize_t upper_bound(const int64_t *a, Py_ssize_t n, int64_t x) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int64_t rs_upto(const RangeSum *r, int64_t x) {
    Py_ssize_t nb = upper_bound(r->begins, r->n, x), ne = upper_bound(r->ends, r->n, x);
    return (int64_t)nb * x - r->bsum[nb] - ((int64_t)ne * x - r->esum[ne]);
}

static int64_t rs_overlap(const RangeSum *r, int64_t b, int64_t e) {
    if (e <= b || r->n == 0) return 0;
    return rs_upto(r, e) - rs_upto(r, b);
}

static inline int none_g(uint64_t g) { return g == NO_G || g == UINT32_MAX; }

/* A goroutine's changes in time order, across its segments (chunk, position). */
typedef struct {
    const CView *cv;
    const Py_buffer *ichunk, *ipos;
    Py_ssize_t seg, seg_end, i, j; /* current segment; its change range [i, j) */
    const CView *c;
} Walk;

static int walk_start(Walk *w, Py_ssize_t s_lo, Py_ssize_t s_hi) {
    w->seg = s_lo;
    w->seg_end = s_hi;
    for (; w->seg < w->seg_end; w->seg++) {
        w->c = &w->cv[at(w->ichunk, w->seg)];
        Py_ssize_t p = (Py_ssize_t)at(w->ipos, w->seg);
        w->i = (Py_ssize_t)at(&w->c->offsets, p);
        w->j = (Py_ssize_t)at(&w->c->offsets, p + 1);
        if (w->i < w->j) return 1;
    }
    return 0;
}

/* Time and code of the current change; advance: 0 when there is none left. */
static inline int64_t walk_time(const Walk *w) {
    return w->c->base + (int64_t)at(&w->c->times, w->i);
}

static inline uint64_t walk_code(const Walk *w) { return at(&w->c->codes, w->i); }

static int walk_next(Walk *w) {
    if (++w->i < w->j) return 1;
    w->seg++;
    return walk_start(w, w->seg, w->seg_end);
}

typedef struct {
    int64_t x;
    int64_t sign;
    Py_ssize_t row;
} Endpoint;

static int cmp_endpoint(const void *pa, const void *pb) {
    const Endpoint *a = pa, *b = pb;
    return (a->x > b->x) - (a->x < b->x);
}

static int cmp_pair_u64(const void *pa, const void *pb) {
    const uint64_t *a = pa, *b = pb;
    if (a[0] != b[0]) return (a[0] > b[0]) - (a[0] < b[0]);
    return (a[1] > b[1]) - (a[1] < b[1]);
}

PyDoc_STRVAR(task_totals_doc,
"task_totals(tasks, irregular, index, chunks, gc, stw, assists, ncodes, rows=None)\n"
"    -> (names, counts, sums)\n"
"--\n\n"
"states.py's task_breakdown summed per task type over every complete task with a type name\n"
"(the same sweep as states.py's totals_by_name: n log n whatever the tasks' overlaps).\n"
"tasks: (id, name, begin, end, begin_g, end_g) columns; irregular: task id -> goroutines\n"
"(columns.task_goroutine_index); index, chunks: GoroutineStates' goroutine index and chunks\n"
"(gids, offsets, base, times, codes); gc, stw: int64 [begin, end, ...] (NO_TIME: open);\n"
"assists: (gids, offsets, ranges) per goroutine; ncodes: state codes. Returns per type:\n"
"its name index, task count and ncodes + 3 sums (ns per code, GC, stop-the-world, assists),\n"
"as int64 bytes. rows (int64 task indices of distinct complete named tasks): one row per\n"
"given task instead, in that order (its name index, a count of 1 and its own sums: each\n"
"task's breakdown), the sums column-major (code c of row r at c * len(rows) + r).");

static PyObject *task_totals(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tasks, *irr, *index, *chunks, *gc_o, *stw_o, *assists;
    Py_ssize_t ncodes;
    PyObject *rows_o = Py_None;
    if (!PyArg_ParseTuple(args, "O!O!O!O!OOO!n|O", &PyTuple_Type, &tasks, &PyDict_Type, &irr,
                          &PyTuple_Type, &index, &PyList_Type, &chunks, &gc_o, &stw_o,
                          &PyTuple_Type, &assists, &ncodes, &rows_o))
        return NULL;
    int per_task = rows_o != Py_None;
    Py_buffer rowsb;
    int have_rows = 0;
    if (PyTuple_GET_SIZE(tasks) != 6 || PyTuple_GET_SIZE(index) != 4 ||
        PyTuple_GET_SIZE(assists) != 3 || ncodes < 1 || ncodes > (1 << 20)) {
        PyErr_SetString(PyExc_ValueError, "bad arguments");
        return NULL;
    }
    Py_buffer tb[6], ib[4], gcb, stwb, ab[3];
    int ntb = 0, nib = 0, nab = 0, have_gc = 0, have_stw = 0;
    Py_ssize_t nch = PyList_GET_SIZE(chunks), ncv = 0;
    CView *cv = xcalloc((size_t)(nch ? nch : 1), sizeof(CView));
    PyObject *result = NULL;
    Map rows = {0};
    I64Vec counts = {0}, sums = {0}, total = {0};
    U32Vec names = {0}, touched = {0};
    U64Vec pairs = {0}, gs = {0};
    Endpoint *ends = NULL;
    Py_ssize_t endcap = 0;
    Py_ssize_t *task_row = NULL;
    uint8_t *marked = NULL; /* codes in touched */
    RangeSum gc_rs = {0}, stw_rs = {0}, as_rs = {0};
    if (cv == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (; ntb < 6; ntb++)
        if (hold(NULL, PyTuple_GET_ITEM(tasks, ntb), &tb[ntb]) < 0) goto done;
    for (; nib < 4; nib++)
        if (hold(NULL, PyTuple_GET_ITEM(index, nib), &ib[nib]) < 0) goto done;
    for (; nab < 3; nab++)
        if (hold(NULL, PyTuple_GET_ITEM(assists, nab), &ab[nab]) < 0) goto done;
    if (per_task) {
        if (hold(NULL, rows_o, &rowsb) < 0) goto done;
        have_rows = 1;
        if (rowsb.itemsize != 8) {
            PyErr_SetString(PyExc_ValueError, "rows must be int64");
            goto done;
        }
    }
    if (hold(NULL, gc_o, &gcb) < 0) goto done;
    have_gc = 1;
    if (hold(NULL, stw_o, &stwb) < 0) goto done;
    have_stw = 1;
    for (; ncv < nch; ncv++) {
        if (hold_chunk(PyList_GET_ITEM(chunks, ncv), &cv[ncv]) < 0) goto done;
    }
    Py_ssize_t nt = tb[0].len / tb[0].itemsize;
    for (int k = 1; k < 6; k++)
        if (tb[k].len / tb[k].itemsize != nt) {
            PyErr_SetString(PyExc_ValueError, "task columns differ in length");
            goto done;
        }
    if (rs_init(&gc_rs, gcb.buf, gcb.len / 16) < 0 ||
        rs_init(&stw_rs, stwb.buf, stwb.len / 16) < 0)
        goto done;
    Py_ssize_t ngids = ib[0].len / ib[0].itemsize, na = ab[0].len / ab[0].itemsize;
    const int64_t *ar = ab[2].buf;
    Py_ssize_t width = ncodes + 3;
    task_row = xmalloc((size_t)(nt ? nt : 1) * sizeof(Py_ssize_t));
    marked = xcalloc((size_t)ncodes, 1);
    if (task_row == NULL || marked == NULL || RESERVE(&total, ncodes) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    memset(total.v, 0, (size_t)ncodes * sizeof(int64_t));
    /* Per complete named task: its type's row, the GC and stop-the-world overlaps, and a
     * (goroutine, task) pair per goroutine of the task. */
    for (Py_ssize_t i = 0; i < nt; i++) task_row[i] = -1;
    Py_ssize_t niter = per_task ? rowsb.len / 8 : nt;
    for (Py_ssize_t r = 0; r < niter; r++) {
        Py_ssize_t i = per_task ? (Py_ssize_t)((const int64_t *)rowsb.buf)[r] : r;
        if (i < 0 || i >= nt) {
            PyErr_SetString(PyExc_ValueError, "row out of range");
            goto done;
        }
        int64_t begin = (int64_t)at(&tb[2], i), end = (int64_t)at(&tb[3], i);
        uint64_t name = at(&tb[1], i);
        if (begin == NO_TIME || end == NO_TIME || name == 0 || task_row[i] != -1) {
            if (per_task) {
                PyErr_SetString(PyExc_ValueError, "rows must be distinct complete named tasks");
                goto done;
            }
            continue;
        }
        int created = 1;
        uint32_t fresh = (uint32_t)names.n;
        uint32_t *row = per_task ? &fresh : map_slot(&rows, name, (uint32_t)names.n, &created);
        if (row == NULL) goto done;
        if (created) {
            if (PUSH(&names, (uint32_t)name) < 0 || PUSH(&counts, 0) < 0 ||
                RESERVE(&sums, width) < 0)
                goto done;
            memset(sums.v + sums.n, 0, (size_t)width * sizeof(int64_t));
            sums.n += width;
        }
        task_row[i] = (Py_ssize_t)*row;
        counts.v[*row]++;
        int64_t *acc = sums.v + (Py_ssize_t)*row * width;
        acc[ncodes] += rs_overlap(&gc_rs, begin, end);
        acc[ncodes + 1] += rs_overlap(&stw_rs, begin, end);
        gs.n = 0;
        PyObject *odd = NULL;
        if (PyDict_GET_SIZE(irr)) {
            PyObject *key = PyLong_FromUnsignedLongLong(at(&tb[0], i));
            if (key == NULL) goto done;
            odd = PyDict_GetItemWithError(irr, key);
            Py_DECREF(key);
            if (odd == NULL && PyErr_Occurred()) goto done;
        }
        if (odd != NULL) {
            PyObject *it = PyObject_GetIter(odd), *o;
            if (it == NULL) goto done;
            while ((o = PyIter_Next(it)) != NULL) {
                uint64_t g = PyLong_AsUnsignedLongLong(o);
                Py_DECREF(o);
                if (PyErr_Occurred() || PUSH(&gs, g) < 0) {
                    Py_DECREF(it);
                    goto done;
                }
            }
            Py_DECREF(it);
            if (PyErr_Occurred()) goto done;
        } else {
            uint64_t bg = at(&tb[4], i), eg = at(&tb[5], i);
            if (!none_g(bg) && PUSH(&gs, bg) < 0) goto done;
            if (!none_g(eg) && eg != bg && PUSH(&gs, eg) < 0) goto done;
        }
        for (Py_ssize_t x = 0; x < gs.n; x++)
            if (PUSH(&pairs, gs.v[x]) < 0 || PUSH(&pairs, (uint64_t)i) < 0) goto done;
    }
    qsort(pairs.v, (size_t)(pairs.n / 2), 2 * sizeof(uint64_t), cmp_pair_u64);
    /* Per goroutine: S(end) - S(begin) per task, S(x) its time in each code from its first
     * change to x, read off one pass over its changes and its tasks' ends in time order. */
    for (Py_ssize_t p = 0; p < pairs.n / 2;) {
        uint64_t g = pairs.v[2 * p];
        Py_ssize_t q = p;
        while (q < pairs.n / 2 && pairs.v[2 * q] == g) q++;
        Py_ssize_t lo = 0, hi = ngids;
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (at(&ib[0], mid) < g) lo = mid + 1;
            else hi = mid;
        }
        Walk w = {cv, &ib[2], &ib[3], 0, 0, 0, 0, NULL};
        if (lo == ngids || at(&ib[0], lo) != g ||
            !walk_start(&w, (Py_ssize_t)at(&ib[1], lo), (Py_ssize_t)at(&ib[1], lo + 1))) {
            p = q;
            continue;
        }
        int64_t first = walk_time(&w);
        int have_as = 0;
        Py_ssize_t a = 0, b = na;
        while (a < b) {
            Py_ssize_t mid = (a + b) / 2;
            if (at(&ab[0], mid) < g) a = mid + 1;
            else b = mid;
        }
        if (a < na && at(&ab[0], a) == g) {
            Py_ssize_t r0 = (Py_ssize_t)at(&ab[1], a), r1 = (Py_ssize_t)at(&ab[1], a + 1);
            if (rs_init(&as_rs, ar + 2 * r0, r1 - r0) < 0) goto done;
            have_as = 1;
        }
        Py_ssize_t ne = 0;
        if (grow((void **)&ends, &endcap, 2 * (q - p), sizeof(Endpoint)) < 0) goto done;
        for (Py_ssize_t x = p; x < q; x++) {
            Py_ssize_t i = (Py_ssize_t)pairs.v[2 * x + 1];
            int64_t begin = (int64_t)at(&tb[2], i), end = (int64_t)at(&tb[3], i);
            if (end <= first) continue; /* not yet existing: nothing, not even its assists */
            ends[ne].x = begin;
            ends[ne].sign = -1;
            ends[ne++].row = task_row[i];
            ends[ne].x = end;
            ends[ne].sign = 1;
            ends[ne++].row = task_row[i];
            if (have_as)
                sums.v[task_row[i] * width + ncodes + 2] += rs_overlap(&as_rs, begin, end);
        }
        if (have_as) rs_free(&as_rs);
        qsort(ends, (size_t)ne, sizeof(Endpoint), cmp_endpoint);
        int64_t t_cur = first;
        uint64_t c_cur = walk_code(&w);
        int more = walk_next(&w);
        touched.n = 0;
        for (Py_ssize_t x = 0; x < ne; x++) {
            int64_t at_x = ends[x].x;
            while (more && walk_time(&w) <= at_x) {
                int64_t t = walk_time(&w);
                if ((Py_ssize_t)c_cur < ncodes) {
                    if (!marked[c_cur]) {
                        marked[c_cur] = 1;
                        if (PUSH(&touched, (uint32_t)c_cur) < 0) goto done;
                    }
                    total.v[c_cur] += t - t_cur;
                }
                t_cur = t;
                c_cur = walk_code(&w);
                more = walk_next(&w);
            }
            if (at_x <= first) continue;
            int64_t *acc = sums.v + ends[x].row * width, sign = ends[x].sign;
            for (Py_ssize_t y = 0; y < touched.n; y++)
                acc[touched.v[y]] += sign * total.v[touched.v[y]];
            if ((Py_ssize_t)c_cur < ncodes) acc[c_cur] += sign * (at_x - t_cur);
        }
        for (Py_ssize_t y = 0; y < touched.n; y++) {
            total.v[touched.v[y]] = 0;
            marked[touched.v[y]] = 0;
        }
        p = q;
    }
    if (per_task && names.n) { /* column-major: code c of row r at c * nrows + r */
        int64_t *cm = xmalloc((size_t)sums.n * sizeof(int64_t));
        if (cm == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t r = 0; r < names.n; r++)
            for (Py_ssize_t c = 0; c < width; c++) cm[c * names.n + r] = sums.v[r * width + c];
        xfree(sums.v);
        sums.v = cm;
    }
    result = Py_BuildValue("(NNN)", take_bytes(names.v, names.n, 4),
                           take_bytes(counts.v, counts.n, 8), take_bytes(sums.v, sums.n, 8));
done:
    if (have_rows) PyBuffer_Release(&rowsb);
    for (int k = 0; k < ntb; k++) PyBuffer_Release(&tb[k]);
    for (int k = 0; k < nib; k++) PyBuffer_Release(&ib[k]);
    for (int k = 0; k < nab; k++) PyBuffer_Release(&ab[k]);
    if (have_gc) PyBuffer_Release(&gcb);
    if (have_stw) PyBuffer_Release(&stwb);
    release_chunks(cv, ncv);
    xfree(ends);
    xfree(task_row);
    xfree(marked);
    rs_free(&gc_rs);
    rs_free(&stw_rs);
    map_free(&rows);
    FREE(&counts);
    FREE(&sums);
    FREE(&total);
    FREE(&names);
    FREE(&touched);
    FREE(&pairs);
    FREE(&gs);
    return result;
}

/* ---- region_components: explain.py's attribute, task by task ------------------------------ */

typedef struct {
    int64_t b, e;
    uint64_t row, name, g, x; /* x: the region's index, Python's stable order among equals */
} Span;

static int cmp_span(const void *pa, const void *pb) {
    const Span *a = pa, *b = pb;
    if (a->row != b->row) return (a->row > b->row) - (a->row < b->row);
    if (a->g != b->g) return (a->g > b->g) - (a->g < b->g);
    if (a->b != b->b) return (a->b > b->b) - (a->b < b->b);
    if (a->e != b->e) return (a->e < b->e) - (a->e > b->e); /* longer first: (begin, -end) */
    return (a->x > b->x) - (a->x < b->x);
}

typedef struct {
    int64_t b, e;
    uint32_t k; /* matrix column */
} Piece;

typedef struct {
    int64_t end, cursor;
    uint32_t k;
} Open;

DEFVEC(Piece, PieceVec)
DEFVEC(Open, OpenVec)
DEFVEC(Endpoint, EndpointVec) /* a piece's ends: x its time, sign +1 / -1, row its column */

static int piece(PieceVec *out, int64_t b, int64_t e, uint32_t k) {
    Piece p = {b, e, k};
    return PUSH(out, p);
}

/* explain.py's _leaf_spans: the self-time pieces of one goroutine's spans (sorted by begin,
 * -end, index), each where its region is the innermost open one; a region that outlives its
 * enclosing one is cut at the enclosing one's end. */
static int leaf_pieces(const Span *s, Py_ssize_t m, Map *cols, OpenVec *stack, PieceVec *out) {
    stack->n = 0;
    for (Py_ssize_t i = 0; i <= m; i++) {
        int64_t b = i < m ? s[i].b : INT64_MAX, e = i < m ? s[i].e : 0;
        while (stack->n && stack->v[stack->n - 1].end <= b) { /* close_until(b) */
            Open o = stack->v[--stack->n];
            if (o.end > o.cursor && piece(out, o.cursor, o.end, o.k) < 0) return -1;
            if (stack->n) stack->v[stack->n - 1].cursor = o.end;
        }
        if (i == m) break;
        if (stack->n) {
            Open *parent = &stack->v[stack->n - 1];
            if (e > parent->end) e = parent->end;
            if (b > parent->cursor && piece(out, parent->cursor, b, parent->k) < 0) return -1;
            parent->cursor = b;
        }
        Open o = {e, b, *map_get(cols, s[i].name)};
        if (PUSH(stack, o) < 0) return -1;
    }
    return 0;
}

/* Python's round() of a non-negative double below 2^62: to nearest, halves to even. */
static int64_t round_half_even(double x) {
    int64_t i = (int64_t)x;
    double frac = x - (double)i;
    if (frac > 0.5 || (frac == 0.5 && (i & 1))) i++;
    return i;
}

#define EXACT_PRODUCTS ((int64_t)1 << 53) /* segment x count below this: Python's int / int */

PyDoc_STRVAR(region_components_doc,
"region_components(tasks, rows, regions) -> (odd, names, matrix, zeros) or None\n"
"--\n\n"
"explain.py's attribute for each given task (rows: int64 indices of complete tasks): each\n"
"region name's self time and the time outside regions; with regions on several goroutines,\n"
"each instant shared equally by the innermost open regions (the same float arithmetic and\n"
"rounding as Python). tasks: (id, begin, end) columns; regions: (task, name, goroutine,\n"
"begin, end) columns. odd: int64 positions in rows left to Python (a task id used by several\n"
"given tasks, a task of zero length); names: uint32 region name indices, one per matrix\n"
"column; matrix: int64 column-major, len(names) + 1 columns of len(rows) (the last: outside\n"
"regions), 0 for odd rows; zeros: int64 (row, column) pairs of a share that rounded to 0\n"
"(Python's result holds the name, with 0). None when the matrix would be too large.");

#define MAX_CELLS ((int64_t)1 << 27) /* region columns x rows beyond this: None (Python path) */

enum { ROW_OK = 0, ROW_ODD = 1 };

static PyObject *region_components(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tasks, *rows_o, *regions;
    if (!PyArg_ParseTuple(args, "O!OO!", &PyTuple_Type, &tasks, &rows_o, &PyTuple_Type, &regions))
        return NULL;
    if (PyTuple_GET_SIZE(tasks) != 3 || PyTuple_GET_SIZE(regions) != 5) {
        PyErr_SetString(PyExc_ValueError, "bad arguments");
        return NULL;
    }
    Py_buffer tb[3], rb[5], rowsb;
    int ntb = 0, nrb = 0, have_rows = 0;
    PyObject *result = NULL;
    Map byid = {0}, cols = {0};
    I64Vec odd = {0}, zeros = {0};
    U32Vec names = {0};
    PieceVec pieces = {0};
    OpenVec stack = {0};
    EndpointVec edges = {0};
    Span *spans = NULL;
    Py_ssize_t nspans = 0, spancap = 0;
    uint8_t *kind = NULL;
    int64_t *matrix = NULL, *count = NULL;
    int32_t *slot = NULL;
    uint32_t *slot_k = NULL;
    double *acc = NULL;
    uint8_t *hit = NULL;
    for (; ntb < 3; ntb++)
        if (hold(NULL, PyTuple_GET_ITEM(tasks, ntb), &tb[ntb]) < 0) goto done;
    for (; nrb < 5; nrb++)
        if (hold(NULL, PyTuple_GET_ITEM(regions, nrb), &rb[nrb]) < 0) goto done;
    if (hold(NULL, rows_o, &rowsb) < 0) goto done;
    have_rows = 1;
    Py_ssize_t nt = tb[0].len / tb[0].itemsize, nr = rb[0].len / rb[0].itemsize;
    Py_ssize_t n = rowsb.len / rowsb.itemsize;
    const int64_t *rows = rowsb.buf;
    if (rowsb.itemsize != 8 || tb[1].len / tb[1].itemsize != nt ||
        tb[2].len / tb[2].itemsize != nt) {
        PyErr_SetString(PyExc_ValueError, "bad task columns or rows");
        goto done;
    }
    for (int k = 1; k < 5; k++)
        if (rb[k].len / rb[k].itemsize != nr) {
            PyErr_SetString(PyExc_ValueError, "region columns differ in length");
            goto done;
        }
    kind = xcalloc((size_t)(n ? n : 1), 1);
    if (kind == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* Task id -> its position in rows; an id given twice: both odd (each gets all its regions). */
    for (Py_ssize_t r = 0; r < n; r++) {
        Py_ssize_t i = (Py_ssize_t)rows[r];
        if (i < 0 || i >= nt) {
            PyErr_SetString(PyExc_ValueError, "row out of range");
            goto done;
        }
        if ((int64_t)at(&tb[1], i) == NO_TIME || (int64_t)at(&tb[2], i) == NO_TIME) {
            PyErr_SetString(PyExc_ValueError, "rows must be complete tasks");
            goto done;
        }
        if ((int64_t)at(&tb[2], i) == (int64_t)at(&tb[1], i)) kind[r] = ROW_ODD;
        int created;
        uint32_t *s = map_slot(&byid, at(&tb[0], i), (uint32_t)r, &created);
        if (s == NULL) goto done;
        if (!created) {
            kind[r] = ROW_ODD;
            kind[*s] = ROW_ODD;
        }
    }
    for (Py_ssize_t x = 0; x < nr; x++) {
        uint32_t *s = map_get(&byid, at(&rb[0], x));
        if (s == NULL || kind[*s] == ROW_ODD) continue;
        Py_ssize_t i = (Py_ssize_t)rows[*s];
        int64_t tbeg = (int64_t)at(&tb[1], i), tend = (int64_t)at(&tb[2], i);
        int64_t b = (int64_t)at(&rb[3], x), e = (int64_t)at(&rb[4], x);
        b = b == NO_TIME ? tbeg : (b > tbeg ? b : tbeg);
        e = e == NO_TIME ? tend : (e < tend ? e : tend);
        if (e <= b) continue;
        if (grow((void **)&spans, &spancap, nspans + 1, sizeof(Span)) < 0) goto done;
        uint64_t g = at(&rb[2], x);
        spans[nspans].b = b;
        spans[nspans].e = e;
        spans[nspans].row = *s;
        spans[nspans].name = at(&rb[1], x);
        spans[nspans].g = none_g(g) ? NO_G : g;
        spans[nspans].x = (uint64_t)x;
        nspans++;
    }
    qsort(spans, (size_t)nspans, sizeof(Span), cmp_span);
    /* A task on several goroutines too long for exact float shares: odd (Python's). */
    for (Py_ssize_t x = 0; x < nspans;) {
        Py_ssize_t y = x + 1;
        uint64_t r = spans[x].row;
        int several = 0;
        for (; y < nspans && spans[y].row == r; y++) several |= spans[y].g != spans[x].g;
        Py_ssize_t i = (Py_ssize_t)rows[r];
        int64_t total = (int64_t)at(&tb[2], i) - (int64_t)at(&tb[1], i);
        if (several && total >= EXACT_PRODUCTS / (y - x)) kind[r] = ROW_ODD;
        if (kind[r] != ROW_ODD)
            for (Py_ssize_t z = x; z < y; z++) {
                int created;
                if (map_slot(&cols, spans[z].name, (uint32_t)names.n, &created) == NULL) goto done;
                if (created && PUSH(&names, (uint32_t)spans[z].name) < 0) goto done;
            }
        x = y;
    }
    Py_ssize_t width = names.n + 1;
    if ((int64_t)width * (int64_t)(n ? n : 1) > MAX_CELLS) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    matrix = xcalloc((size_t)(n ? width * n : 1), sizeof(int64_t));
    slot = xmalloc((size_t)width * sizeof(int32_t));
    slot_k = xmalloc((size_t)width * sizeof(uint32_t));
    count = xcalloc((size_t)width, sizeof(int64_t));
    acc = xcalloc((size_t)width, sizeof(double));
    hit = xcalloc((size_t)width, 1);
    if (matrix == NULL || slot == NULL || slot_k == NULL || count == NULL || acc == NULL ||
        hit == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < width; k++) slot[k] = -1;
    int64_t *outside = matrix + names.n * n;
    for (Py_ssize_t r = 0; r < n; r++) {
        if (kind[r] == ROW_ODD) continue;
        Py_ssize_t i = (Py_ssize_t)rows[r];
        outside[r] = (int64_t)at(&tb[2], i) - (int64_t)at(&tb[1], i);
    }
    for (Py_ssize_t x = 0; x < nspans;) {
        Py_ssize_t y = x + 1;
        Py_ssize_t r = (Py_ssize_t)spans[x].row;
        while (y < nspans && spans[y].row == (uint64_t)r) y++;
        if (kind[r] == ROW_OK) {
            /* Each goroutine's leaf pieces (explain._leaf_spans). */
            pieces.n = 0;
            Py_ssize_t ngor = 0;
            for (Py_ssize_t a = x; a < y;) {
                Py_ssize_t c = a + 1;
                while (c < y && spans[c].g == spans[a].g) c++;
                if (leaf_pieces(spans + a, c - a, &cols, &stack, &pieces) < 0) goto done;
                ngor++;
                a = c;
            }
            int64_t covered = 0;
            if (ngor == 1) { /* explain._one_goroutine: exact integers */
                for (Py_ssize_t z = 0; z < pieces.n; z++) {
                    matrix[pieces.v[z].k * n + r] += pieces.v[z].e - pieces.v[z].b;
                    covered += pieces.v[z].e - pieces.v[z].b;
                }
                outside[r] -= covered;
            } else { /* explain._shared: each instant split equally by the innermost regions */
                edges.n = 0;
                if (RESERVE(&edges, 2 * pieces.n) < 0) goto done;
                for (Py_ssize_t z = 0; z < pieces.n; z++) {
                    Endpoint up = {pieces.v[z].b, 1, pieces.v[z].k};
                    Endpoint down = {pieces.v[z].e, -1, pieces.v[z].k};
                    edges.v[edges.n++] = up;
                    edges.v[edges.n++] = down;
                }
                /* By time; ties in any order: a segment is counted at the first end past it. */
                qsort(edges.v, (size_t)edges.n, sizeof(Endpoint), cmp_endpoint);
                Py_ssize_t i = (Py_ssize_t)rows[r];
                int64_t prev = (int64_t)at(&tb[1], i), n_open = 0;
                Py_ssize_t nslots = 0;
                for (Py_ssize_t z = 0; z < edges.n; z++) {
                    int64_t t = edges.v[z].x;
                    if (t > prev && n_open) {
                        int64_t segment = t - prev;
                        covered += segment;
                        for (Py_ssize_t q = 0; q < nslots; q++)
                            if (count[q]) {
                                acc[q] += (double)(segment * count[q]) / (double)n_open;
                                hit[q] = 1;
                            }
                    }
                    if (t > prev) prev = t;
                    uint32_t k = (uint32_t)edges.v[z].row;
                    if (slot[k] < 0) {
                        slot[k] = (int32_t)nslots;
                        slot_k[nslots] = k;
                        acc[nslots] = 0.0;
                        hit[nslots] = 0;
                        count[nslots++] = 0;
                    }
                    count[slot[k]] += edges.v[z].sign;
                    n_open += edges.v[z].sign;
                }
                for (Py_ssize_t q = 0; q < nslots; q++) {
                    uint32_t k = slot_k[q];
                    slot[k] = -1;
                    count[q] = 0;
                    if (!hit[q]) continue; /* no share: Python made no key */
                    int64_t v = round_half_even(acc[q]);
                    matrix[k * n + r] = v;
                    if (v == 0 && (PUSH(&zeros, (int64_t)r) < 0 || PUSH(&zeros, (int64_t)k) < 0))
                        goto done;
                }
                outside[r] -= covered;
            }
        }
        x = y;
    }
    for (Py_ssize_t r = 0; r < n; r++)
        if (kind[r] == ROW_ODD && PUSH(&odd, r) < 0) goto done;
    result = Py_BuildValue("(NNNN)", take_bytes(odd.v, odd.n, 8), take_bytes(names.v, names.n, 4),
                           take_bytes(matrix, width * n, 8), take_bytes(zeros.v, zeros.n, 8));
done:
    for (int k = 0; k < ntb; k++) PyBuffer_Release(&tb[k]);
    for (int k = 0; k < nrb; k++) PyBuffer_Release(&rb[k]);
    if (have_rows) PyBuffer_Release(&rowsb);
    map_free(&byid);
    map_free(&cols);
    FREE(&odd);
    FREE(&zeros);
    FREE(&names);
    FREE(&pieces);
    FREE(&stack);
    FREE(&edges);
    xfree(spans);
    xfree(kind);
    xfree(matrix);
    xfree(slot);
    xfree(slot_k);
    xfree(count);
    xfree(acc);
    xfree(hit);
    return result;
}

/* ---- running_total: states.py's running_ns -------------------------------------------------- */

PyDoc_STRVAR(running_total_doc,
"running_total(index, chunks, running) -> int\n"
"--\n\n"
"states.py's running_ns: the time all goroutines together spent in code `running`, each\n"
"change lasting until the goroutine's next one (the last until the trace's last change).\n"
"index, chunks: as for task_totals.");

static PyObject *running_total(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *index, *chunks;
    unsigned long long running;
    if (!PyArg_ParseTuple(args, "O!O!K", &PyTuple_Type, &index, &PyList_Type, &chunks, &running))
        return NULL;
    if (PyTuple_GET_SIZE(index) != 4) {
        PyErr_SetString(PyExc_ValueError, "bad arguments");
        return NULL;
    }
    Py_buffer ib[4];
    int nib = 0;
    Py_ssize_t nch = PyList_GET_SIZE(chunks), ncv = 0;
    CView *cv = xcalloc((size_t)(nch ? nch : 1), sizeof(CView));
    PyObject *result = NULL;
    if (cv == NULL) return PyErr_NoMemory();
    for (; nib < 4; nib++)
        if (hold(NULL, PyTuple_GET_ITEM(index, nib), &ib[nib]) < 0) goto done;
    for (; ncv < nch; ncv++) {
        if (hold_chunk(PyList_GET_ITEM(chunks, ncv), &cv[ncv]) < 0) goto done;
    }
    int64_t end = 0; /* as running_ns: the latest change, or 0 */
    for (Py_ssize_t c = 0; c < ncv; c++) {
        Py_ssize_t m = cv[c].times.len / cv[c].times.itemsize;
        for (Py_ssize_t i = 0; i < m; i++) {
            int64_t t = cv[c].base + (int64_t)at(&cv[c].times, i);
            if (t > end) end = t;
        }
    }
    int64_t total = 0;
    Py_ssize_t ngids = ib[0].len / ib[0].itemsize;
    for (Py_ssize_t k = 0; k < ngids; k++) {
        Walk w = {cv, &ib[2], &ib[3], 0, 0, 0, 0, NULL};
        if (!walk_start(&w, (Py_ssize_t)at(&ib[1], k), (Py_ssize_t)at(&ib[1], k + 1))) continue;
        int64_t t = walk_time(&w);
        uint64_t code = walk_code(&w);
        while (walk_next(&w)) {
            int64_t nxt = walk_time(&w);
            if (code == running) total += nxt - t;
            t = nxt;
            code = walk_code(&w);
        }
        if (code == running) total += end - t;
    }
    result = PyLong_FromLongLong(total);
done:
    for (int k = 0; k < nib; k++) PyBuffer_Release(&ib[k]);
    release_chunks(cv, ncv);
    return result;
}

static PyMethodDef module_methods[] = {
    {"task_totals", task_totals, METH_VARARGS, task_totals_doc},
    {"region_components", region_components, METH_VARARGS, region_components_doc},
    {"running_total", running_total, METH_VARARGS, running_total_doc},
    {NULL, NULL, 0, NULL},
};

/* ---- the Reader type ----------------------------------------------------------------------- */

static void Reader_clear_buffers(Reader *R) {
    gmap_free(&R->carry);
    ix_free(&R->task_row);
    map_free(&R->open_top);
    map_free(&R->region_below);
    map_free(&R->last_code);
    map_free(&R->reason_of);
    map_free(&R->odd);
    FREE(&R->reasons);
    pool_free(&R->pool);
    idc_free(&R->t_id);
    idc_free(&R->t_parent);
    idc_free(&R->t_bg);
    idc_free(&R->t_eg);
    FREE(&R->t_name);
    FREE(&R->t_begin);
    FREE(&R->t_end);
    idc_free(&R->r_task);
    idc_free(&R->r_g);
    FREE(&R->r_name);
    FREE(&R->r_begin);
    FREE(&R->r_end);
    idc_free(&R->l_task);
    idc_free(&R->l_g);
    FREE(&R->l_key);
    FREE(&R->l_value);
    FREE(&R->l_time);
    for (Py_ssize_t c = 0; c < R->nchunks; c++) {
        xfree(R->chunks[c].gids);
        xfree(R->chunks[c].offsets);
        xfree(R->chunks[c].times);
        xfree(R->chunks[c].codes);
    }
    xfree(R->chunks);
    R->chunks = NULL;
    R->nchunks = R->chunk_cap = 0;
}

static void Reader_dealloc(Reader *R) {
    Reader_clear_buffers(R);
    Py_XDECREF(R->corrupt);
    Py_XDECREF(R->limit);
    Py_TYPE(R)->tp_free((PyObject *)R);
}

PyDoc_STRVAR(reader_doc,
"Reader(tables, states, running, syscall, limits, corrupt, limit, seed)\n"
"--\n\n"
"tables: (argc, kinds, keep, roles, actions), 256 bytes each: the number of varints (time\n"
"delta included) of each event type (0: cannot appear); its kind (0 other, 1 user\n"
"annotation, 2 goroutine setter, 3 switch, 4 status, 5 state event); 1 for the types kept\n"
"as events; the pairing role (1-5 task begin/end, region begin/end, log; 6 stop-the-world\n"
"begin); the state action (states.py). states: track goroutine states; running/syscall:\n"
"GoStatus values; limits: (threads, strings, events per generation, reasons, generation span\n"
"in ns); corrupt,\n"
"limit: the exception classes raised; seed: for the hash maps.");

static int Reader_init(Reader *R, PyObject *args, PyObject *kw) {
    (void)kw;
    PyObject *tables;
    int states;
    unsigned long long running, syscall, sd;
    Py_ssize_t lim[4];
    long long span;
    PyObject *corrupt, *limit;
    if (!PyArg_ParseTuple(args, "O!pKK(nnnnL)OOK", &PyTuple_Type, &tables, &states, &running,
                          &syscall, &lim[0], &lim[1], &lim[2], &lim[3], &span, &corrupt, &limit,
                          &sd))
        return -1;
    uint8_t *dst[5] = {R->argc, R->kinds, R->keep, R->roles, R->actions};
    if (PyTuple_GET_SIZE(tables) != 5) {
        PyErr_SetString(PyExc_ValueError, "five tables expected");
        return -1;
    }
    for (int i = 0; i < 5; i++) {
        PyObject *t = PyTuple_GET_ITEM(tables, i);
        if (!PyBytes_Check(t) || PyBytes_GET_SIZE(t) != 256) {
            PyErr_SetString(PyExc_ValueError, "tables must be 256 bytes each");
            return -1;
        }
        memcpy(dst[i], PyBytes_AS_STRING(t), 256);
    }
    Reader_clear_buffers(R);
    R->t_parent.none = R->t_bg.none = R->t_eg.none = R->r_g.none = R->l_g.none = 1;
    R->states = states;
    R->st_running = running;
    R->st_syscall = syscall;
    R->max_threads = lim[0];
    R->max_strings = lim[1];
    R->max_events = lim[2];
    R->max_reasons = lim[3] < 16000 ? lim[3] : 16000; /* codes fit the 14 bits of a change */
    R->max_span = span > 0 && span <= ((int64_t)1 << 47) ? span : ((int64_t)1 << 47);
    Py_XSETREF(R->corrupt, Py_NewRef(corrupt));
    Py_XSETREF(R->limit, Py_NewRef(limit));
    seed = sd;
    /* String 0 is "" (a task begun before tracing has no type); reason 0 is "" too. */
    if (PUSH(&R->pool.off, 0) < 0 || pool_intern(&R->pool, (const uint8_t *)"", 0) != 0)
        return -1;
    if (map_put(&R->reason_of, 0, 0) < 0 || PUSH(&R->reasons, 0) < 0) return -1;
    return 0;
}

static PyMethodDef Reader_methods[] = {
    {"generation", (PyCFunction)Reader_generation, METH_VARARGS, generation_doc},
    {"finish", (PyCFunction)Reader_finish, METH_NOARGS, finish_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "perfgate.trace._scan.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = reader_doc,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "perfgate.trace._scan",
    "The native trace reader's per-event work in C (optional; scan.py and timing.py are the "
    "pure-Python fallback).",
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    if (PyType_Ready(&ReaderType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
