// C2SP signed notes and checkpoints against the reference vector of Go's
// golang.org/x/mod/sumdb/note (note_test.go, doc.go): Ed25519 is deterministic (RFC 8032), so
// tsad's signer must reproduce Go's note byte for byte, and the verifier must open it.
#include "tsa/verify/note_verifier.h"

#include <gtest/gtest.h>

#include <string>

#include "tsa/audit/signed_note.h"
#include "tsa/core/bytes.h"

namespace tsa::verify {
namespace {

constexpr char kVkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kSeedTyped[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";  // of PRIVATE+KEY+PeterNeumann+c74f20a3+...
constexpr char kText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kSigLine[] =
    "\xE2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

crypto::Ed25519Key PeterKey() {
  auto typed = *core::Base64Decode(kSeedTyped);
  return *crypto::Ed25519Key::FromSeed(std::vector<std::uint8_t>(typed.begin() + 1, typed.end()));
}

TEST(SignedNoteTest, SignerReproducesGoReferenceNote) {
  auto signer = audit::NoteSigner::Make("PeterNeumann", PeterKey());
  ASSERT_TRUE(signer);
  EXPECT_EQ(signer->VerifierKey(), kVkey);
  auto note = signer->Sign(kText);
  ASSERT_TRUE(note);
  EXPECT_EQ(*note, std::string(kText) + "\n" + kSigLine);
}

TEST(NoteVerifierTest, OpensGoReferenceNote) {
  auto key = ParseVerifierKey(kVkey);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->key_id, 0xc74f20a3u);
  auto body = OpenNote(std::string(kText) + "\n" + kSigLine, *key);
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, kText);
}

TEST(NoteVerifierTest, RejectsTamperedTextAndForeignKeys) {
  auto key = *ParseVerifierKey(kVkey);
  std::string note = std::string(kText) + "\n" + kSigLine;
  std::string tampered = note;
  tampered[3] = 'X';
  EXPECT_FALSE(OpenNote(tampered, key));
  auto other = *ParseVerifierKey("EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop");
  EXPECT_FALSE(OpenNote(note, other));
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+c74f20a3"));
}

TEST(NoteVerifierTest, CheckpointBodyRoundTrips) {
  audit::Hash root{};
  root[0] = 0xab;
  const std::string body = audit::CheckpointBody("tsa.example/log", 42, root);
  auto cp = ParseCheckpointBody(body);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->origin, "tsa.example/log");
  EXPECT_EQ(cp->tree_size, 42u);
  EXPECT_EQ(cp->root, root);
  EXPECT_FALSE(ParseCheckpointBody("tsa.example/log\n042\n" + body.substr(body.rfind('\n', body.size() - 2) + 1)));
  EXPECT_FALSE(ParseCheckpointBody("tsa.example/log\n42\n"));
}

}  // namespace
}  // namespace tsa::verify
