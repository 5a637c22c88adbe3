/*
 * perfgate.trace._scan: the per-event work of the native trace reader, in C.
 *
 * Why C: a 15 MB trace holds about 2.7 million events; Python spends at least ~0.3 us on each
 * (regex tokenising alone), which kept the reader near go tool trace's own speed. This module
 * walks a generation's event batches once, byte by byte, and hands back only what Python needs:
 * every event's time per thread (M) as packed int64 arrays (for go tool trace's 1 ns ordering
 * nudges), and the user-annotation events as tuples. It mirrors scan.py's pure-Python
 * scan_generation exactly; that function documents the semantics and stays as the fallback.
 *
 * Nothing about the wire format is hard-coded here: the argument count of every event type and
 * which types matter (user events, goroutine setters, goroutine status) come in as 256-byte
 * tables built from perfgate/trace/wire.py. Every read is bounds-checked: garbage raises the
 * exception class the caller passes in (scan.py's Corrupt), never crashes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

/* Event kinds, as given by the caller's kind table. */
enum { K_BORING = 0, K_USER = 1, K_SETTER = 2, K_SWITCH = 3, K_STATUS = 4, K_STATE = 5 };

typedef struct {
    int64_t *v;
    Py_ssize_t n, cap;
} I64Vec;

static int vec_reserve(I64Vec *a, Py_ssize_t extra) {
    if (a->n + extra <= a->cap) return 0;
    Py_ssize_t cap = a->cap ? a->cap : 1024;
    while (cap < a->n + extra) cap *= 2;
    int64_t *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(int64_t));
    if (v == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    a->v = v;
    a->cap = cap;
    return 0;
}

static inline int vec_push(I64Vec *a, int64_t x) {
    if (a->n == a->cap && vec_reserve(a, 1) < 0) return -1;
    a->v[a->n++] = x;
    return 0;
}

typedef struct {
    uint64_t m;
    I64Vec times;      /* every event's time, in array units (ticks or ns) */
    I64Vec user_times; /* user events' times, same units */
    int has_g;         /* last_setter known for this M */
    uint64_t g;
    int unsorted;
} Thread;

typedef struct {
    Thread *t;
    Py_ssize_t n, cap;
} Threads;

