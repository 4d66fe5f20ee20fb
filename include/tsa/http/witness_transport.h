// WitnessTransport over HTTP(S) (c2sp.org/tlog-witness add-checkpoint), with cancellation for
// shutdown. Replies are capped (a cosignature reply is a few lines) and bounded in time.
#pragma once

#include <string>

#include "tsa/audit/witness_worker.h"
#include "tsa/http/in_flight_clients.h"

namespace tsa::http {

class HttpWitnessTransport final : public audit::WitnessTransport {
 public:
  Result<audit::WitnessReply> Post(const std::string& url, const std::string& body, int timeout_s) override;
  void CancelAll() override;

 private:
  InFlightClients in_flight_;
};

}  // namespace tsa::http
