#include "tsa/core/thread_name.h"

#include <pthread.h>

namespace tsa::core {

void NameThisThread(const std::string& name) { pthread_setname_np(pthread_self(), name.substr(0, 15).c_str()); }

}  // namespace tsa::core
