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
#include <string.h>

/* Event kinds, as given by the caller's kind table. */
enum { K_BORING = 0, K_USER = 1, K_SETTER = 2, K_SWITCH = 3, K_STATUS = 4 };

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

PyDoc_STRVAR(scan_doc,
"scan(batches, argc, kinds, unit, freq, running, syscall, corrupt)\n"
"--\n\n"
"Tokenise a generation's event batches (objects with .m, .time, .data, in file order).\n\n"
"argc: 256 bytes, the number of varints (time delta included) of each event type, 0 for a\n"
"type that cannot appear; kinds: 256 bytes, 0 other, 1 user annotation, 2 goroutine setter,\n"
"3 goroutine switch, 4 goroutine status; unit: ns per tick when whole (times in ticks), else 0\n"
"(times in ns, each delta converted with freq); running/syscall: GoStatus values; corrupt: the\n"
"exception class raised for bytes that cannot be events.\n\n"
"Returns (times, user, user_times, extra, syscall_bindings, last_setter, count): times and\n"
"user_times map M -> packed native int64 bytes (times sorted), user is a list of\n"
"(provisional, m, index, type, g or None, a1, a2, a3), extra a sorted list of ns.");

static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *batches, *exc;
    Py_buffer argc_buf, kinds_buf;
    long long unit_in;
    double freq;
    unsigned long long st_running, st_syscall;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oy*y*LdKKO", &batches, &argc_buf, &kinds_buf, &unit_in, &freq,
                          &st_running, &st_syscall, &exc))
        return NULL;

    PyObject *result = NULL, *user = NULL, *extra = NULL, *bindings = NULL, *seq = NULL;
    PyObject *times_d = NULL, *utimes_d = NULL, *setters = NULL;
    Threads ts = {0};
    uint8_t argc[256], kinds[256];
    I64Vec dts = {0};
    I64Vec extra_v = {0};
    Py_ssize_t count = 0;
    int ns_mode = unit_in == 0;
    int64_t unit = ns_mode ? 1 : (int64_t)unit_in;

    if (argc_buf.len != 256 || kinds_buf.len != 256) {
        PyErr_SetString(PyExc_ValueError, "argc and kinds must be 256 bytes");
        goto done;
    }
    memcpy(argc, argc_buf.buf, 256);
    memcpy(kinds, kinds_buf.buf, 256);
    if (unit < 1) {
        PyErr_SetString(PyExc_ValueError, "unit must be >= 0");
        goto done;
    }
    seq = PySequence_Fast(batches, "batches must be a sequence");
    if (seq == NULL) goto done;
    user = PyList_New(0);
    bindings = PyDict_New();
    if (user == NULL || bindings == NULL) goto done;

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
        if (p == end) {
            Py_DECREF(o_d);
            continue;
        }
        int64_t base;
        if (to_units(btime, ns_mode, freq, &base) < 0) {
            Py_DECREF(o_d);
            corrupt(exc, "timestamp out of range");
            goto done;
        }
        Thread *th = thread_get(&ts, mid);
        if (th == NULL) {
            Py_DECREF(o_d);
            goto done;
        }
        Py_ssize_t start = th->times.n;
        if (start && th->times.v[start - 1] > base) th->unsorted = 1;
        /* g: the goroutine on this M (has_g 0: not known yet); pend: a setter's goroutine not
         * yet taken (the pure-Python code decodes it lazily; the outcome is the same). */
        int has_g = th->has_g, has_pend = 0;
        uint64_t g = th->g, pend = 0;
        int64_t t = base;
        dts.n = 0;
        while (p < end) {
            uint8_t typ = *p++;
            int n = argc[typ];
            uint64_t dt;
            if (n == 0 || uvarint(&p, end, &dt) < 0) {
                Py_DECREF(o_d);
                corrupt(exc, "undecodable event in an event batch");
                goto done;
            }
            int64_t d;
            if (to_units(dt, ns_mode, freq, &d) < 0 || __builtin_add_overflow(t, d, &t)) {
                Py_DECREF(o_d);
                corrupt(exc, "timestamp out of range");
                goto done;
            }
            Py_ssize_t k = th->times.n - start;
            if (vec_push(&th->times, t) < 0 || vec_push(&dts, (int64_t)dt) < 0) {
                Py_DECREF(o_d);
                goto done;
            }
            int kind = kinds[typ];
            if (kind == K_BORING) {
                for (int i = 1; i < n; i++) {
                    if (skip_varint(&p, end) < 0) {
                        Py_DECREF(o_d);
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
                    Py_DECREF(o_d);
                    corrupt(exc, r == -2 ? "varint overflows 64 bits"
                                         : "undecodable event in an event batch");
                    goto done;
                }
            }
            if (kind == K_USER) {
                if (has_pend) {
                    g = pend;
                    has_g = 1;
                    has_pend = 0;
                }
                if (vec_push(&th->user_times, t) < 0) {
                    Py_DECREF(o_d);
                    goto done;
                }
                int64_t ties = 0;
                for (Py_ssize_t j = k; j > 0 && dts.v[j] == 0; j--) ties++;
                int64_t prov;
                if (__builtin_mul_overflow(t, unit, &prov) ||
                    __builtin_add_overflow(prov, ties, &prov)) {
                    Py_DECREF(o_d);
                    corrupt(exc, "timestamp out of range");
                    goto done;
                }
                PyObject *gobj;
                if (has_g) {
                    gobj = PyLong_FromUnsignedLongLong(g);
                } else {
                    gobj = Py_None;
                    Py_INCREF(gobj);
                }
                PyObject *tup = Py_BuildValue("(LKnBNKKK)", (long long)prov,
                                              (unsigned long long)mid, start + k, typ, gobj,
                                              (unsigned long long)a[1],
                                              (unsigned long long)(n > 3 ? a[2] : 0),
                                              (unsigned long long)(n > 4 ? a[3] : 0));
                if (tup == NULL || PyList_Append(user, tup) < 0) {
                    Py_XDECREF(tup);
                    Py_DECREF(o_d);
                    goto done;
                }
                Py_DECREF(tup);
            } else if (kind == K_STATUS) {
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
                    if (r < 0) {
                        Py_DECREF(o_d);
                        goto done;
                    }
                }
            } else {
                pend = a[1];
                has_pend = 1;
                if (kind == K_SWITCH) {
                    /* Go's reader turns a switch into three events at the same time. */
                    int64_t tn;
                    if (__builtin_mul_overflow(t, unit, &tn)) {
                        Py_DECREF(o_d);
                        corrupt(exc, "timestamp out of range");
                        goto done;
                    }
                    if (vec_push(&extra_v, tn) < 0 || vec_push(&extra_v, tn) < 0) {
                        Py_DECREF(o_d);
                        goto done;
                    }
                }
            }
        }
        Py_DECREF(o_d);
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

    times_d = PyDict_New();
    utimes_d = PyDict_New();
    setters = PyDict_New();
    if (times_d == NULL || utimes_d == NULL || setters == NULL) goto done;
    for (Py_ssize_t i = 0; i < ts.n; i++) {
        Thread *th = &ts.t[i];
        if (th->unsorted) qsort(th->times.v, (size_t)th->times.n, sizeof(int64_t), cmp_i64);
        PyObject *km = PyLong_FromUnsignedLongLong(th->m);
        if (km == NULL) goto done;
        PyObject *tb = bytes_of(&th->times);
        int r = tb ? PyDict_SetItem(times_d, km, tb) : -1;
        Py_XDECREF(tb);
        PyMem_Free(th->times.v);
        th->times.v = NULL;
        th->times.n = th->times.cap = 0;
        if (r == 0 && th->user_times.n) {
            PyObject *ub = bytes_of(&th->user_times);
            r = ub ? PyDict_SetItem(utimes_d, km, ub) : -1;
            Py_XDECREF(ub);
        }
        if (r == 0 && th->has_g) {
            PyObject *vg = PyLong_FromUnsignedLongLong(th->g);
            r = vg ? PyDict_SetItem(setters, km, vg) : -1;
            Py_XDECREF(vg);
        }
        Py_DECREF(km);
        if (r < 0) goto done;
    }
    if (extra_v.n) qsort(extra_v.v, (size_t)extra_v.n, sizeof(int64_t), cmp_i64);
    extra = PyList_New(extra_v.n);
    if (extra == NULL) goto done;
    for (Py_ssize_t i = 0; i < extra_v.n; i++) {
        PyObject *x = PyLong_FromLongLong(extra_v.v[i]);
        if (x == NULL) goto done;
        PyList_SET_ITEM(extra, i, x);
    }
    result = Py_BuildValue("(OOOOOOn)", times_d, user, utimes_d, extra, bindings, setters, count);

done:
    PyBuffer_Release(&argc_buf);
    PyBuffer_Release(&kinds_buf);
    Py_XDECREF(seq);
    Py_XDECREF(user);
    Py_XDECREF(extra);
    Py_XDECREF(bindings);
    Py_XDECREF(times_d);
    Py_XDECREF(utimes_d);
    Py_XDECREF(setters);
    PyMem_Free(dts.v);
    PyMem_Free(extra_v.v);
    threads_free(&ts);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "perfgate.trace._scan",
    "The native trace reader's per-event work in C (optional; scan.py is the fallback).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
