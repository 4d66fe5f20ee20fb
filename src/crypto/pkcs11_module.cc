// RSA_METHOD and EC_KEY_METHOD are deprecated in OpenSSL 3, but a key whose private half lives
// in a token is exactly what they are for; libp11 itself (Debian 12's 0.4.12) uses them too.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "tsa/crypto/pkcs11_module.h"

#include <libp11.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto::pkcs11 {
namespace {

constexpr auto kReopenInterval = std::chrono::seconds(1);

class Module;

// One key tsad holds (the proxy's ex_data). `real` is the libp11 key of the module's current
// session, null while the token is away; it changes only under the module's exclusive lock.
struct Binding {
  Module* module = nullptr;
  KeySpec spec;
  std::vector<std::uint8_t> public_der;  // i2d_PUBKEY of the key first loaded
  EVP_PKEY* real = nullptr;
};

std::vector<std::uint8_t> PublicDer(EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return {};
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_PUBKEY(key, &p);
  return der;
}

// One line from libp11's error queue after a failed login. A wrong or locked PIN is
// kInvalidArgument: it is never retried by itself (each try counts towards the token's lockout).
Error LoginFailure(const KeySpec& spec) {
  const std::string errors = DrainOpensslErrors();
  if (errors.find("PIN incorrect") != std::string::npos) {
    return MakeError(ErrorKind::kInvalidArgument, "wrong PIN for the PKCS#11 key " + spec.display);
  }
  if (errors.find("PIN locked") != std::string::npos) {
    return MakeError(ErrorKind::kInvalidArgument, "the PIN of the token of " + spec.display + " is locked");
  }
  return MakeError(ErrorKind::kCrypto, "PKCS#11 login failed for " + spec.display + ": " + errors);
}

bool TokenMatches(const PKCS11_TOKEN& t, const KeySpec& s) {
  auto same = [](const char* have, const std::string& want) { return want.empty() || (have != nullptr && want == have); };
  return t.initialized && same(t.label, s.token_label) && same(t.serialnr, s.token_serial) && same(t.model, s.token_model) &&
         same(t.manufacturer, s.token_manufacturer);
}

bool KeyMatches(const PKCS11_KEY& k, const KeySpec& s) {
  if (!s.object_label.empty() && (k.label == nullptr || s.object_label != k.label)) return false;
  if (!s.object_id.empty() && (k.id_len != s.object_id.size() || std::memcmp(k.id, s.object_id.data(), k.id_len) != 0)) {
    return false;
  }
  return true;
}

class Module {
 public:
  explicit Module(std::string path) : path_(std::move(path)) {}

  Status Open();  // C_Initialize (PKCS11_CTX_load) and the slot list; caller holds use_ exclusively
  Result<EVP_PKEY*> Load(const KeySpec& spec);
  void Unregister(Binding* b);

  // Runs `op` on the binding's current key. After a failure, re-opens the module (unless another
  // thread just did, or it was done less than a second ago) and runs `op` once more.
  template <typename Op>
  auto WithKey(Binding& b, Op op, decltype(op(nullptr)) failed) -> decltype(op(nullptr));

 private:
  void Close();
  void Reopen();
  bool ReopenDue() const { return std::chrono::steady_clock::now() - last_reopen_ >= kReopenInterval; }
  Result<EVP_PKEY*> Find(const KeySpec& spec);  // a libp11 key of the current session (owned)

