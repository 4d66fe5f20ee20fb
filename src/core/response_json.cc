#include <nlohmann/json.hpp>

#include "tsa/core/response_info.h"

namespace tsa::core {

const char* PkiStatusName(int status) {
  switch (status) {
    case 0: return "granted";
    case 1: return "grantedWithMods";
    case 2: return "rejection";
    case 3: return "waiting";
    case 4: return "revocationWarning";
    case 5: return "revocationNotification";
    default: return "unknown";
  }
}

std::string Base64(const std::vector<std::uint8_t>& data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    const unsigned v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

nlohmann::json ToJson(const TokenInfo& t) {
  nlohmann::json j;
  j["version"] = t.version;
  j["policy"] = t.policy;
  j["message_imprint"] = {{"algorithm", t.hash_algorithm}, {"algorithm_oid", t.hash_oid}, {"digest", t.digest_hex}};
  j["gen_time"] = t.gen_time;
  j["serial_number"] = t.serial_hex;
  if (t.accuracy) {
    j["accuracy"] = {{"seconds", t.accuracy->seconds}, {"millis", t.accuracy->millis}, {"micros", t.accuracy->micros}};
  } else {
    j["accuracy"] = nullptr;
  }
  j["ordering"] = t.ordering;
  j["nonce"] = t.nonce_hex ? nlohmann::json(*t.nonce_hex) : nlohmann::json(nullptr);
  j["tsa"] = t.tsa ? nlohmann::json(*t.tsa) : nlohmann::json(nullptr);
  auto exts = nlohmann::json::array();
  for (const auto& e : t.extensions) exts.push_back({{"oid", e.oid}, {"critical", e.critical}, {"value", e.value_hex}});
  j["extensions"] = exts;
  j["signature"] = {{"algorithm", t.signature_algorithm}, {"digest_algorithm", t.digest_algorithm}, {"value", t.signature_hex}};
  j["certificates"] = t.certificate_count;
  if (!t.signer_subject.empty()) j["signer"] = t.signer_subject;
  j["token"] = Base64(t.token_der);
  return j;
}

nlohmann::json ToJson(const ResponseInfo& info) {
  nlohmann::json j;
  j["status"] = PkiStatusName(info.status);
  if (info.token) {
    const nlohmann::json token = ToJson(*info.token);  // keep it alive while iterating
    for (const auto& [k, v] : token.items()) j[k] = v;
    return j;
  }
  j["fail_info"] = info.fail_info.empty() ? nlohmann::json(nullptr) : nlohmann::json(FailInfoName(info.fail_info.front()));
  j["status_string"] = info.status_string;
  return j;
}

}  // namespace tsa::core