static Thread *thread_get(Threads *ts, uint64_t m) {
    for (Py_ssize_t i = ts->n - 1; i >= 0; i--)
        if (ts->t[i].m == m) return &ts->t[i];
    if (ts->n == ts->cap) {
        Py_ssize_t cap = ts->cap ? ts->cap * 2 : 16;
        Thread *t = PyMem_Realloc(ts->t, (size_t)cap * sizeof(Thread));
        if (t == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        ts->t = t;
        ts->cap = cap;
    }
    Thread *th = &ts->t[ts->n++];
    memset(th, 0, sizeof(*th));
    th->m = m;
    return th;
}

static void threads_free(Threads *ts) {
    for (Py_ssize_t i = 0; i < ts->n; i++) {
        PyMem_Free(ts->t[i].times.v);
        PyMem_Free(ts->t[i].user_times.v);
    }
    PyMem_Free(ts->t);
}

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

/* Skip one varint without decoding it (same acceptance as uvarint, minus the overflow check,
 * as the pure-Python tokeniser never decodes the arguments it does not use). */
static inline int skip_varint(const uint8_t **pp, const uint8_t *end) {
    const uint8_t *p = *pp;
    for (int i = 0; i < 10; i++) {
        if (p >= end) return -1;
        if (!(*p++ & 0x80)) {
            *pp = p;
            return 0;
        }
    }
    return -1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static PyObject *corrupt(PyObject *exc, const char *msg) {
    PyErr_SetString(exc, msg);
    return NULL;
}

static PyObject *bytes_of(const I64Vec *a) {
    return PyBytes_FromStringAndSize((const char *)a->v, a->n * (Py_ssize_t)sizeof(int64_t));
}

/* Convert one tick count to array units: ticks themselves (unit mode) or truncated ns. */
static inline int to_units(uint64_t ticks, int ns_mode, double freq, int64_t *out) {
    if (!ns_mode) {
        if (ticks > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)ticks;
        return 0;
    }
    double x = (double)ticks * freq;
    if (!(x < 9.2e18) || x < 0) return -1;
    *out = (int64_t)x;
    return 0;
}

/* One user event found by the scan. */
typedef struct {
    int64_t prov0;    /* provisional time: Go's time unless other threads interfere */
    int64_t time;     /* final time (ns), after the nudges */
    Py_ssize_t thread; /* index into Threads */
    Py_ssize_t index;  /* index in the thread's time array */
    Py_ssize_t seq;    /* scan order, to sort stably */
    uint64_t g, a1, a2, a3;
    uint8_t typ, has_g;
} User;

typedef struct {
    User *v;
    Py_ssize_t n, cap;
} UserVec;

static int user_push(UserVec *a, const User *u) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 1024;
        User *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(User));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = *u;
    return 0;
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

static Py_ssize_t upper_bound(const int64_t *a, Py_ssize_t n, int64_t x) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static inline int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* timing.py's GenerationScan.count_before: events (all threads, extra) before t ns. */
static int64_t count_before(const Threads *ts, const I64Vec *extra, int64_t unit, int64_t t) {
    int64_t n = lower_bound(extra->v, extra->n, t);
    int64_t q = -floordiv(-t, unit);
    for (Py_ssize_t i = 0; i < ts->n; i++) n += lower_bound(ts->t[i].times.v, ts->t[i].times.n, q);
    return n;
}

/* timing.py's _shared_times: times of user events at which another thread has an event.
 * Sorted, duplicates removed. */
static int shared_times(const Threads *ts, I64Vec *shared) {
    I64Vec ut = {0};
    for (Py_ssize_t i = 0; i < ts->n; i++) {
        const Thread *a = &ts->t[i];
        if (!a->user_times.n) continue;
        ut.n = 0;
        if (vec_reserve(&ut, a->user_times.n) < 0) goto fail;
        memcpy(ut.v, a->user_times.v, (size_t)a->user_times.n * sizeof(int64_t));
        ut.n = a->user_times.n;
        int in_order = 1; /* a thread's times are in order unless its clock broke */
        for (Py_ssize_t k = 1; k < ut.n && in_order; k++) in_order = ut.v[k - 1] <= ut.v[k];
        if (!in_order) qsort(ut.v, (size_t)ut.n, sizeof(int64_t), cmp_i64);
        for (Py_ssize_t j = 0; j < ts->n; j++) {
            if (j == i) continue;
            const I64Vec *b = &ts->t[j].times;
            Py_ssize_t x = 0, y = 0;
            while (x < ut.n && y < b->n) {
                if (ut.v[x] < b->v[y]) x++;
                else if (ut.v[x] > b->v[y]) y++;
                else {
                    if (vec_push(shared, ut.v[x]) < 0) goto fail;
                    x++;
                }
            }
        }
    }
    PyMem_Free(ut.v);
    if (shared->n) {
        qsort(shared->v, (size_t)shared->n, sizeof(int64_t), cmp_i64);
        Py_ssize_t k = 1;
        for (Py_ssize_t i = 1; i < shared->n; i++)
            if (shared->v[i] != shared->v[k - 1]) shared->v[k++] = shared->v[i];
        shared->n = k;
    }
    return 0;
fail:
    PyMem_Free(ut.v);
    return -1;
}

#define MAX_TIES 16 /* timing.py's _MAX_TIES */

/* timing.py's _other_first: whether the other thread's events at our time come before ours. */
static int other_first(const I64Vec *own, Py_ssize_t lo_own, const I64Vec *arr, Py_ssize_t lo) {
    for (int i = 0; i < MAX_TIES; i++) {
        if (lo_own == 0) return 1;
        if (lo == 0) return 0;
        int64_t p_own = own->v[lo_own - 1], p_other = arr->v[lo - 1];
        if (p_own != p_other) return p_other > p_own;
        Py_ssize_t a = lower_bound(own->v, own->n, p_own), b = lower_bound(arr->v, arr->n, p_other);
        const I64Vec *tmp = own;
        own = arr;
        arr = tmp;
        lo_own = b;
        lo = a;
    }
    return 0;
}

/* timing.py's nudge_all, on the scanned user events (times arrays already sorted). */
static int nudge(Threads *ts, UserVec *users, const I64Vec *extra, int64_t unit, int64_t count,
                 int64_t sync, PyObject *exc) {
    for (Py_ssize_t i = 0; i < users->n; i++) users->v[i].time = users->v[i].prov0;
    if (!users->n) return 0;
    if (ts->n > 1) {
        I64Vec shared = {0};
        if (shared_times(ts, &shared) < 0) return -1;
        for (Py_ssize_t i = 0; shared.n && i < users->n; i++) {
            User *u = &users->v[i];
            /* In "near": some shared s with s*unit <= prov0 < s*unit + MAX_TIES. */
            Py_ssize_t k = upper_bound(shared.v, shared.n, floordiv(u->prov0, unit));
            if (k == 0 || u->prov0 - shared.v[k - 1] * unit >= MAX_TIES) continue;
            const I64Vec *own = &ts->t[u->thread].times;
            int64_t t = own->v[u->index];
            Py_ssize_t s = lower_bound(shared.v, shared.n, t);
            if (s == shared.n || shared.v[s] != t) continue;
            Py_ssize_t lo_own = lower_bound(own->v, own->n, t);
            int64_t more = 0;
            for (Py_ssize_t j = 0; j < ts->n; j++) {
                if (j == u->thread) continue;
                const I64Vec *arr = &ts->t[j].times;
                Py_ssize_t lo = lower_bound(arr->v, arr->n, t);
                Py_ssize_t hi = upper_bound(arr->v, arr->n, t);
                if (hi <= lo) continue;
                if (other_first(own, lo_own, arr, lo)) more += hi - lo;
            }
            u->time += more;
        }
        PyMem_Free(shared.v);
    }
    if (sync) {
        /* timing.py's _pileup_end */
        int64_t lo = sync - 1, hi = sync + count + extra->n + 1;
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (sync + count_before(ts, extra, unit, mid) + 1 > mid) lo = mid;
            else hi = mid;
        }
        int64_t end = hi;
        for (Py_ssize_t i = 0; i < users->n; i++) {
            User *u = &users->v[i];
            if (!(u->prov0 < end + MAX_TIES)) continue;
            int64_t t;
            if (__builtin_mul_overflow(ts->t[u->thread].times.v[u->index], unit, &t)) {
                PyErr_SetString(exc, "timestamp out of range");
                return -1;
            }
            if (t >= end) continue;
            int64_t ties = u->time - t;
            int64_t p = count_before(ts, extra, unit, t) + ties + 1;
            if (sync + p > u->time) u->time = sync + p;
        }
    }
    return 0;
}

