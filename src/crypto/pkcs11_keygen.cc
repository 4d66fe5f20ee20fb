#include "tsa/crypto/pkcs11_keygen.h"

#include <dlfcn.h>
#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>

#include <algorithm>
#include <vector>

#include "tsa/crypto/pkcs11_key.h"

namespace tsa::crypto {
namespace {

Error CkError(const std::string& what, CK_RV rv) {
  char code[32];
  std::snprintf(code, sizeof(code), "0x%08lx", static_cast<unsigned long>(rv));
  if (rv == CKR_PIN_INCORRECT) return Error{ErrorKind::kInvalidArgument, what + ": wrong PIN"};
  if (rv == CKR_PIN_LOCKED) return Error{ErrorKind::kInvalidArgument, what + ": the PIN is locked"};
  return Error{ErrorKind::kCrypto, what + " failed (CKR " + std::string(code) + ")"};
}

// The module, initialised, and a logged-in read-write session on one token; all undone in reverse
// order by the destructor.
class TokenSession {
 public:
  ~TokenSession() {
    if (session_ != CK_INVALID_HANDLE) {
      fn_->C_Logout(session_);
      fn_->C_CloseSession(session_);
    }
    if (initialised_) fn_->C_Finalize(nullptr);
    if (handle_ != nullptr) ::dlclose(handle_);
  }

  Status Open(const std::string& module_path, const std::string& token_label, std::string pin) {
    handle_ = ::dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) return Error{ErrorKind::kNotFound, "cannot load the PKCS#11 module " + module_path};
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle_, "C_GetFunctionList"));
    if (get_list == nullptr || get_list(&fn_) != CKR_OK) {
      return Error{ErrorKind::kInvalidArgument, module_path + " is not a PKCS#11 module"};
    }
    if (CK_RV rv = fn_->C_Initialize(nullptr); rv != CKR_OK) return CkError("C_Initialize", rv);
    initialised_ = true;
    TSA_ASSIGN_OR_RETURN(CK_SLOT_ID slot, FindToken(token_label));
    if (CK_RV rv = fn_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session_); rv != CKR_OK) {
      return CkError("opening a session on token " + token_label, rv);
    }
    CK_RV rv = fn_->C_Login(session_, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
    std::fill(pin.begin(), pin.end(), '\0');
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return CkError("login to token " + token_label, rv);
    return Ok();
  }

  CK_FUNCTION_LIST* fn() const { return fn_; }
  CK_SESSION_HANDLE session() const { return session_; }

 private:
  Result<CK_SLOT_ID> FindToken(const std::string& label) {
    CK_ULONG count = 0;
    if (CK_RV rv = fn_->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK) return CkError("C_GetSlotList", rv);
    std::vector<CK_SLOT_ID> slots(count);
    if (CK_RV rv = fn_->C_GetSlotList(CK_TRUE, slots.data(), &count); rv != CKR_OK) return CkError("C_GetSlotList", rv);
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (fn_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      // Token labels are 32 bytes padded with blanks (PKCS#11 §3.2 CK_TOKEN_INFO).
      std::string have(reinterpret_cast<const char*>(info.label), sizeof(info.label));
      have.erase(have.find_last_not_of(' ') + 1);
      if (have == label) return slots[i];
    }
    return Error{ErrorKind::kNotFound, "no initialised token labelled '" + label + "' (softhsm2-util --show-slots)"};
  }

  void* handle_ = nullptr;
  CK_FUNCTION_LIST* fn_ = nullptr;
  bool initialised_ = false;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

Result<bool> PrivateKeyExists(const TokenSession& t, const std::string& label) {
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_ATTRIBUTE query[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  if (CK_RV rv = t.fn()->C_FindObjectsInit(t.session(), query, 2); rv != CKR_OK) return CkError("C_FindObjectsInit", rv);
  CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
  CK_ULONG n = 0;
  const CK_RV rv = t.fn()->C_FindObjects(t.session(), &found, 1, &n);
  t.fn()->C_FindObjectsFinal(t.session());
  if (rv != CKR_OK) return CkError("C_FindObjects", rv);
  return n > 0;
}

}  // namespace

Status GeneratePkcs11KeyPair(const std::string& uri, const std::string& module_path, KeyType type) {
  const auto token = Pkcs11UriAttribute(uri, "token");
  auto label = Pkcs11UriAttribute(uri, "object");
  if (!token || !label || label->empty()) {
    return Error{ErrorKind::kInvalidArgument, "the URI must name the token and the object: pkcs11:token=T;object=LABEL"};
  }
  std::string id = Pkcs11UriAttribute(uri, "id").value_or("");
  if (id.empty()) {
    id.resize(16);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(id.data()), static_cast<int>(id.size())) != 1)
      return Error{ErrorKind::kCrypto, "no randomness for the key id"};
  }
  TSA_ASSIGN_OR_RETURN(std::string pin, ResolvePkcs11Pin(uri));
  TokenSession t;
  TSA_TRY(t.Open(module_path, *token, std::move(pin)));
  TSA_ASSIGN_OR_RETURN(bool exists, PrivateKeyExists(t, *label));
  if (exists) return Error{ErrorKind::kInvalidArgument, "token " + *token + " already holds a private key labelled " + *label};

  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ULONG bits = type == KeyType::kRsa2048 ? 2048 : 3072;
  CK_BYTE exponent[] = {0x01, 0x00, 0x01};
  // DER OIDs of the named curves (RFC 5480 §2.1.1.1) for CKA_EC_PARAMS.
  static const CK_BYTE kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  static const CK_BYTE kP384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
  std::vector<CK_ATTRIBUTE> pub = {{CKA_TOKEN, &yes, sizeof(yes)},
                                   {CKA_VERIFY, &yes, sizeof(yes)},
                                   {CKA_LABEL, label->data(), label->size()},
                                   {CKA_ID, id.data(), id.size()}};
  std::vector<CK_ATTRIBUTE> priv = {{CKA_TOKEN, &yes, sizeof(yes)},     {CKA_PRIVATE, &yes, sizeof(yes)},
                                    {CKA_SENSITIVE, &yes, sizeof(yes)}, {CKA_EXTRACTABLE, &no, sizeof(no)},
                                    {CKA_SIGN, &yes, sizeof(yes)},      {CKA_LABEL, label->data(), label->size()},
                                    {CKA_ID, id.data(), id.size()}};
  CK_MECHANISM mech{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  switch (type) {
    case KeyType::kRsa2048:
    case KeyType::kRsa3072:
      pub.push_back({CKA_MODULUS_BITS, &bits, sizeof(bits)});
      pub.push_back({CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent)});
      break;
    case KeyType::kEcP256:
    case KeyType::kEcP384:
      mech.mechanism = CKM_EC_KEY_PAIR_GEN;
      pub.push_back({CKA_EC_PARAMS, const_cast<CK_BYTE*>(type == KeyType::kEcP256 ? kP256 : kP384),
                     type == KeyType::kEcP256 ? sizeof(kP256) : sizeof(kP384)});
      break;
    default: return Error{ErrorKind::kInvalidArgument, "tokens can hold rsa2048, rsa3072, ec-p256 or ec-p384 TSA keys"};
  }
  CK_OBJECT_HANDLE pub_handle = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv_handle = CK_INVALID_HANDLE;
  if (CK_RV rv = t.fn()->C_GenerateKeyPair(t.session(), &mech, pub.data(), pub.size(), priv.data(), priv.size(), &pub_handle,
                                           &priv_handle);
      rv != CKR_OK) {
    return CkError("generating the key pair in token " + *token, rv);
  }
  return Ok();
}

}  // namespace tsa::crypto