  const std::string path_;
  std::shared_mutex use_;                                // shared: private-key operations; exclusive: loads, re-opening
  PKCS11_CTX* ctx_ = nullptr;                            // guarded by use_
  PKCS11_SLOT* slots_ = nullptr;                         // guarded by use_
  unsigned int slot_count_ = 0;                          // guarded by use_
  std::vector<Binding*> bindings_;                       // guarded by use_
  std::uint64_t generation_ = 0;                         // guarded by use_: re-opens so far
  std::chrono::steady_clock::time_point last_reopen_{};  // guarded by use_
};

// ---- the proxy keys ------------------------------------------------------------------------

int RsaIndex() {
  static const int index = RSA_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
int EcIndex() {
  static const int index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void NoKey(const Binding& b) {
  ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "the PKCS#11 key %s is not available", b.spec.display.c_str());
}

int ProxyRsaPrivEnc(int flen, const unsigned char* from, unsigned char* to, RSA* rsa, int padding) {
  auto* b = static_cast<Binding*>(RSA_get_ex_data(rsa, RsaIndex()));
  if (b == nullptr) return -1;
  return b->module->WithKey(
      *b,
      [&](EVP_PKEY* real) {
        return RSA_private_encrypt(flen, from, to, const_cast<RSA*>(EVP_PKEY_get0_RSA(real)), padding);  // NOLINT
      },
      -1);
}

int ProxyRsaPrivDec(int, const unsigned char*, unsigned char*, RSA*, int) { return -1; }  // signing only

int ProxyRsaFinish(RSA* rsa) {
  if (auto* b = static_cast<Binding*>(RSA_get_ex_data(rsa, RsaIndex())); b != nullptr) b->module->Unregister(b);
  return 1;
}

const RSA_METHOD* ProxyRsaMethod() {
  static RSA_METHOD* method = [] {
    RSA_METHOD* m = RSA_meth_dup(RSA_PKCS1_OpenSSL());
    RSA_meth_set1_name(m, "tsad PKCS#11 proxy");
    RSA_meth_set_priv_enc(m, ProxyRsaPrivEnc);
    RSA_meth_set_priv_dec(m, ProxyRsaPrivDec);
    RSA_meth_set_finish(m, ProxyRsaFinish);
    return m;
  }();
  return method;
}

EC_KEY* RealEc(EVP_PKEY* real) { return const_cast<EC_KEY*>(EVP_PKEY_get0_EC_KEY(real)); }  // NOLINT

int ProxyEcSign(int type, const unsigned char* dgst, int dlen, unsigned char* sig, unsigned int* siglen, const BIGNUM* kinv,
                const BIGNUM* r, EC_KEY* eckey) {
  auto* b = static_cast<Binding*>(EC_KEY_get_ex_data(eckey, EcIndex()));
  if (b == nullptr) return 0;
  return b->module->WithKey(
      *b, [&](EVP_PKEY* real) { return ECDSA_sign_ex(type, dgst, dlen, sig, siglen, kinv, r, RealEc(real)); }, 0);
}

int ProxyEcSignSetup(EC_KEY*, BN_CTX*, BIGNUM** kinvp, BIGNUM** rp) {
  *kinvp = nullptr;  // the token chooses k
  *rp = nullptr;
  return 1;
}

ECDSA_SIG* ProxyEcSignSig(const unsigned char* dgst, int dlen, const BIGNUM* kinv, const BIGNUM* r, EC_KEY* eckey) {
  auto* b = static_cast<Binding*>(EC_KEY_get_ex_data(eckey, EcIndex()));
  if (b == nullptr) return nullptr;
  return b->module->WithKey(
      *b, [&](EVP_PKEY* real) { return ECDSA_do_sign_ex(dgst, dlen, kinv, r, RealEc(real)); }, static_cast<ECDSA_SIG*>(nullptr));
}

using EcFinish = void (*)(EC_KEY*);
EcFinish& DefaultEcFinish() {
  static EcFinish finish = nullptr;
  return finish;
}

void ProxyEcFinish(EC_KEY* eckey) {
  if (auto* b = static_cast<Binding*>(EC_KEY_get_ex_data(eckey, EcIndex())); b != nullptr) b->module->Unregister(b);
  if (DefaultEcFinish() != nullptr) DefaultEcFinish()(eckey);
}

const EC_KEY_METHOD* ProxyEcMethod() {
  static EC_KEY_METHOD* method = [] {
    EC_KEY_METHOD* m = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
    int (*init)(EC_KEY*) = nullptr;
    void (*finish)(EC_KEY*) = nullptr;
    int (*copy)(EC_KEY*, const EC_KEY*) = nullptr;
    int (*set_group)(EC_KEY*, const EC_GROUP*) = nullptr;
    int (*set_private)(EC_KEY*, const BIGNUM*) = nullptr;
    int (*set_public)(EC_KEY*, const EC_POINT*) = nullptr;
    EC_KEY_METHOD_get_init(EC_KEY_OpenSSL(), &init, &finish, &copy, &set_group, &set_private, &set_public);
    DefaultEcFinish() = finish;
    EC_KEY_METHOD_set_init(m, init, ProxyEcFinish, copy, set_group, set_private, set_public);
    EC_KEY_METHOD_set_sign(m, ProxyEcSign, ProxyEcSignSetup, ProxyEcSignSig);
    return m;
  }();
  return method;
}

// A key with the public half of `real` whose private operations go through `b`. The binding is
// attached last: a proxy freed on an error path must not unregister anything.
Result<EVP_PKEY*> MakeProxy(EVP_PKEY* real, Binding* b) {
  UniquePtr<EVP_PKEY> proxy(EVP_PKEY_new());
  if (EVP_PKEY_get_base_id(real) == EVP_PKEY_RSA) {
    const RSA* from = EVP_PKEY_get0_RSA(real);
    const BIGNUM *n = nullptr, *e = nullptr;
    RSA_get0_key(from, &n, &e, nullptr);
    RSA* rsa = RSA_new();
    if (rsa == nullptr || n == nullptr || e == nullptr || RSA_set0_key(rsa, BN_dup(n), BN_dup(e), nullptr) != 1 ||
        RSA_set_method(rsa, ProxyRsaMethod()) != 1 || EVP_PKEY_assign_RSA(proxy.get(), rsa) != 1) {
      RSA_free(rsa);
      return MakeError(ErrorKind::kCrypto, "cannot wrap the PKCS#11 RSA key: " + DrainOpensslErrors());
    }
    RSA_set_ex_data(rsa, RsaIndex(), b);
    return proxy.release();
  }
  if (EVP_PKEY_get_base_id(real) == EVP_PKEY_EC) {
    const EC_KEY* from = EVP_PKEY_get0_EC_KEY(real);
    EC_KEY* ec = EC_KEY_new();
    if (ec == nullptr || EC_KEY_set_method(ec, ProxyEcMethod()) != 1 || EC_KEY_set_group(ec, EC_KEY_get0_group(from)) != 1 ||
        EC_KEY_set_public_key(ec, EC_KEY_get0_public_key(from)) != 1 || EVP_PKEY_assign_EC_KEY(proxy.get(), ec) != 1) {
      EC_KEY_free(ec);
      return MakeError(ErrorKind::kCrypto, "cannot wrap the PKCS#11 EC key: " + DrainOpensslErrors());
    }
    EC_KEY_set_ex_data(ec, EcIndex(), b);
    return proxy.release();
  }
  return MakeError(ErrorKind::kInvalidArgument, "the PKCS#11 key " + b->spec.display + " is neither RSA nor EC");
}

// ---- the module ------------------------------------------------------------------------------

// The last error only: a module may leave unrelated errors of its own start-up in the queue
// (SoftHSM2 probes OpenSSL engines it does not need).
std::string LastError() {
  char buf[256] = "no error reported";
  if (const unsigned long code = ERR_peek_last_error(); code != 0) ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

Status Module::Open() {
  ERR_clear_error();
  ctx_ = PKCS11_CTX_new();
  if (ctx_ == nullptr || PKCS11_CTX_load(ctx_, path_.c_str()) != 0) {
    const std::string why = LastError();
    if (ctx_ != nullptr) PKCS11_CTX_free(ctx_);
    ctx_ = nullptr;
    return MakeError(ErrorKind::kCrypto, "cannot load the PKCS#11 module " + path_ + ": " + why);
  }
  if (PKCS11_enumerate_slots(ctx_, &slots_, &slot_count_) != 0) {
    const std::string why = LastError();
    Close();
    return MakeError(ErrorKind::kCrypto, "cannot list the slots of the PKCS#11 module " + path_ + ": " + why);
  }
  return Ok();
}

// Frees every libp11 key first: none may outlive C_Finalize.
void Module::Close() {
  for (Binding* b : bindings_) {
    EVP_PKEY_free(b->real);
    b->real = nullptr;
  }
  if (slots_ != nullptr) PKCS11_release_all_slots(ctx_, slots_, slot_count_);
  slots_ = nullptr;
  slot_count_ = 0;
  if (ctx_ != nullptr) {
    PKCS11_CTX_unload(ctx_);  // C_Finalize
    PKCS11_CTX_free(ctx_);
  }
  ctx_ = nullptr;
  ERR_clear_error();
}

void Module::Reopen() {
  last_reopen_ = std::chrono::steady_clock::now();
  ++generation_;
  Close();
  if (!Open()) return;  // the module itself failed: the next re-open tries again
  for (Binding* b : bindings_) {
    auto key = Find(b->spec);
    if (!key) continue;  // still away
    if (PublicDer(*key) == b->public_der) {
      b->real = *key;
    } else {
      EVP_PKEY_free(*key);  // another key under the same name: never sign with it in this one's place
    }
  }
  ERR_clear_error();
}

Result<EVP_PKEY*> Module::Find(const KeySpec& spec) {
  if (ctx_ == nullptr) TSA_TRY(Open());
  bool token_seen = false;
  for (unsigned int i = 0; i < slot_count_; ++i) {
    PKCS11_SLOT* slot = slots_ + i;
    if (slot->token == nullptr || !TokenMatches(*slot->token, spec)) continue;
    token_seen = true;
    int logged_in = 0;
    if (slot->token->loginRequired && (PKCS11_is_logged_in(slot, 0, &logged_in) != 0 || logged_in == 0) &&
        PKCS11_login(slot, 0, spec.pin.empty() ? nullptr : spec.pin.c_str()) != 0) {
      return LoginFailure(spec);
    }
    PKCS11_KEY* keys = nullptr;
    unsigned int key_count = 0;
    if (PKCS11_enumerate_keys(slot->token, &keys, &key_count) != 0) continue;
    for (unsigned int k = key_count; k-- > 0;) {  // the last match, as libp11's engine chose
      if (!keys[k].isPrivate || !KeyMatches(keys[k], spec)) continue;
      if (EVP_PKEY* key = PKCS11_get_private_key(keys + k); key != nullptr) return key;
    }
  }
  ERR_clear_error();
  return MakeError(ErrorKind::kNotFound, "no private key at " + spec.display + " in module " + path_ +
                                             (token_seen ? " (object not found" : " (token not found") +
                                             ": check token= and object=/id= with pkcs11-tool --list-objects)");
}

Result<EVP_PKEY*> Module::Load(const KeySpec& spec) {
  std::unique_lock lock(use_);
  auto real = Find(spec);
  if (!real && real.error().kind != ErrorKind::kInvalidArgument && ReopenDue()) {
    Reopen();  // a token created or re-created since the module was opened is seen only now
    real = Find(spec);
  }
  if (!real) return real.error();
  auto binding = std::make_unique<Binding>(Binding{this, spec, PublicDer(*real), *real});
  auto proxy = MakeProxy(*real, binding.get());
  if (!proxy) {
    EVP_PKEY_free(*real);
    return proxy.error();
  }
  bindings_.push_back(binding.release());
  return *proxy;
}

void Module::Unregister(Binding* b) {
  std::unique_lock lock(use_);
  EVP_PKEY_free(b->real);
  std::erase(bindings_, b);
  delete b;  // NOLINT(cppcoreguidelines-owning-memory): owned by the proxy key, freed with it
}

template <typename Op>
auto Module::WithKey(Binding& b, Op op, decltype(op(nullptr)) failed) -> decltype(op(nullptr)) {
  std::uint64_t seen = 0;
  {
    std::shared_lock lock(use_);
    seen = generation_;
    if (b.real != nullptr) {
      ERR_set_mark();
      auto result = op(b.real);
      if (result != failed) {
        ERR_pop_to_mark();
        return result;
      }
      ERR_clear_last_mark();
    }
  }
  {
    std::unique_lock lock(use_);
    if (generation_ == seen) {
      if (!ReopenDue()) {
        if (b.real == nullptr) NoKey(b);
        return failed;
      }
      Reopen();
    }
  }
  std::shared_lock lock(use_);
  if (b.real == nullptr) {
    NoKey(b);
    return failed;
  }
  ERR_clear_error();  // the failure before the re-open
  return op(b.real);
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<Module>> modules;  // guarded by mutex
};

Registry& Modules() {
  static auto* registry = new Registry();  // NOLINT: never destroyed, keys may outlive static destructors
  return *registry;
}

}  // namespace

Result<evp_pkey_st*> LoadKey(const std::string& module_path, const KeySpec& spec) {
  Module* module = nullptr;
  {
    auto& registry = Modules();
    std::lock_guard lock(registry.mutex);
    auto& slot = registry.modules[module_path];
    if (!slot) slot = std::make_unique<Module>(module_path);
    module = slot.get();
  }
  return module->Load(spec);
}

}  // namespace tsa::crypto::pkcs11