/* timing.py's last_time: Go's time for the last event of the generation. */
static int last_time(const Threads *ts, const I64Vec *extra, int64_t unit, int64_t count,
                     int64_t sync, PyObject *exc, int64_t *out) {
    int64_t n = count + extra->n;
    if (n == 0) {
        *out = sync;
        return 0;
    }
    int64_t t_last = 0;
    for (Py_ssize_t i = 0; i < ts->n; i++) {
        const I64Vec *a = &ts->t[i].times;
        int64_t x;
        if (!a->n) continue;
        if (__builtin_mul_overflow(a->v[a->n - 1], unit, &x)) {
            PyErr_SetString(exc, "timestamp out of range");
            return -1;
        }
        if (x > t_last) t_last = x;
    }
    if (extra->n && extra->v[extra->n - 1] > t_last) t_last = extra->v[extra->n - 1];
    int64_t c = extra->n - lower_bound(extra->v, extra->n, t_last);
    int64_t q = -floordiv(-t_last, unit);
    for (Py_ssize_t i = 0; i < ts->n; i++) {
        const I64Vec *a = &ts->t[i].times;
        c += a->n - lower_bound(a->v, a->n, q);
    }
    int64_t x = sync + n, y = t_last + c - 1;
    *out = x > y ? x : y;
    return 0;
}

typedef struct {
    int64_t time;
    Py_ssize_t seq;
} SortKey;

static int cmp_key(const void *pa, const void *pb) {
    const SortKey *a = pa, *b = pb;
    if (a->time != b->time) return (a->time > b->time) - (a->time < b->time);
    return (a->seq > b->seq) - (a->seq < b->seq); /* stable, like Python's sort */
}

/* Sort the events by time, stably: sort small keys, then move each event once (qsort on the
 * events themselves would copy them around many times). users->v[i].seq == i on entry. */
static int sort_users(UserVec *users) {
    Py_ssize_t n = users->n;
    SortKey *keys = PyMem_Malloc((size_t)n * sizeof(SortKey));
    User *out = keys ? PyMem_Malloc((size_t)n * sizeof(User)) : NULL;
    if (out == NULL) {
        PyMem_Free(keys);
        PyErr_NoMemory();
        return -1;
    }
    int sorted = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        keys[i].time = users->v[i].time;
        keys[i].seq = i;
        if (i && keys[i].time < keys[i - 1].time) sorted = 0;
    }
    if (!sorted) qsort(keys, (size_t)n, sizeof(SortKey), cmp_key);
    for (Py_ssize_t i = 0; i < n; i++) out[i] = users->v[keys[i].seq];
    PyMem_Free(keys);
    PyMem_Free(users->v);
    users->v = out;
    users->cap = n;
    return 0;
}

/* Look up m in a dict of int -> int; 1 and *out if found, 0 if not, -1 on error. */
static int dict_get_u64(PyObject *d, uint64_t m, uint64_t *out) {
    PyObject *k = PyLong_FromUnsignedLongLong(m);
    if (k == NULL) return -1;
    PyObject *v = PyDict_GetItemWithError(d, k);
    Py_DECREF(k);
    if (v == NULL) return PyErr_Occurred() ? -1 : 0;
    *out = PyLong_AsUnsignedLongLong(v);
    if (*out == (uint64_t)-1 && PyErr_Occurred()) return -1;
    return 1;
}

static PyObject *column(const User *u, Py_ssize_t n, size_t off, size_t size) {
    PyObject *b = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)size);
    if (b == NULL) return NULL;
    char *dst = PyBytes_AS_STRING(b);
    for (Py_ssize_t i = 0; i < n; i++) memcpy(dst + i * size, (const char *)&u[i] + off, size);
    return b;
}


/* ---- goroutine states (states.py's GoroutineStates, for the C path) ------------------------
 * The action of each event type (a 256-byte table built by states.py from wire.py): */
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

