// tsa-clients: manages tsad's clients file (--clients). `add NAME` creates a client with a new API
// key and prints the key once (only its argon2id hash is stored); `add-key NAME` gives an existing
// client another key; `remove NAME`, `enable NAME`, `disable NAME`, `list`. The file is rewritten
// atomically (temporary file + rename) with mode 0600; send tsad SIGHUP to apply it.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "common/tool_cli.h"
#include "tsa/service/clients.h"

namespace {

using tsa::service::Client;
constexpr const char* kTool = "tsa-clients";

int Fail(int code, const std::string& message) { return tsa::tool::Fail(kTool, code, message); }

tsa::Result<std::vector<Client>> LoadOrEmpty(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::vector<Client>{};
  auto text = tsa::core::ReadFileText(path);
  if (!text) return tsa::MakeError(tsa::ErrorKind::kIo, "cannot read " + path + ": " + text.error().message);
  auto clients = tsa::service::ParseClients(*text);
  if (!clients) return tsa::MakeError(tsa::ErrorKind::kInvalidArgument, path + ": " + clients.error().message);
  return clients;
}

tsa::Status Save(const std::string& path, const std::vector<Client>& clients) {
  const std::string text = tsa::service::SerializeClients(clients);
  const std::string tmp = path + ".tmp";
  const mode_t old_mask = ::umask(077);  // the hashes are not secrets, but nobody else needs them
  auto st = tsa::core::WriteFileBytes(tmp, std::vector<std::uint8_t>(text.begin(), text.end()));
  ::umask(old_mask);
  if (!st) return st;
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return tsa::MakeError(tsa::ErrorKind::kIo, "cannot replace " + path + ": " + ec.message());
  return tsa::Ok();
}

Client* Find(std::vector<Client>& clients, const std::string& name) {
  const auto it = std::find_if(clients.begin(), clients.end(), [&](const Client& c) { return c.name == name; });
  return it == clients.end() ? nullptr : &*it;
}

int Run(int argc, char** argv) {
  CLI::App app{"Manage tsad's clients file (API keys, policies, rates). Send tsad SIGHUP afterwards."};
  tsa::tool::Describe(app, kTool);
  std::string file = "clients.json";
  app.add_option("--file,-f", file, "The clients file (tsad --clients)")->envname("TSA_CLIENTS_FILE")->capture_default_str();
  app.require_subcommand(1);
  std::string name;
  std::vector<std::string> policies;
  std::string rate;
  std::vector<std::string> cert_subjects;
  std::vector<std::string> cert_spkis;
  auto* add = app.add_subcommand("add", "Create a client and print its first API key (shown only once)");
  add->add_option("name", name, "Client name (letters, digits, - _ . @)")->required();
  add->add_option("--policy", policies, "A policy OID this client may request (repeat; default: any)");
  add->add_option("--rate", rate, "Its own rate limit, RATE[/s|/min][:BURST]");
  add->add_option("--cert-subject", cert_subjects,
                  "Subject (RFC 2253, as `openssl x509 -subject -nameopt RFC2253` prints it) of a client certificate "
                  "that authenticates it over mutual TLS (repeat)");
  add->add_option("--cert-spki-sha256", cert_spkis,
                  "Lower-case hex SHA-256 of a client certificate's SubjectPublicKeyInfo (mutual TLS; repeat)");
  auto* add_key = app.add_subcommand("add-key", "Give a client another API key (printed once)");
  add_key->add_option("name", name)->required();
  auto* remove = app.add_subcommand("remove", "Remove a client and all its keys");
  remove->add_option("name", name)->required();
  auto* enable = app.add_subcommand("enable", "Enable a client");
  enable->add_option("name", name)->required();
  auto* disable = app.add_subcommand("disable", "Disable a client (its keys are refused with 401)");
  disable->add_option("name", name)->required();
  auto* list = app.add_subcommand("list", "List the clients (never the keys)");
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv)) return *code;

  auto clients = LoadOrEmpty(file);
  if (!clients) return Fail(tsa::tool::kExitUnreadable, clients.error().message);
  if (list->parsed()) {
    for (const auto& c : *clients) {
      std::cout << c.name << (c.enabled ? "" : " (disabled)") << " keys=" << c.keys.size()
                << " policies=" << (c.policies.empty() ? "any" : std::to_string(c.policies.size()))
                << " rate=" << (c.rate.empty() ? "default" : c.rate) << "\n";
    }
    return tsa::tool::kExitOk;
  }
  Client* existing = Find(*clients, name);
  std::string printed_key;
  if (add->parsed() || add_key->parsed()) {
    if (add->parsed() && existing != nullptr) return Fail(tsa::tool::kExitFailed, "client " + name + " exists (use add-key)");
    if (add_key->parsed() && existing == nullptr) return Fail(tsa::tool::kExitFailed, "no client " + name);
    auto key = tsa::service::MakeApiKey();
    if (!key) return Fail(tsa::tool::kExitFailed, key.error().message);
    if (add->parsed()) {
      Client c;
      c.name = name;
      c.policies = policies;
      c.rate = rate;
      c.cert_subjects = cert_subjects;
      c.cert_spki_sha256 = cert_spkis;
      clients->push_back(c);
      existing = &clients->back();
    }
    existing->keys.push_back(key->stored);
    printed_key = key->key;
  } else {
    if (existing == nullptr) return Fail(tsa::tool::kExitFailed, "no client " + name);
    if (remove->parsed()) clients->erase(clients->begin() + (existing - clients->data()));
    if (enable->parsed()) existing->enabled = true;
    if (disable->parsed()) existing->enabled = false;
  }
  // The result must load in tsad: check it the way tsad will before replacing the file.
  const auto reparsed = tsa::service::ParseClients(tsa::service::SerializeClients(*clients));
  if (!reparsed) return Fail(tsa::tool::kExitUsage, reparsed.error().message);
  if (auto st = Save(file, *clients); !st) return Fail(tsa::tool::kExitFailed, st.error().message);
  if (!printed_key.empty()) std::cout << printed_key << "\n";
  return tsa::tool::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    return Fail(tsa::tool::kExitFailed, e.what());
  }
}
