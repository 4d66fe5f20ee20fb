// tsad names its threads (core/thread_name.h) so that top -H, ps -L and perf tell them apart,
// while the main thread keeps the process name that `pidof tsad` finds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "shared_tsad.h"

namespace tsa::test {
namespace {

std::set<std::string> ThreadNames(pid_t pid) {
  std::set<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    if (std::getline(in, name)) names.insert(name);
  }
  return names;
}

TEST(ThreadNames, TheBackgroundThreadsAreNamedAndTheMainThreadKeepsTheProcessName) {
  SharedTsad env;
  env.Start({"--io-threads", "2"});
  ASSERT_TRUE(env.Ready());
  const auto names = ThreadNames(env.tsad().pid());
  for (const char* expected : {"tsad", "tsad-io-1", "tsad-log-writer", "tsad-wal-ckpt", "tsad-signals"}) {
    EXPECT_EQ(names.count(expected), 1u) << expected << " missing; threads: " << ::testing::PrintToString(names);
  }
  std::ifstream comm("/proc/" + std::to_string(env.tsad().pid()) + "/comm");
  std::string process_name;
  std::getline(comm, process_name);
  EXPECT_EQ(process_name, "tsad");
  env.Stop();
}

}  // namespace
}  // namespace tsa::test
