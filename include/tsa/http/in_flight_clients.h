// The HTTP client exchanges a transport (anchoring, witnesses) has in flight, so that shutdown can
// stop them at once instead of waiting for their timeouts. Thread-safe.
#pragma once

#include <mutex>
#include <set>

namespace tsa::http {

class InFlightClients {
 public:
  void Add(void* client);     // an httplib::Client* about to send
  void Remove(void* client);  // done with it
  void StopAll();             // httplib::Client::stop() on each: their exchanges fail at once

 private:
  std::mutex mutex_;
  std::set<void*> clients_;  // guarded by mutex_
};

}  // namespace tsa::http
