// jemalloc's build-time options for tsad, read by jemalloc from this symbol at start-up (the
// MALLOC_CONF environment variable still overrides them). Linked only when tsad uses jemalloc.
//
// Why: every HTTP connection holds a thread, and each thread's cache keeps freed blocks for reuse
// (by default up to 200 per small size class, in 4 arenas per core). Under 256 connections that took
// tsad to 59-68 MB of RSS. Two arenas, caches for blocks up to 1 KiB of at most 32 slots, and
// prompt purging: 46 MB at 256 connections, the same tokens/s within noise (docs/performance.md).
extern "C" {
// NOLINTNEXTLINE: jemalloc looks this global up by name
const char* malloc_conf = "narenas:2,tcache_max:1024,tcache_nslots_small_max:32,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
