// What SIGHUP reloads: each part that can be reloaded registers a hook (the clients file, the TLS
// certificate, the signing key ...). The signal thread runs them all, in registration order; a
// hook that fails keeps what it had and is logged in one line, and the others still run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::app {

class ReloadHooks {
 public:
  // `what` names the hook in the log ("clients", "tls").
  void Add(std::string what, std::function<Status()> reload);
  bool empty() const { return hooks_.empty(); }
  // Runs every hook; logs "reloaded" or "reload_failed" per hook. Returns how many failed.
  int RunAll() const;

 private:
  std::vector<std::pair<std::string, std::function<Status()>>> hooks_;
};

}  // namespace tsa::app
