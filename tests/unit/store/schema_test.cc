// Tests for src/store/schema.cc: Migrate and ClaimSerialEpoch (core/serial.h: every epoch is
// strictly greater than every epoch recorded before for the instance, even if the clock goes back).
#include "tsa/store/schema.h"

#include <gtest/gtest.h>

#include <string>

#include "../unit_test_helpers.h"
#include "tsa/store/database.h"

namespace tsa::store {
namespace {

std::unique_ptr<Database> OpenDb(const std::string& path) {
  auto db = Database::Open(path, OpenOptions{});
  EXPECT_TRUE(db) << (db ? "" : db.error().ToString());
  return db ? std::move(*db) : nullptr;
}

std::int64_t Count(Database& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  EXPECT_TRUE(st);
  auto row = st->Step();
  EXPECT_TRUE(row && *row);
  return st->ColumnInt(0);
}

TEST(MigrateTest, CreatesTheSchemaAndSetsTheVersion) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  EXPECT_EQ(*db->UserVersion(), kSchemaVersion);
  for (const char* table : {"meta", "serial_epochs", "tokens"}) {
    EXPECT_EQ(Count(*db, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='") + table + "'"), 1)
        << table;
  }
}

TEST(MigrateTest, IsIdempotent) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  ASSERT_TRUE(ClaimSerialEpoch(*db, 1, 100));
  ASSERT_TRUE(Migrate(*db));
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM serial_epochs"), 1);
}

TEST(MigrateTest, RefusesADatabaseFromANewerTsad) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->SetUserVersion(kSchemaVersion + 1));
  const Status st = Migrate(*db);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kStorage);
  EXPECT_NE(st.error().message.find("newer"), std::string::npos);
}

// A version-1 database as tsad wrote it before the version-2 indexes, with serials in both forms
// earlier tsads stored (the fixed 34-digit width and the minimal DER content).
std::unique_ptr<Database> VersionOneDatabase(const std::string& path) {
  auto db = OpenDb(path);
  if (!db) return nullptr;
  EXPECT_TRUE(Migrate(*db));
  EXPECT_TRUE(db->Exec("DROP INDEX tokens_serial_digits; DROP INDEX checkpoints_tsa_gen_time; DROP INDEX checkpoints_tree_size"));
  EXPECT_TRUE(db->SetUserVersion(1));
  EXPECT_TRUE(
      db->Exec("INSERT INTO tokens (idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash) VALUES "
               "(0, '000000000000000000000000000000abcd', 1, 'p', 'h', x'00', NULL, x'00', x'00'), "
               "(1, '00f1', 2, 'p', 'h', x'00', NULL, x'00', x'01')"));
  return db;
}

TEST(MigrateTest, UpgradesAVersionOneDatabaseWithoutRewritingItsRows) {
  unit_test::TempDir dir;
  auto db = VersionOneDatabase(dir.Sub("v1.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_EQ(Count(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'tokens_serial_digits'"), 0);
  ASSERT_TRUE(Migrate(*db));
  EXPECT_EQ(*db->UserVersion(), kSchemaVersion);
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tsa_certificates'"), 1);
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'log_checkpoints'"), 1);
  for (const char* index : {"tokens_serial_digits", "checkpoints_tsa_gen_time", "checkpoints_tree_size"}) {
    EXPECT_EQ(Count(*db, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '") + index + "'"), 1)
        << index;
  }
  // The append-only log keeps its rows as written; the index finds both forms by their digits.
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM tokens WHERE serial = '000000000000000000000000000000abcd'"), 1);
  EXPECT_EQ(Count(*db, "SELECT idx FROM tokens INDEXED BY tokens_serial_digits WHERE ltrim(lower(serial), '0') = 'abcd'"), 0);
  EXPECT_EQ(Count(*db, "SELECT idx FROM tokens INDEXED BY tokens_serial_digits WHERE ltrim(lower(serial), '0') = 'f1'"), 1);
}

TEST(CertificateEventTest, RecordsChangesInOrderAndSkipsARestartWithTheSameCertificate) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  ASSERT_TRUE(RecordCertificateEvent(*db, {1, "start", "aa", "CN=a", "pem-a"}));
  ASSERT_TRUE(RecordCertificateEvent(*db, {2, "start", "aa", "CN=a", "pem-a"}));  // a restart: no change
  ASSERT_TRUE(RecordCertificateEvent(*db, {3, "reload", "bb", "CN=b", "pem-b"}));
  auto events = CertificateEvents(*db);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].cert_sha256, "aa");
  EXPECT_EQ((*events)[1].event, "reload");
  EXPECT_EQ((*events)[1].cert_pem, "pem-b");
}

TEST(ClaimSerialEpochTest, UsesNowWhenItIsAheadOfEveryRecordedEpoch) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  EXPECT_EQ(*ClaimSerialEpoch(*db, 0, 1'000), 1'000U);
  EXPECT_EQ(*ClaimSerialEpoch(*db, 0, 5'000), 5'000U);
}

TEST(ClaimSerialEpochTest, StrictlyIncreasesEvenWhenNowGoesBackwards) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  std::uint64_t last = 0;
  for (std::int64_t now : {1'000'000, 999'000, 1'000'000, 0, 500, 2'000'000, 1}) {
    auto epoch = ClaimSerialEpoch(*db, 3, now);
    ASSERT_TRUE(epoch) << epoch.error().ToString();
    EXPECT_GT(*epoch, last) << "now=" << now;
    EXPECT_GE(static_cast<std::int64_t>(*epoch), now);
    last = *epoch;
  }
  EXPECT_EQ(last, 2'000'001U);
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM serial_epochs WHERE instance = 3"), 7);
}

TEST(ClaimSerialEpochTest, EpochsAreTrackedPerInstance) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  EXPECT_EQ(*ClaimSerialEpoch(*db, 1, 10'000), 10'000U);
  EXPECT_EQ(*ClaimSerialEpoch(*db, 2, 10'000), 10'000U) << "another instance has its own space";
  EXPECT_EQ(*ClaimSerialEpoch(*db, 1, 10'000), 10'001U);
}

TEST(ClaimSerialEpochTest, SurvivesReopeningTheDatabase) {
  unit_test::TempDir dir;
  {
    auto db = OpenDb(dir.Sub("tsa.db"));
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(Migrate(*db));
    ASSERT_EQ(*ClaimSerialEpoch(*db, 0, 50'000), 50'000U);
  }
  auto db = OpenDb(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(Migrate(*db));
  EXPECT_EQ(*ClaimSerialEpoch(*db, 0, 40'000), 50'001U) << "a restart with a clock behind still gets a fresh space";
}

}  // namespace
}  // namespace tsa::store
