#include "tsa/core/result.h"

#include <system_error>

namespace tsa {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kCrypto: return "crypto";
    case ErrorKind::kIo: return "i/o";
    case ErrorKind::kBusy: return "busy";
    case ErrorKind::kStorage: return "storage";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

std::string ErrnoText(int err) { return std::generic_category().message(err); }

std::string Error::ToString() const { return std::string(ErrorKindName(kind)) + ": " + message; }

}  // namespace tsa
