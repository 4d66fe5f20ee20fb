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

// What the subcommands read from the command line.
struct ClientArgs {
  std::string name;
  std::vector<std::string> policies;
  std::string rate;
  std::vector<std::string> cert_subjects;
  std::vector<std::string> cert_spkis;
};

struct Subcommands {
  CLI::App* add = nullptr;
  CLI::App* add_key = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* enable = nullptr;
  CLI::App* disable = nullptr;
  CLI::App* list = nullptr;
};

Subcommands Declare(CLI::App& app, ClientArgs& a) {
  Subcommands s;
  s.add = app.add_subcommand("add", "Create a client and print its first API key (shown only once)");
  s.add->add_option("name", a.name, "Client name (letters, digits, - _ . @)")->required();
  s.add->add_option("--policy", a.policies, "A policy OID this client may request (repeat; default: any)");
  s.add->add_option("--rate", a.rate, "Its own rate limit, RATE[/s|/min][:BURST]");
  s.add->add_option("--cert-subject", a.cert_subjects,
                    "Subject (RFC 2253, as `openssl x509 -subject -nameopt RFC2253` prints it) of a client certificate "
                    "that authenticates it over mutual TLS (repeat)");
  s.add->add_option("--cert-spki-sha256", a.cert_spkis,
                    "Lower-case hex SHA-256 of a client certificate's SubjectPublicKeyInfo (mutual TLS; repeat)");
  s.add_key = app.add_subcommand("add-key", "Give a client another API key (printed once)");
  s.add_key->add_option("name", a.name)->required();
  s.remove = app.add_subcommand("remove", "Remove a client and all its keys");
  s.remove->add_option("name", a.name)->required();
  s.enable = app.add_subcommand("enable", "Enable a client");
  s.enable->add_option("name", a.name)->required();
  s.disable = app.add_subcommand("disable", "Disable a client (its keys are refused with 401)");
  s.disable->add_option("name", a.name)->required();
  s.list = app.add_subcommand("list", "List the clients (never the keys)");
  return s;
}

void PrintList(const std::vector<Client>& clients) {
  for (const auto& c : clients) {
    std::cout << c.name << (c.enabled ? "" : " (disabled)") << " keys=" << c.keys.size()
              << " policies=" << (c.policies.empty() ? "any" : std::to_string(c.policies.size()))
              << " rate=" << (c.rate.empty() ? "default" : c.rate) << "\n";
  }
}

// add (a new client) or add-key (an existing one): returns the new API key, to be printed once
// the file is saved.
tsa::Result<std::string> AddKey(std::vector<Client>& clients, const ClientArgs& a, bool new_client) {
  Client* existing = Find(clients, a.name);
  if (new_client && existing != nullptr)
    return tsa::MakeError(tsa::ErrorKind::kInvalidArgument, "client " + a.name + " exists (use add-key)");
  if (!new_client && existing == nullptr) return tsa::MakeError(tsa::ErrorKind::kNotFound, "no client " + a.name);
  TSA_ASSIGN_OR_RETURN(auto key, tsa::service::MakeApiKey());
  if (new_client) {
    Client c;
    c.name = a.name;
    c.policies = a.policies;
    c.rate = a.rate;
    c.cert_subjects = a.cert_subjects;
    c.cert_spki_sha256 = a.cert_spkis;
    clients.push_back(c);
    existing = &clients.back();
  }
  existing->keys.push_back(key.stored);
  return key.key;
}

int Run(int argc, char** argv) {
  CLI::App app{"Manage tsad's clients file (API keys, policies, rates). Send tsad SIGHUP afterwards."};
  tsa::tool::Describe(app, kTool);
  std::string file = "clients.json";
  app.add_option("--file,-f", file, "The clients file (tsad --clients)")->envname("TSA_CLIENTS_FILE")->capture_default_str();
  app.require_subcommand(1);
  ClientArgs args;
  const Subcommands cmd = Declare(app, args);
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv)) return *code;

  auto clients = LoadOrEmpty(file);
  if (!clients) return Fail(tsa::tool::kExitUnreadable, clients.error().message);
  if (cmd.list->parsed()) {
    PrintList(*clients);
    return tsa::tool::kExitOk;
  }
  std::string printed_key;
  if (cmd.add->parsed() || cmd.add_key->parsed()) {
    auto key = AddKey(*clients, args, cmd.add->parsed());
    if (!key) return Fail(tsa::tool::kExitFailed, key.error().message);
    printed_key = *key;
  } else {
    Client* existing = Find(*clients, args.name);
    if (existing == nullptr) return Fail(tsa::tool::kExitFailed, "no client " + args.name);
    if (cmd.remove->parsed()) clients->erase(clients->begin() + (existing - clients->data()));
    if (cmd.enable->parsed()) existing->enabled = true;
    if (cmd.disable->parsed()) existing->enabled = false;
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
