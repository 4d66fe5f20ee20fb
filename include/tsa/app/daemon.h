// Builds tsad's object graph from a Config, serves until SIGTERM/SIGINT, and tears it down.
#pragma once

#include "tsa/app/config.h"

namespace tsa::app {

// Exit codes of tsad (README): 0 clean shutdown, 1 refused to start (one line on stderr says why),
// 2 usage error.
int RunDaemon(const Config& config);

}  // namespace tsa::app
