// Names the calling thread, so that `top -H`, `ps -L`, perf and /proc/<pid>/task/*/comm tell
// tsad's threads apart (the log writer, the I/O threads, ...). The main thread keeps the process
// name: `pidof tsad` and `kill -HUP $(pidof tsad)` depend on it.
#pragma once

#include <string>

namespace tsa::core {

// Linux keeps 15 bytes of a thread name: longer names are cut. Failure is ignored (cosmetic).
void NameThisThread(const std::string& name);

}  // namespace tsa::core
