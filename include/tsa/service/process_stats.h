// The usual process_* metrics of a Prometheus client (resident memory, CPU seconds, open file
// descriptors, start time), read from /proc/self at scrape time: prometheus-cpp's core has no
// process collector. Linux only, like the rest of tsad.
#pragma once

#include <cstdint>
#include <optional>

namespace tsa::service {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;      // /proc/self/statm resident * page size
  double virtual_bytes = 0;       // /proc/self/statm size * page size
  double start_time_seconds = 0;  // Unix time the process started (btime + starttime / ticks)
  double open_fds = 0;            // entries of /proc/self/fd
  double max_fds = 0;             // RLIMIT_NOFILE (soft)
  std::uint64_t threads = 0;      // /proc/self/stat num_threads
};

// nullopt when /proc/self cannot be read (then no process_* metric is reported rather than zeros).
std::optional<ProcessStats> ReadProcessStats();

}  // namespace tsa::service
