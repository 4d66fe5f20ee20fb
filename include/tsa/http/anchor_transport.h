// AnchorTransport over HTTP(S) (RFC 3161 §3.4), with cancellation for shutdown.
#pragma once

#include <memory>
#include <string>

#include "tsa/audit/anchor_worker.h"
#include "tsa/http/in_flight_clients.h"

namespace tsa::http {

class HttpAnchorTransport final : public audit::AnchorTransport {
 public:
  // ca_bundle_path: PEM file for HTTPS server verification (empty: the system store).
  explicit HttpAnchorTransport(std::string ca_bundle_path = "") : ca_bundle_path_(std::move(ca_bundle_path)) {}
  Result<std::vector<std::uint8_t>> PostQuery(const std::string& url, const std::vector<std::uint8_t>& der,
                                              int timeout_s) override;
  void CancelAll() override;

 private:
  std::string ca_bundle_path_;
  InFlightClients in_flight_;
};

}  // namespace tsa::http
