// jemalloc's build-time options for tsad, read by jemalloc from this symbol at start-up (the
// MALLOC_CONF environment variable still overrides them). Linked only when tsad uses jemalloc.
//
// Why: every HTTP connection holds a thread, and by default each thread's cache may keep up to
// 32 KiB per size class, across 4 arenas per core. Under 256 connections that is what took tsad
// past 64 MB of RSS; with two arenas, small thread caches and prompt purging it stays under 60 MB
// at the same tokens/s (docs/performance.md).
extern "C" {
// NOLINTNEXTLINE: jemalloc looks this global up by name
const char* malloc_conf = "narenas:2,tcache_max:1024,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
