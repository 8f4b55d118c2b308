// The job runner of team.h. Lock-free: one word to claim parts, one to count finished parts, one to wake helpers.
#include "encoder/team.h"

#include <stdio.h>

#ifdef __wasm_atomics__
#include <stdatomic.h>
#include <stdlib.h>

struct wm_team {
    int threads;
    _Atomic uint32_t job;        // bumped for every job (and to stop); sleeping helpers wait on it
    _Atomic uint64_t claim;      // job << 32 | parts not yet claimed: a part is claimed by a CAS that checks both
    _Atomic uint32_t done;       // parts of the current job finished
    _Atomic uint32_t sleepers;   // helpers in memory.atomic.wait (only then does the caller pay for a notify)
    _Atomic uint32_t quit;
    wm_job_fn fn;                // the current job: written before its claim word is published, read only by a
    void *args;                  // thread whose claim of one of its parts succeeded (so it is still current)
};

static wm_team team;             // one per memory: the JS side gives every model its own memory
static uint32_t stack_tops[63];

// How long an idle helper keeps polling before it sleeps: about 1 ms of one core (measured: process CPU time
// while idle after an embed), longer than the gaps between the jobs of a forward pass and between the calls of a
// batch. Waking a sleeping helper costs far more than the wait itself on a virtual machine: with 65536 polls
// (~25 us) a 16-token text on 2 threads took 10.2 ms after 20 ms idle against 6.4 ms back to back; with 2^20, 7.8.
#define WM_TEAM_SPIN (1 << 20)

// Claims and runs parts of job j until none is left; a stale j (the job has moved on) claims nothing.
static void work(wm_team *t, uint32_t j, int thread) {
    uint64_t c = atomic_load(&t->claim);
    for (;;) {
        if ((uint32_t)(c >> 32) != j || (uint32_t)c == 0) return;
        if (!atomic_compare_exchange_weak(&t->claim, &c, c - 1)) continue;  // c reloaded
        t->fn(t->args, (int)((uint32_t)c - 1), thread);  // parts go from the last down
        atomic_fetch_add(&t->done, 1);
        c = atomic_load(&t->claim);
    }
}

wm_team *wm_team_start(int threads, size_t stack_bytes, const uint32_t **tops, char *err, size_t cap) {
    if (threads < 2 || threads > 64) {
        snprintf(err, cap, "threads must be 2..64, got %d", threads);
        return NULL;
    }
    if (team.threads) {
        snprintf(err, cap, "this memory already has a team of %d threads", team.threads);
        return NULL;
    }
    for (int i = 0; i < threads - 1; i++) {
        char *s = aligned_alloc(16, stack_bytes);  // never freed: a helper may run on it until its worker is gone
        if (!s) {
            snprintf(err, cap, "out of memory for %d helper stacks of %zu bytes", threads - 1, stack_bytes);
            return NULL;
        }
        stack_tops[i] = (uint32_t)(uintptr_t)(s + stack_bytes);
    }
    team.threads = threads;
    *tops = stack_tops;
    return &team;
}

int wm_team_size(const wm_team *t) { return t ? t->threads : 1; }

void wm_team_run(wm_team *t, wm_job_fn fn, void *args, int parts) {
    if (!t || parts <= 1) {
        for (int p = 0; p < parts; p++) fn(args, p, 0);
        return;
    }
    uint32_t j = atomic_load_explicit(&t->job, memory_order_relaxed) + 1;  // only this thread writes job
    t->fn = fn, t->args = args;
    atomic_store(&t->done, 0);
    atomic_store(&t->claim, (uint64_t)j << 32 | (uint32_t)parts);
    atomic_store(&t->job, j);
    if (atomic_load(&t->sleepers)) __builtin_wasm_memory_atomic_notify((int *)&t->job, (unsigned)t->threads);
    work(t, j, 0);
    while (atomic_load(&t->done) != (uint32_t)parts) {
    }  // the last parts are finishing on helpers: a short wait, and a browser's main thread may not block
}

void wm_team_helper(wm_team *t, int thread) {
    uint32_t seen = atomic_load(&t->job);
    while (!atomic_load(&t->quit)) {
        uint32_t j = atomic_load(&t->job);
        for (int spin = 0; j == seen && spin < WM_TEAM_SPIN; spin++) j = atomic_load(&t->job);
        if (j == seen) {  // idle: sleep until the next job (the caller notifies whenever sleepers > 0)
            atomic_fetch_add(&t->sleepers, 1);
            __builtin_wasm_memory_atomic_wait32((int *)&t->job, (int)seen, -1);
            atomic_fetch_sub(&t->sleepers, 1);
            continue;
        }
        seen = j;
        work(t, j, thread);
    }
}

void wm_team_wake(wm_team *t) {
    if (t && atomic_load(&t->sleepers)) __builtin_wasm_memory_atomic_notify((int *)&t->job, (unsigned)t->threads);
}

void wm_team_stop(wm_team *t) {
    if (!t) return;
    atomic_store(&t->quit, 1);
    atomic_fetch_add(&t->job, 1);
    __builtin_wasm_memory_atomic_notify((int *)&t->job, (unsigned)t->threads);
}

#else  // no atomics in this build: no helpers; jobs run on the caller

wm_team *wm_team_start(int threads, size_t stack_bytes, const uint32_t **tops, char *err, size_t cap) {
    (void)threads, (void)stack_bytes, (void)tops;
    snprintf(err, cap, "this build of wembed has no threads (load the shared-memory module, dist/wembed-mt.wasm)");
    return NULL;
}

int wm_team_size(const wm_team *t) {
    (void)t;
    return 1;
}

void wm_team_run(wm_team *t, wm_job_fn fn, void *args, int parts) {
    (void)t;
    for (int p = 0; p < parts; p++) fn(args, p, 0);
}

void wm_team_helper(wm_team *t, int thread) { (void)t, (void)thread; }
void wm_team_wake(wm_team *t) { (void)t; }
void wm_team_stop(wm_team *t) { (void)t; }

#endif
