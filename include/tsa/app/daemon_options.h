// The options of tsad's parts, built from its Config. Each builder checks what it reads and
// refuses with one line, which RunDaemon prints before it exits 1 (README "Exit codes").
#pragma once

#include <memory>
#include <vector>

#include "tsa/app/config.h"
#include "tsa/audit/anchor_worker.h"
#include "tsa/audit/token_log.h"
#include "tsa/audit/witness_worker.h"
#include "tsa/core/request.h"
#include "tsa/core/result.h"
#include "tsa/http/server.h"
#include "tsa/service/metrics.h"

namespace tsa::app {

// --policy, --accepted-policy, --hash and --allow-sha1.
Result<core::IssuancePolicy> BuildPolicy(const Config& config);

// The token log: --db (its directory is not created: a typo must not start a new, empty log),
// the layout, durability and the writer's tuning; each commit is counted in `metrics`.
audit::TokenLogOptions LogOptionsFor(const Config& config, std::shared_ptr<service::Metrics> metrics);

// The anchoring thread (AUDIT_CHAIN.md): the external TSAs, their schedule and trust bundle
// (--anchor-ca: an empty or garbled bundle is refused, never read as "no bundle"). `origin` is the
// TSA certificate's subject; every attempt is counted and logged.
Result<audit::AnchorOptions> AnchorOptionsFor(const Config& config, const std::string& origin,
                                              std::shared_ptr<service::Metrics> metrics);

// --witness URL=VKEY (c2sp.org/tlog-witness), each parsed; and the worker's options for them.
Result<std::vector<audit::Witness>> WitnessesFor(const Config& config);
audit::WitnessOptions WitnessOptionsFor(const Config& config, std::vector<audit::Witness> witnesses);

// The listener(s), limits, deadlines, rate limits, /metrics access and TLS.
Result<http::HttpOptions> HttpOptionsFor(const Config& config);

}  // namespace tsa::app