typedef struct {
    uint64_t g;
    int64_t t;
    Py_ssize_t order;
    uint32_t code;
} Change;

typedef struct {
    Change *v;
    Py_ssize_t n, cap;
} ChangeVec;

static int change_push(ChangeVec *a, uint64_t g, int64_t t, uint32_t code) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 1024;
        Change *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(Change));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->v = v;
        a->cap = cap;
    }
    Change *c = &a->v[a->n];
    c->g = g;
    c->t = t;
    c->order = a->n;
    c->code = code;
    a->n++;
    return 0;
}

/* Reorder the changes so that each goroutine's are together, in their original order (a
 * counting sort over goroutines numbered through an open-addressing hash table). */
static int group_changes(ChangeVec *ch) {
    Py_ssize_t n = ch->n, size = 64;
    while (size < 2 * n) size *= 2;
    uint64_t *keys = PyMem_Calloc((size_t)size, sizeof(uint64_t));
    Py_ssize_t *slot_group = PyMem_Malloc((size_t)size * sizeof(Py_ssize_t));
    uint8_t *used = PyMem_Calloc((size_t)size, 1);
    Py_ssize_t *group = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t));
    Py_ssize_t *start = PyMem_Calloc((size_t)n + 1, sizeof(Py_ssize_t));
    Change *out = PyMem_Malloc((size_t)n * sizeof(Change));
    int rc = -1;
    if (!keys || !slot_group || !used || !group || !start || !out) {
        PyErr_NoMemory();
        goto end;
    }
    Py_ssize_t groups = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t g = ch->v[i].g;
        size_t h = (size_t)((g * 0x9E3779B97F4A7C15ull) >> 20) & (size_t)(size - 1);
        while (used[h] && keys[h] != g) h = (h + 1) & (size_t)(size - 1);
        if (!used[h]) {
            used[h] = 1;
            keys[h] = g;
            slot_group[h] = groups++;
        }
        group[i] = slot_group[h];
        start[group[i] + 1]++;
    }
    for (Py_ssize_t k = 0; k < groups; k++) start[k + 1] += start[k];
    for (Py_ssize_t i = 0; i < n; i++) out[start[group[i]]++] = ch->v[i];
    PyMem_Free(ch->v);
    ch->v = out;
    ch->cap = n;
    out = NULL;
    rc = 0;
end:
    PyMem_Free(keys);
    PyMem_Free(slot_group);
    PyMem_Free(used);
    PyMem_Free(group);
    PyMem_Free(start);
    PyMem_Free(out);
    return rc;
}

/* The state code for "waiting for the reason with string id sid": sid_code[sid], else
 * reason(sid) (which interns the string, raising for an unknown id), remembered in sid_code. */
static int reason_code(PyObject *sid_code, PyObject *reason, uint64_t sid, uint32_t *out) {
    PyObject *k = PyLong_FromUnsignedLongLong(sid);
    if (k == NULL) return -1;
    PyObject *v = PyDict_GetItemWithError(sid_code, k);
    if (v == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(k);
            return -1;
        }
        v = PyObject_CallOneArg(reason, k);
        if (v == NULL || PyDict_SetItem(sid_code, k, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(k);
            return -1;
        }
        Py_DECREF(v); /* the dict holds it */
    }
    Py_DECREF(k);
    unsigned long c = PyLong_AsUnsignedLong(v);
    if (c == (unsigned long)-1 && PyErr_Occurred()) return -1;
    *out = (uint32_t)c;
    return 0;
}

/* Split the time-ordered events: user events stay in *users (compacted); state events become
 * per-goroutine state changes (*changes_out: list of (g, times int64 bytes, codes uint32 bytes),
 * with summary.go's rule that a change to the state a goroutine is already in is no change;
 * last: g -> its last code, carried across generations) and range events tuples (*ranges_out:
 * (time, type, goroutine or None, arg1)). */
