// A team of threads on one shared wasm memory: the calling thread (thread 0) and helpers 1..n-1, each a worker
// (Team in js/pool.js) running its own instance of the shared-memory module and parked in wm_team_helper. A job is a
// function run over parts 0..parts-1; threads claim parts first come first served, so a late or descheduled
// helper only means the others take more parts. Every job in the encoder computes each part the same way whoever
// runs it, so vectors do not depend on the number of threads.
//
// Only the shared-memory builds (dist/wembed-mt.wasm, dist/wembed-relaxed-mt.wasm: compiled with atomics) have
// helpers; elsewhere (the emcc module, native builds) wm_team_start fails and every job runs on the caller.
#ifndef WM_TEAM_H
#define WM_TEAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct wm_team wm_team;

// fn(args, part, thread): one part of a job, on thread `thread` (0 = the caller); parts write disjoint outputs.
typedef void (*wm_job_fn)(void *args, int part, int thread);

// The team of this memory, with threads - 1 helpers (threads in 2..64), each given a stack of stack_bytes:
// their tops are in *stack_tops ([threads - 1]). NULL with err if this build has no atomics, or out of memory.
// There is one team per memory and it lives as long as the memory (helpers may read it until they are stopped
// and their workers are gone).
wm_team *wm_team_start(int threads, size_t stack_bytes, const uint32_t **stack_tops, char *err, size_t cap);

// Runs fn over parts 0..parts-1 and returns when all are done; the calling thread works too and never sleeps
// (a browser's main thread may not block). t NULL: all parts here, in order.
void wm_team_run(wm_team *t, wm_job_fn fn, void *args, int parts);

int wm_team_size(const wm_team *t);  // threads in the team (1 for NULL)

// A helper's life: takes parts of jobs until wm_team_stop (spins a little between jobs, then sleeps).
void wm_team_helper(wm_team *t, int thread);

// Wakes sleeping helpers ahead of the jobs to come, so that their wake-up overlaps the caller's own work (tokenizing).
void wm_team_wake(wm_team *t);

// Makes every helper return from wm_team_helper.
void wm_team_stop(wm_team *t);

#endif
