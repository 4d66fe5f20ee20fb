#include "tsa/app/reload.h"

#include "tsa/service/logging.h"

namespace tsa::app {

void ReloadHooks::Add(std::string what, std::function<Status()> reload) {
  hooks_.emplace_back(std::move(what), std::move(reload));
}

int ReloadHooks::RunAll() const {
  int failed = 0;
  for (const auto& [what, reload] : hooks_) {
    Status st = Ok();
    try {
      st = reload();
    } catch (const std::exception& e) {
      st = MakeError(ErrorKind::kInternal, e.what());
    }
    if (st) {
      service::LogEvent(spdlog::level::info, "reloaded", {{"what", what}});
    } else {
      ++failed;
      service::LogEvent(spdlog::level::err, "reload_failed",
                        {{"what", what}, {"error", st.error().message}, {"kept", "the previous one"}});
    }
  }
  return failed;
}

}  // namespace tsa::app