static int state_pass(UserVec *users, const uint8_t *kinds, const uint8_t *actions,
                      PyObject *last, PyObject *sid_code, PyObject *reason,
                      PyObject **changes_out, PyObject **ranges_out) {
    ChangeVec ch = {0};
    PyObject *changes = NULL, *ranges = PyList_New(0);
    I64Vec tbuf = {0};
    uint32_t *cbuf = NULL;
    Py_ssize_t ccap = 0;
    if (ranges == NULL) return -1;
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < users->n; i++) {
        User *u = &users->v[i];
        if (kinds[u->typ] == K_USER) {
            users->v[kept++] = *u;
            continue;
        }
        int act = actions[u->typ];
        int64_t t = u->time;
        uint32_t code;
        switch (act) {
        case A_CUR_RUNNING: case A_CUR_RUNNABLE: case A_CUR_SYSCALL: case A_CUR_NOTEXIST:
            if (!u->has_g) break;
            code = act == A_CUR_RUNNING ? S_RUNNING : act == A_CUR_RUNNABLE ? S_RUNNABLE
                 : act == A_CUR_SYSCALL ? S_SYSCALL : S_NOT_EXIST;
            if (change_push(&ch, u->g, t, code) < 0) goto fail;
            break;
        case A_CUR_WAITING:
            if (!u->has_g) break;
            if (reason_code(sid_code, reason, u->a1, &code) < 0) goto fail;
            if (change_push(&ch, u->g, t, code) < 0) goto fail;
            break;
        case A_NAMED_RUNNABLE:
            if (change_push(&ch, u->a1, t, S_RUNNABLE) < 0) goto fail;
            break;
        case A_NAMED_RUNNING:
            if (change_push(&ch, u->a1, t, S_RUNNING) < 0) goto fail;
            break;
        case A_NAMED_SYSCALL:
            if (change_push(&ch, u->a1, t, S_SYSCALL) < 0) goto fail;
            break;
        case A_NAMED_WAITING:
            if (change_push(&ch, u->a1, t, S_WAITING) < 0) goto fail;
            break;
        case A_STATUS: {
            /* tracev2.GoStatus: 1 runnable, 2 running, 3 syscall, 4 waiting. */
            static const int map[5] = {-1, S_RUNNABLE, S_RUNNING, S_SYSCALL, S_WAITING};
            if (u->a3 >= 1 && u->a3 <= 4 && change_push(&ch, u->a1, t, (uint32_t)map[u->a3]) < 0)
                goto fail;
            break;
        }
        case A_SWITCH: case A_SWITCH_DESTROY:
            /* Go's reader yields three events at t, t+1, t+2. */
            if (change_push(&ch, u->a1, t, S_RUNNABLE) < 0) goto fail;
            if (u->has_g && change_push(&ch, u->g, t + 1,
                                        act == A_SWITCH ? S_WAITING : S_NOT_EXIST) < 0)
                goto fail;
            if (change_push(&ch, u->a1, t + 2, S_RUNNING) < 0) goto fail;
            break;
        case A_RANGE: {
            PyObject *g = u->has_g ? PyLong_FromUnsignedLongLong(u->g) : Py_NewRef(Py_None);
            PyObject *tup = g ? Py_BuildValue("(LiNK)", (long long)t, (int)u->typ, g,
                                              (unsigned long long)u->a1) : NULL;
            if (tup == NULL || PyList_Append(ranges, tup) < 0) {
                Py_XDECREF(tup);
                goto fail;
            }
            Py_DECREF(tup);
            break;
        }
        default:
            break;
        }
    }
    users->n = kept;
    if (ch.n && group_changes(&ch) < 0) goto fail;
    changes = PyList_New(0);
    if (changes == NULL) goto fail;
    for (Py_ssize_t i = 0; i < ch.n;) {
        Py_ssize_t j = i;
        uint64_t g = ch.v[i].g;
        while (j < ch.n && ch.v[j].g == g) j++;
        PyObject *key = PyLong_FromUnsignedLongLong(g);
        if (key == NULL) goto fail;
        PyObject *lv = PyDict_GetItemWithError(last, key);
        int64_t prev = -1;
        if (lv != NULL) {
            prev = (int64_t)PyLong_AsUnsignedLong(lv);
            if (PyErr_Occurred()) {
                Py_DECREF(key);
                goto fail;
            }
        } else if (PyErr_Occurred()) {
            Py_DECREF(key);
            goto fail;
        }
        tbuf.n = 0;
        if (vec_reserve(&tbuf, j - i) < 0) {
            Py_DECREF(key);
            goto fail;
        }
        if (ccap < j - i) {
            uint32_t *nb = PyMem_Realloc(cbuf, (size_t)(j - i) * sizeof(uint32_t));
            if (nb == NULL) {
                PyErr_NoMemory();
                Py_DECREF(key);
                goto fail;
            }
            cbuf = nb;
            ccap = j - i;
        }
        Py_ssize_t n = 0;
        for (Py_ssize_t k = i; k < j; k++) {
            int64_t c = ch.v[k].code;
            if (prev == c || (prev >= S_WAITING && c >= S_WAITING)) continue;
            tbuf.v[n] = ch.v[k].t;
            cbuf[n] = (uint32_t)c;
            n++;
            prev = c;
        }
        if (n) {
            PyObject *tb = PyBytes_FromStringAndSize((const char *)tbuf.v, n * 8);
            PyObject *cb = tb ? PyBytes_FromStringAndSize((const char *)cbuf, n * 4) : NULL;
            PyObject *lc = cb ? PyLong_FromLongLong(prev) : NULL;
            PyObject *tup = lc ? PyTuple_Pack(3, key, tb, cb) : NULL;
            int r = tup ? PyList_Append(changes, tup) : -1;
            if (r == 0) r = PyDict_SetItem(last, key, lc);
            Py_XDECREF(tb);
            Py_XDECREF(cb);
            Py_XDECREF(lc);
            Py_XDECREF(tup);
            if (r < 0) {
                Py_DECREF(key);
                goto fail;
            }
        }
        Py_DECREF(key);
        i = j;
    }
    PyMem_Free(ch.v);
    PyMem_Free(tbuf.v);
    PyMem_Free(cbuf);
    *changes_out = changes;
    *ranges_out = ranges;
    return 0;
