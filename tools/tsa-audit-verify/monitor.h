// tsa-audit-verify --url: monitors a tsad log over HTTP (c2sp.org/tlog-tiles) with
// verify::MonitorLog, keeping the last verified checkpoint in a state file. Exit codes (README
// "Exit codes"): 0 verified; 1 the tiles or entries do not verify (tampered or damaged); 3 an
// input cannot be read (the log cannot be fetched, the state or --vkey file is unreadable or not
// a checkpoint of this log, the state cannot be written); 4 the log is inconsistent with the
// state (it shrank, signed another root for the same size, or the consistency proof fails: a
// fork or rewrite); 5 the checkpoint is not signed by --vkey (or has another origin); 6 it is not
// cosigned by the quorum of --witness-vkey witnesses (the state is then left as it was).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tsa/verify/witness_quorum.h"

namespace tsa::tool {

struct MonitorFlags {
  std::string url;                        // the log prefix, e.g. https://tsa.example/log
  std::string vkey;                       // the verifier key string, resolved (not "@file")
  std::string state;                      // empty: no state kept
  std::string tsa_certs_pem, tsa_ca_pem;  // both empty: tokens are parsed, their signatures not checked
  bool skip_history = false;
  bool verbose = false;
  int timeout_s = 30;
  verify::WitnessPolicy witnesses;  // empty: cosignatures are not required
};

inline constexpr int kExitInconsistent = 4;
inline constexpr int kExitBadCheckpoint = 5;

int RunMonitor(const MonitorFlags& flags, const std::function<void(std::uint64_t, std::uint64_t)>& progress);

}  // namespace tsa::tool
