#include "tsa/audit/checkpoint_publisher.h"
#include "tsa/core/thread_name.h"

namespace tsa::audit {

Result<std::unique_ptr<CheckpointPublisher>> CheckpointPublisher::Start(TokenLog& log, NoteSigner signer,
                                                                        core::ClockSource& clock,
                                                                        std::chrono::milliseconds period) {
  std::unique_ptr<CheckpointPublisher> p(
      new CheckpointPublisher(log, std::move(signer), clock, period));  // NOLINT: private constructor
  TSA_TRY(log.Read([&](store::LogStore& store) -> Status {
    TSA_ASSIGN_OR_RETURN(auto row, store.LatestSignedCheckpoint());
    if (row) p->latest_ = PublishedCheckpoint{static_cast<std::uint64_t>(row->tree_size), row->note};
    return Ok();
  }));
  TSA_TRY(p->PublishOnce());
  p->thread_ = std::jthread([raw = p.get()](std::stop_token st) {
    core::NameThisThread("tsad-checkpoint");
    raw->Run(st);
  });
  return p;
}

CheckpointPublisher::~CheckpointPublisher() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

Status CheckpointPublisher::PublishOnce() {
  std::lock_guard publishing(publish_mutex_);
  const LogHead head = log_.Head();
  if (auto latest = Latest(); latest && latest->tree_size >= head.size) return Ok();
  TSA_ASSIGN_OR_RETURN(std::string note, signer_.Sign(CheckpointBody(signer_.name(), head.size, head.root)));
  store::SignedCheckpointRow row{static_cast<std::int64_t>(head.size), store::Bytes(head.root.begin(), head.root.end()), note,
                                 clock_.Read().now};
  TSA_TRY(log_.Write([&](store::LogStore& store) { return store.InsertSignedCheckpoint(row); }));
  std::lock_guard lock(mutex_);
  latest_ = PublishedCheckpoint{head.size, std::move(note)};
  return Ok();
}

std::optional<PublishedCheckpoint> CheckpointPublisher::Latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::string CheckpointPublisher::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void CheckpointPublisher::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(wait_mutex_);
      wake_.wait_for(lock, stop, period_, [] { return false; });
    }
    if (stop.stop_requested()) break;
    std::string error;
    try {  // a background thread never dies of an exception: it reports and tries again
      const Status st = PublishOnce();
      if (!st) error = st.error().message;
    } catch (const std::exception& e) {
      error = std::string("exception: ") + e.what();
    } catch (...) {
      error = "unknown exception";
    }
    std::lock_guard lock(mutex_);
    last_error_ = error;
  }
  try {
    (void)PublishOnce();  // shutdown: the final head gets its note
  } catch (...) {
  }
}

}  // namespace tsa::audit