fail:
    PyMem_Free(ch.v);
    PyMem_Free(tbuf.v);
    PyMem_Free(cbuf);
    Py_XDECREF(changes);
    Py_XDECREF(ranges);
    return -1;
}

PyDoc_STRVAR(generation_doc,
"generation(batches, argc, kinds, keep, unit, freq, running, syscall, samples, sync, carry,\n"
"           corrupt)\n"
"--\n\n"
"Scan a generation's event batches (objects with .m, .time, .data, in file order), give each\n"
"user event the time go tool trace gives it, and return the user events in Go's order.\n\n"
"argc: 256 bytes, the number of varints (time delta included) of each event type, 0 for a\n"
"type that cannot appear; kinds: 256 bytes, 0 other, 1 user annotation, 2 goroutine setter,\n"
"3 goroutine switch, 4 goroutine status, 5 goroutine-state event; keep: 256 bytes, 1 for the\n"
"types returned as events (user events always are); unit: ns per tick when whole (times kept\n"
"in ticks),\n"
"else 0 (each delta converted with freq, ns per tick); running/syscall: GoStatus values;\n"
"samples: CPU-sample times (ns) as native int64 bytes; sync: the time of the generation's\n"
"Sync (0: none); carry: M -> goroutine running at the end of the previous generation;\n"
"corrupt: the exception class raised for bytes that cannot be events.\n\n"
"Returns (columns, syscall_bindings, last_setter, last_time): columns is (time int64,\n"
"type uint8, goroutine uint64, goroutine known uint8, arg1, arg2, arg3 uint64) as native\n"
"bytes, sorted by time; the rest as scan.py's GenerationScan and timing.last_time.");

