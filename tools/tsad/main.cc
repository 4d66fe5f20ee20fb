// tsad: the time-stamping daemon. Flags -> RunDaemon -> exit code (see README "Exit codes").
#include <exception>
#include <iostream>

#include "tsa/app/config.h"
#include "tsa/app/daemon.h"

int main(int argc, char** argv) {
  try {
    const auto parsed = tsa::app::ParseConfig(argc, argv);
    if (!parsed.config) return parsed.exit_code;
    return tsa::app::RunDaemon(*parsed.config);
  } catch (const std::exception& e) {
    std::cerr << "tsad: fatal: " << e.what() << "\n";
    return 1;
  } catch (...) {
    std::cerr << "tsad: fatal: unknown exception\n";
    return 1;
  }
}
