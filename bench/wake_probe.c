/* Cross-CPU wake-up latency: how long a thread parked on CPU 1 (futex wait) takes to run
 * after a thread on CPU 0 wakes it, N times, 200 us apart (so CPU 1 is idle each time).
 * Prints the median and 90th percentile in microseconds: "MEDIAN P90".
 * On bare metal a few microseconds; in a VM it includes the hypervisor waking the vCPU.
 * Built and run by bench/machine_probe.py (gcc -O2 -pthread). Linux only. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int word, done;
static _Atomic double woke;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *sleeper(void *arg) {
    (void)arg;
    pin(1);
    for (;;) {
        while (atomic_load(&word) == 0) syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
        if (atomic_load(&done)) return NULL;
        atomic_store(&woke, now_ns());
        atomic_store(&word, 0);
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 500;
    if (n < 10) n = 10;
    double *lat = malloc(sizeof(double) * (size_t)n);
    pthread_t t;
    if (lat == NULL || pthread_create(&t, NULL, sleeper, NULL) != 0) return 1;
    pin(0);
    for (int i = 0; i < n; i++) {
        struct timespec gap = {0, 200000};
        nanosleep(&gap, NULL);
        double t0 = now_ns();
        atomic_store(&word, 1);
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
        while (atomic_load(&word) == 1) {
        }
        lat[i] = atomic_load(&woke) - t0;
    }
    atomic_store(&done, 1);
    atomic_store(&word, 1);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    pthread_join(t, NULL);
    qsort(lat, (size_t)n, sizeof(double), cmp);
    printf("%.1f %.1f\n", lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3);
    return 0;
}