static PyObject *generation(PyObject *self, PyObject *args) {
    PyObject *batches, *exc, *carry;
    Py_buffer argc_buf, kinds_buf, keep_buf, samples_buf;
    long long unit_in, sync;
    double freq;
    unsigned long long st_running, st_syscall;
    (void)self;
    PyObject *states = Py_None;
    if (!PyArg_ParseTuple(args, "Oy*y*y*LdKKy*LO!O|O", &batches, &argc_buf, &kinds_buf,
                          &keep_buf, &unit_in, &freq, &st_running, &st_syscall, &samples_buf,
                          &sync, &PyDict_Type, &carry, &exc, &states))
        return NULL;
    Py_buffer actions_buf = {0};
    PyObject *last_d = NULL, *sid_code = NULL, *reason_fn = NULL;
    PyObject *changes = NULL, *ranges = NULL;
    if (states != Py_None &&
        (!PyArg_ParseTuple(states, "y*O!O!O", &actions_buf, &PyDict_Type, &last_d,
                           &PyDict_Type, &sid_code, &reason_fn) ||
         actions_buf.len != 256)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "actions must be 256 bytes");
        PyBuffer_Release(&argc_buf);
        PyBuffer_Release(&kinds_buf);
        PyBuffer_Release(&keep_buf);
        PyBuffer_Release(&samples_buf);
        if (actions_buf.obj) PyBuffer_Release(&actions_buf);
        return NULL;
    }

    PyObject *result = NULL, *bindings = NULL, *seq = NULL, *setters = NULL;
    PyObject *cols[7] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    Threads ts = {0};
    UserVec users = {0};
    uint8_t argc[256], kinds[256], keep[256];
    I64Vec dts = {0};
    I64Vec extra_v = {0};
    int64_t count = 0;
    int ns_mode = unit_in == 0;
    int64_t unit = ns_mode ? 1 : (int64_t)unit_in;

    if (argc_buf.len != 256 || kinds_buf.len != 256 || keep_buf.len != 256 ||
        samples_buf.len % 8 != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "argc, kinds and keep must be 256 bytes, samples int64s");
        goto done;
    }
    memcpy(argc, argc_buf.buf, 256);
    memcpy(kinds, kinds_buf.buf, 256);
    memcpy(keep, keep_buf.buf, 256);
    if (unit < 1 || sync < 0 || sync > (INT64_MAX >> 2)) {
        PyErr_SetString(PyExc_ValueError, "unit or sync out of range");
        goto done;
    }
    seq = PySequence_Fast(batches, "batches must be a sequence");
    if (seq == NULL) goto done;
    bindings = PyDict_New();
    if (bindings == NULL) goto done;

    Py_ssize_t nb = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t bi = 0; bi < nb; bi++) {
        PyObject *b = PySequence_Fast_GET_ITEM(seq, bi);
        PyObject *o_m = PyObject_GetAttrString(b, "m");
        PyObject *o_t = o_m ? PyObject_GetAttrString(b, "time") : NULL;
        PyObject *o_d = o_t ? PyObject_GetAttrString(b, "data") : NULL;
        uint64_t mid = 0, btime = 0;
        if (o_d != NULL) {
            mid = PyLong_AsUnsignedLongLong(o_m);
            if (!PyErr_Occurred()) btime = PyLong_AsUnsignedLongLong(o_t);
            if (!PyErr_Occurred() && !PyBytes_Check(o_d))
                PyErr_SetString(PyExc_TypeError, "batch data must be bytes");
        }
        Py_XDECREF(o_m);
        Py_XDECREF(o_t);
        if (PyErr_Occurred()) {
            Py_XDECREF(o_d);
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_SetString(exc, "batch header value out of range");
            }
            goto done;
        }
        const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(o_d);
        const uint8_t *end = p + PyBytes_GET_SIZE(o_d);
        /* The bytes object stays alive in the batch list (held by seq) while we read it. */
        Py_DECREF(o_d);
        if (p == end) continue;
        int64_t base;
        if (to_units(btime, ns_mode, freq, &base) < 0) {
            corrupt(exc, "timestamp out of range");
            goto done;
        }
        Thread *th = thread_get(&ts, mid);
        if (th == NULL) goto done;
        Py_ssize_t thread = th - ts.t;
        Py_ssize_t start = th->times.n;
        if (start && th->times.v[start - 1] > base) th->unsorted = 1;
        if (vec_reserve(&th->times, (end - p) / 2 + 1) < 0) goto done;
        /* g: the goroutine on this M (has_g 0: not known yet); pend: a setter's goroutine not
         * yet taken (scan.py decodes it lazily; the outcome is the same). */
        int has_g = th->has_g, has_pend = 0;
        uint64_t g = th->g, pend = 0;
        int64_t t = base;
        dts.n = 0;
        while (p < end) {
            uint8_t typ = *p++;
            int n = argc[typ];
            uint64_t dt;
            if (n == 0 || uvarint(&p, end, &dt) < 0) {
                corrupt(exc, "undecodable event in an event batch");
                goto done;
            }
            int64_t d;
            if (to_units(dt, ns_mode, freq, &d) < 0 || __builtin_add_overflow(t, d, &t)) {
                corrupt(exc, "timestamp out of range");
                goto done;
            }
            Py_ssize_t k = th->times.n - start;
            if (vec_push(&th->times, t) < 0 || vec_push(&dts, (int64_t)dt) < 0) goto done;
            int kind = kinds[typ];
            if (kind == K_BORING) {
                for (int i = 1; i < n; i++) {
                    if (skip_varint(&p, end) < 0) {
                        corrupt(exc, "undecodable event in an event batch");
                        goto done;
                    }
                }
                continue;
            }
            uint64_t a[4] = {0, 0, 0, 0};
            for (int i = 1; i < n; i++) {
                int r = (i <= 3) ? uvarint(&p, end, &a[i]) : skip_varint(&p, end);
                if (r < 0) {
                    corrupt(exc, r == -2 ? "varint overflows 64 bits"
                                         : "undecodable event in an event batch");
                    goto done;
                }
            }
            if (kind == K_USER || keep[typ]) {
                if (has_pend) {
                    g = pend;
                    has_g = 1;
                    has_pend = 0;
                }
                if (vec_push(&th->user_times, t) < 0) goto done;
                int64_t ties = 0;
                for (Py_ssize_t j = k; j > 0 && dts.v[j] == 0; j--) ties++;
                User u;
                if (__builtin_mul_overflow(t, unit, &u.prov0) ||
                    __builtin_add_overflow(u.prov0, ties, &u.prov0) ||
                    u.prov0 > (INT64_MAX >> 2)) {
                    corrupt(exc, "timestamp out of range");
                    goto done;
                }
                u.time = u.prov0;
                u.thread = thread;
                u.index = start + k;
                u.seq = users.n;
                u.g = g;
                u.has_g = (uint8_t)has_g;
                u.typ = typ;
                u.a1 = a[1];
                u.a2 = n > 3 ? a[2] : 0;
                u.a3 = n > 3 ? a[3] : 0;
                if (user_push(&users, &u) < 0) goto done;
                if (kind == K_USER || kind == K_STATE) continue;
            }
            if (kind == K_STATUS) {
                uint64_t gid = a[1], m2 = a[2], status = a[3];
                if (status == st_running || (status == st_syscall && m2 == mid)) {
                    g = gid;
                    has_g = 1;
                    has_pend = 0;
                } else if (status == st_syscall) {
                    PyObject *km = PyLong_FromUnsignedLongLong(m2);
                    PyObject *vg = PyLong_FromUnsignedLongLong(gid);
                    int r = (km && vg) ? PyDict_SetItem(bindings, km, vg) : -1;
                    Py_XDECREF(km);
                    Py_XDECREF(vg);
                    if (r < 0) goto done;
                }
            } else {
                pend = a[1];
                has_pend = 1;
                if (kind == K_SWITCH) {
                    /* Go's reader turns a switch into three events at the same time. */
                    int64_t tn;
                    if (__builtin_mul_overflow(t, unit, &tn)) {
                        corrupt(exc, "timestamp out of range");
                        goto done;
                    }
                    if (vec_push(&extra_v, tn) < 0 || vec_push(&extra_v, tn) < 0) goto done;
                }
            }
        }
        if (has_pend) {
            g = pend;
            has_g = 1;
        }
        if (has_g) {
            th->g = g;
            th->has_g = 1;
        }
        count += th->times.n - start;
    }
    PyMem_Free(dts.v);
    dts.v = NULL;

    /* Extra events (switches, CPU samples), sorted; per-thread times sorted (broken clocks). */
    Py_ssize_t ns = samples_buf.len / 8;
    if (ns) {
        if (vec_reserve(&extra_v, ns) < 0) goto done;
        memcpy(extra_v.v + extra_v.n, samples_buf.buf, (size_t)ns * 8);
        extra_v.n += ns;
    }
    if (extra_v.n) qsort(extra_v.v, (size_t)extra_v.n, sizeof(int64_t), cmp_i64);
    for (Py_ssize_t i = 0; i < ts.n; i++)
        if (ts.t[i].unsorted)
            qsort(ts.t[i].times.v, (size_t)ts.t[i].times.n, sizeof(int64_t), cmp_i64);

    if (nudge(&ts, &users, &extra_v, unit, count, sync, exc) < 0) goto done;
    int64_t last;
    if (last_time(&ts, &extra_v, unit, count, sync, exc, &last) < 0) goto done;

    /* Goroutines not known from this generation's events: the thread's syscall binding, else
     * the goroutine it ran at the end of the previous generation (native.py's _emit). */
    for (Py_ssize_t i = 0; i < users.n; i++) {
        User *u = &users.v[i];
        if (u->has_g) continue;
        uint64_t m = ts.t[u->thread].m;
        int r = dict_get_u64(bindings, m, &u->g);
        if (r == 0) r = dict_get_u64(carry, m, &u->g);
        if (r < 0) goto done;
        u->has_g = (uint8_t)r;
    }
    if (users.n && sort_users(&users) < 0) goto done;
    if (states != Py_None &&
        state_pass(&users, kinds, (const uint8_t *)actions_buf.buf, last_d, sid_code, reason_fn,
                   &changes, &ranges) < 0)
        goto done;

    setters = PyDict_New();
    if (setters == NULL) goto done;
    for (Py_ssize_t i = 0; i < ts.n; i++) {
        Thread *th = &ts.t[i];
        if (!th->has_g) continue;
        PyObject *km = PyLong_FromUnsignedLongLong(th->m);
        PyObject *vg = PyLong_FromUnsignedLongLong(th->g);
        int r = (km && vg) ? PyDict_SetItem(setters, km, vg) : -1;
        Py_XDECREF(km);
        Py_XDECREF(vg);
        if (r < 0) goto done;
    }
    threads_free(&ts);
    memset(&ts, 0, sizeof(ts));
    cols[0] = column(users.v, users.n, offsetof(User, time), 8);
    cols[1] = column(users.v, users.n, offsetof(User, typ), 1);
    cols[2] = column(users.v, users.n, offsetof(User, g), 8);
    cols[3] = column(users.v, users.n, offsetof(User, has_g), 1);
    cols[4] = column(users.v, users.n, offsetof(User, a1), 8);
    cols[5] = column(users.v, users.n, offsetof(User, a2), 8);
    cols[6] = column(users.v, users.n, offsetof(User, a3), 8);
    for (int i = 0; i < 7; i++)
        if (cols[i] == NULL) goto done;
    if (states == Py_None)
        result = Py_BuildValue("((OOOOOOO)OOL)", cols[0], cols[1], cols[2], cols[3], cols[4],
                               cols[5], cols[6], bindings, setters, (long long)last);
    else
        result = Py_BuildValue("((OOOOOOO)OOLOO)", cols[0], cols[1], cols[2], cols[3], cols[4],
                               cols[5], cols[6], bindings, setters, (long long)last, changes,
                               ranges);

done:
    PyBuffer_Release(&argc_buf);
    PyBuffer_Release(&kinds_buf);
    PyBuffer_Release(&keep_buf);
    PyBuffer_Release(&samples_buf);
    if (actions_buf.obj) PyBuffer_Release(&actions_buf);
    Py_XDECREF(changes);
    Py_XDECREF(ranges);
    Py_XDECREF(seq);
    Py_XDECREF(bindings);
    Py_XDECREF(setters);
    for (int i = 0; i < 7; i++) Py_XDECREF(cols[i]);
    PyMem_Free(dts.v);
    PyMem_Free(extra_v.v);
    PyMem_Free(users.v);
    threads_free(&ts);
    return result;
}

static PyMethodDef methods[] = {
    {"generation", generation, METH_VARARGS, generation_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "perfgate.trace._scan",
    "The native trace reader's per-event work in C (optional; scan.py and timing.py are the "
    "fallback).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
