#include "tsa/audit/token_log.h"

#include <chrono>

#include "tsa/crypto/streaming_hash.h"
#include "tsa/store/schema.h"

namespace tsa::audit {

// One queued request to the writer; lives on the caller's stack until `done`.
struct TokenLog::Pending {
  enum class Kind { kToken, kProbe, kClaimEpoch } kind = Kind::kToken;
  TokenRecord record;
  std::uint16_t instance = 0;
  std::int64_t now_us = 0;
  std::uint64_t epoch = 0;
  Status status;
  bool done = false;
};

std::vector<std::uint8_t> TokenLog::LeafHash(const std::vector<std::uint8_t>& token_der) {
  auto h = crypto::StreamingHash::Create(core::HashAlgorithm::kSha256);
  const std::uint8_t prefix = 0x00;
  h->Update(&prefix, 1);
  h->Update(token_der.data(), token_der.size());
  return h->Finish();
}

Result<std::unique_ptr<TokenLog>> TokenLog::Open(const TokenLogOptions& options) {
  store::OpenOptions open;
  open.synchronous_full = options.synchronous_full;
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(options.path, open));
  TSA_TRY(store::Migrate(*db));
  TSA_ASSIGN_OR_RETURN(store::Statement count, db->Prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM tokens"));
  TSA_ASSIGN_OR_RETURN(bool row, count.Step());
  const auto size = row ? static_cast<std::uint64_t>(count.ColumnInt(0)) : 0;
  return std::unique_ptr<TokenLog>(new TokenLog(options, std::move(db), size));
}

TokenLog::TokenLog(TokenLogOptions options, std::unique_ptr<store::Database> db, std::uint64_t size)
    : options_(std::move(options)), db_(std::move(db)) {
  stats_.size = size;
  writer_ = std::jthread([this](std::stop_token st) { Run(st); });
}

TokenLog::~TokenLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  writer_.request_stop();
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Status TokenLog::Submit(Pending& pending, int timeout_ms) {
  std::unique_lock lock(mutex_);
  if (stopping_) return MakeError(ErrorKind::kUnavailable, "the token log is shutting down");
  queue_.push_back(&pending);
  wake_writer_.notify_one();
  if (timeout_ms < 0) {
    done_.wait(lock, [&] { return pending.done; });
  } else if (!done_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return pending.done; })) {
    // Still queued or in flight: it must not touch our stack after we return, so wait it out
    // unless it is still in the queue, where we can take it back.
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (*it == &pending) {
        queue_.erase(it);
        return MakeError(ErrorKind::kUnavailable, "the token log did not answer within " + std::to_string(timeout_ms) + " ms");
      }
    }
    done_.wait(lock, [&] { return pending.done; });
  }
  return pending.status;
}

Status TokenLog::Append(TokenRecord record) {
  Pending p;
  p.kind = Pending::Kind::kToken;
  p.record = std::move(record);
  return Submit(p, -1);
}

Status TokenLog::Probe(int timeout_ms) {
  Pending p;
  p.kind = Pending::Kind::kProbe;
  return Submit(p, timeout_ms);
}

Result<std::uint64_t> TokenLog::ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us) {
  Pending p;
  p.kind = Pending::Kind::kClaimEpoch;
  p.instance = instance;
  p.now_us = now_us;
  TSA_TRY(Submit(p, -1));
  return p.epoch;
}

TokenLogStats TokenLog::Stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void TokenLog::Run(std::stop_token stop) {
  std::vector<Pending*> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_writer_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left to write
      // An epoch claim runs in a transaction of its own; everything else is batched.
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        const bool claim = queue_.front()->kind == Pending::Kind::kClaimEpoch;
        if (claim && !batch.empty()) break;
        batch.push_back(queue_.front());
        queue_.pop_front();
        if (claim) break;
      }
    }
    const Status st = Commit(batch);
    {
      std::lock_guard lock(mutex_);
      stats_.commits += 1;
      stats_.last_error = st ? "" : st.error().message;
      for (Pending* p : batch) {
        if (!st) p->status = st;
        if (st && p->kind == Pending::Kind::kToken) stats_.size += 1;
        p->done = true;
      }
    }
    done_.notify_all();
    batch.clear();
  }
}

Status TokenLog::Commit(std::vector<Pending*>& batch) {
  store::Database& db = *db_;
  if (batch.size() == 1 && batch.front()->kind == Pending::Kind::kClaimEpoch) {
    Pending* p = batch.front();
    TSA_ASSIGN_OR_RETURN(p->epoch, store::ClaimSerialEpoch(db, p->instance, p->now_us));
    return Ok();
  }
  TSA_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(db));
  std::uint64_t next_index;
  {
    std::lock_guard lock(mutex_);
    next_index = stats_.size;
  }
  TSA_ASSIGN_OR_RETURN(
      store::Statement insert,
      db.Prepare("INSERT INTO tokens (idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (Pending* p : batch) {
    switch (p->kind) {
      case Pending::Kind::kToken: {
        const TokenRecord& r = p->record;
        TSA_ASSIGN_OR_RETURN(auto token_hash, crypto::Digest(core::HashAlgorithm::kSha256, r.token_der));
        const auto leaf = LeafHash(r.token_der);
        TSA_TRY(insert.Reset());
        insert.Bind(1, static_cast<std::int64_t>(next_index)).Bind(2, r.serial_hex).Bind(3, r.gen_time_us).Bind(4, r.policy).Bind(5, r.hash_oid);
        insert.BindBlob(6, r.digest);
        if (options_.keep_token) {
          insert.BindBlob(7, r.token_der);
        } else {
          insert.BindNull(7);
        }
        insert.BindBlob(8, token_hash).BindBlob(9, leaf);
        TSA_TRY(insert.Run());
        ++next_index;
        break;
      }
      case Pending::Kind::kProbe: {
        TSA_ASSIGN_OR_RETURN(store::Statement probe, db.Prepare("INSERT INTO meta (key, value) VALUES ('health_probe', ?) "
                                                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
        probe.Bind(1, std::to_string(std::chrono::system_clock::now().time_since_epoch().count()));
        TSA_TRY(probe.Run());
        break;
      }
      case Pending::Kind::kClaimEpoch:
        return MakeError(ErrorKind::kInternal, "epoch claim batched with other writes");
    }
  }
  return tx.Commit();
}

}  // namespace tsa::audit
