// One tsad per test suite: started in SetUpTestSuite on a fresh test PKI, stopped (and its exit
// status checked) in TearDownTestSuite. Tests call Require() first so that a failed start shows
// up as a clear failure in every test instead of a crash.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/http_helpers.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"

namespace tsa::test {

class SharedTsad {
 public:
  void Start(const std::vector<std::string>& args, crypto::KeyType key = crypto::KeyType::kEcP256, bool allow_unsynced = true) {
    dir_ = std::make_unique<TempDir>("tsa-suite");
    auto pki = CreateTestPki(dir_->Sub("pki"), key);
    if (!pki) {
      error_ = "cannot create the test PKI: " + pki.error().ToString();
      return;
    }
    pki_ = *pki;
    TsadOptions options;
    options.cert_dir = pki_->dir;
    options.allow_unsynced_clock = allow_unsynced;
    options.extra_args = args;
    tsad_ = std::make_unique<TsadProcess>(options);
    auto started = tsad_->Start();
    if (!started) error_ = started.message();
  }

  // Stops with SIGTERM; a clean shutdown exits 0.
  void Stop() {
    if (!tsad_) return;
    if (tsad_->running()) {
      const int status = tsad_->Stop();
      EXPECT_EQ(status, 0) << "tsad did not exit 0 on SIGTERM. Log:\n" << tsad_->log();
    }
    tsad_.reset();
    pki_.reset();
    dir_.reset();
    error_.clear();
  }

  ::testing::AssertionResult Ready() {
    if (!error_.empty()) return ::testing::AssertionFailure() << "shared tsad did not start: " << error_;
    if (!tsad_) return ::testing::AssertionFailure() << "shared tsad not started";
    if (!tsad_->running()) return ::testing::AssertionFailure() << "shared tsad is no longer running. Log:\n" << tsad_->log();
    return ::testing::AssertionSuccess();
  }

  TsadProcess& tsad() { return *tsad_; }
  const TestPki& pki() const { return *pki_; }
  int port() const { return tsad_ ? tsad_->port() : 0; }
  TempDir& dir() { return *dir_; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::optional<TestPki> pki_;
  std::unique_ptr<TsadProcess> tsad_;
  std::string error_;
};

}  // namespace tsa::test
