// Tests for src/http/completion_inbox.cc: completions pushed from another thread run on the
// io_context's thread, in the order pushed, and a burst costs one handler, not one per completion.
#include "http/completion_inbox.h"

#include "tsa/core/wake_batch.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace tsa::http {
namespace {

namespace net = boost::asio;

TEST(CompletionInboxTest, ABurstRunsInOrderAsOneHandler) {
  net::io_context ioc(1);
  auto& inbox = net::use_service<CompletionInbox>(ioc);
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) inbox.Push([&ran, i] { ran.push_back(i); });
  // io_context::run returns how many handlers it ran: one Drain for the whole burst.
  EXPECT_EQ(ioc.run(), 1u);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
}

// The log writer completes a commit inside a core::WakeBatch: an I/O thread that runs between two
// of its completions is not woken again; one Drain is posted when the batch ends.
TEST(CompletionInboxTest, InsideAWakeBatchTheDrainIsPostedOnceAtItsEnd) {
  net::io_context ioc(1);
  auto& inbox = net::use_service<CompletionInbox>(ioc);
  std::vector<int> ran;
  {
    core::WakeBatch batch;
    inbox.Push([&ran] { ran.push_back(1); });
    EXPECT_EQ(ioc.poll(), 0u);  // nothing posted yet: the I/O thread would find nothing to do
    ioc.restart();
    inbox.Push([&ran] { ran.push_back(2); });
  }
  EXPECT_EQ(ioc.run(), 1u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(CompletionInboxTest, APushAfterADrainPostsAgain) {
  net::io_context ioc(1);
  auto& inbox = net::use_service<CompletionInbox>(ioc);
  int ran = 0;
  inbox.Push([&] { ++ran; });
  EXPECT_EQ(ioc.run(), 1u);
  ioc.restart();
  inbox.Push([&] { ++ran; });
  EXPECT_EQ(ioc.run(), 1u);
  EXPECT_EQ(ran, 2);
}

TEST(CompletionInboxTest, ACompletionPushedWhileDrainingRunsInTheNextDrain) {
  net::io_context ioc(1);
  auto& inbox = net::use_service<CompletionInbox>(ioc);
  std::vector<int> ran;
  inbox.Push([&] {
    ran.push_back(1);
    inbox.Push([&] { ran.push_back(2); });
  });
  EXPECT_EQ(ioc.run(), 2u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(CompletionInboxTest, CompletionsFromAnotherThreadRunOnTheContextsThread) {
  net::io_context ioc(1);
  auto& inbox = net::use_service<CompletionInbox>(ioc);
  auto work = net::make_work_guard(ioc);
  std::thread::id runner;
  std::vector<std::thread::id> seen;
  std::thread io([&] {
    runner = std::this_thread::get_id();
    ioc.run();
  });
  constexpr int kCompletions = 1000;
  std::thread writer([&] {
    for (int i = 0; i < kCompletions; ++i) inbox.Push([&] { seen.push_back(std::this_thread::get_id()); });
    inbox.Push([&] { work.reset(); });
  });
  writer.join();
  io.join();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kCompletions));
  for (const auto& id : seen) EXPECT_EQ(id, runner);
}

TEST(CompletionInboxTest, PendingCompletionsAreDroppedWithTheContext) {
  auto owned = std::make_shared<int>(0);
  {
    net::io_context ioc(1);
    net::use_service<CompletionInbox>(ioc).Push([owned] { *owned = 1; });
  }
  EXPECT_EQ(owned.use_count(), 1);  // destroyed, never run
  EXPECT_EQ(*owned, 0);
}

}  // namespace
}  // namespace tsa::http
