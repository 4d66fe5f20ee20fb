// The clients file and API keys: argon2id hashes only, the key id lookup, Bearer and Basic,
// disabled clients, the verified-key cache and the file's validation.
#include "tsa/service/clients.h"

#include <gtest/gtest.h>

namespace tsa::service {
namespace {

std::string Basic(const std::string& credentials) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < credentials.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint8_t>(credentials[i]) << 16;
    if (i + 1 < credentials.size()) n |= static_cast<std::uint8_t>(credentials[i + 1]) << 8;
    if (i + 2 < credentials.size()) n |= static_cast<std::uint8_t>(credentials[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < credentials.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < credentials.size() ? alphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

class ClientKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = MakeApiKey();
    ASSERT_TRUE(key);
    key_ = key->key;
    Client alice{"alice", true, {key->stored}, {}, {}, {}, "", std::nullopt};
    auto other = MakeApiKey();
    ASSERT_TRUE(other);
    other_key_ = other->key;
    Client carol{"carol", false, {other->stored}, {"CN=carol"}, {}, {}, "", std::nullopt};
    set_ = ClientSet::FromClients({alice, carol});
  }
  std::string key_, other_key_;
  std::shared_ptr<ClientSet> set_;
};

TEST_F(ClientKeys, TheFileHoldsOnlyTheArgon2idHash) {
  const auto text = SerializeClients({Client{"alice", true, {ClientKey{"00", "$argon2id$x"}}, {}, {}, {}, "", std::nullopt}});
  EXPECT_EQ(text.find(key_), std::string::npos);
  EXPECT_EQ(key_.rfind("tsak_", 0), 0u);
}

TEST_F(ClientKeys, BearerAndBasicWithOrWithoutTheName) {
  EXPECT_EQ(set_->Authenticate("Bearer " + key_).client->name, "alice");
  EXPECT_EQ(set_->Authenticate("bearer " + key_).client->name, "alice");  // RFC 9110 §11.1: case-insensitive scheme
  EXPECT_EQ(set_->Authenticate(Basic("alice:" + key_)).client->name, "alice");
  EXPECT_EQ(set_->Authenticate(Basic(":" + key_)).client->name, "alice");
  // Again: now from the verified-digest cache.
  EXPECT_EQ(set_->Authenticate("Bearer " + key_).client->name, "alice");
}

TEST_F(ClientKeys, Refusals) {
  std::string wrong = key_;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(set_->Authenticate("Bearer " + key_).client->name, "alice");  // cache the right one first
  EXPECT_EQ(set_->Authenticate("Bearer " + wrong).failure, "wrong key");
  EXPECT_EQ(set_->Authenticate(Basic("carol:" + key_)).failure, "the key belongs to another client");
  EXPECT_EQ(set_->Authenticate("Bearer " + other_key_).failure, "client disabled");
  EXPECT_EQ(set_->Authenticate("").failure, "no credentials");
  EXPECT_EQ(set_->Authenticate("Bearer x").failure, "not a tsad API key");
  EXPECT_EQ(set_->Authenticate("Basic !!!").failure, "malformed Basic credentials");
  EXPECT_EQ(set_->AuthenticateCertificate("CN=carol", "").failure, "client disabled");
}

TEST(ClientsFile, Validation) {
  EXPECT_FALSE(ParseClients("[]"));
  EXPECT_FALSE(ParseClients("{\"clients\": [{\"name\": \"a b\"}]}"));
  EXPECT_FALSE(ParseClients("{\"clients\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}"));
  EXPECT_FALSE(ParseClients("{\"clients\": [{\"name\": \"a\", \"keys\": [{\"id\": \"1\", \"hash\": \"plain\"}]}]}"));
  EXPECT_FALSE(ParseClients("{\"clients\": [{\"name\": \"a\", \"rate\": \"fast\"}]}"));
  auto ok = ParseClients("{\"clients\": [{\"name\": \"a\", \"rate\": \"5/s:10\", \"policies\": [\"1.2.3\"]}]}");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_DOUBLE_EQ(ok->at(0).rate_spec->burst, 10);
  EXPECT_TRUE(ok->at(0).enabled);
}

TEST(ConstantTimeEqual, Basics) {
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
}

}  // namespace
}  // namespace tsa::service
