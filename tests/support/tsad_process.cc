#include "support/tsad_process.h"

#include "support/http_helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace tsa::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    return "";
  }
  return std::string(buf.data());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool HasArg(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
}

int ReadPortFile(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  if (in >> port) return port;
  return 0;
}

}  // namespace

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Everything the child needs is prepared before fork: only async-signal-safe calls run in it.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path,
            const std::optional<std::vector<std::string>>& env) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  if (env) {
    for (const auto& e : *env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
  }
  const int out_fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int err_fd = stderr_path == stdout_path ? out_fd
                                                : ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    ADD_FAILURE() << "cannot open log files " << stdout_path << ", " << stderr_path;
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    // Unblock everything the test process may have blocked (tsad blocks its own signals).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (env) {
      ::execve(cargv[0], cargv.data(), cenv.data());
    } else {
      ::execv(cargv[0], cargv.data());
    }
    static const char kMsg[] = "exec of tsad failed\n";
    (void)!::write(2, kMsg, sizeof(kMsg) - 1);
    ::_exit(127);
  }
  ::close(out_fd);
  if (err_fd != out_fd) ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  return pid;
}

int WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return DecodeStatus(status);
    if (r < 0 && errno != EINTR) return kNotAChild;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TempDir::TempDir(const std::string& prefix) : path_(MakeTempDir(prefix)) {}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TsadProcess::BinaryPath() { return std::string(TSA_BIN_DIR) + "/tsad"; }

TsadProcess::TsadProcess(TsadOptions options) : options_(std::move(options)) {
  work_dir_ = MakeTempDir("tsad-it");
  port_file_ = work_dir_ + "/port";
  tls_port_file_ = work_dir_ + "/tls-port";
  log_path_ = work_dir_ + "/tsad.log";
  db_path_ = options_.db_path.empty() ? work_dir_ + "/tsa.db" : options_.db_path;
  for (std::size_t i = 0; i + 1 < options_.extra_args.size(); ++i) {
    if (options_.extra_args[i] == "--db") db_path_ = options_.extra_args[i + 1];
  }
}

TsadProcess::~TsadProcess() {
  if (pid_ > 0) Kill();
  std::error_code ec;
  if (!work_dir_.empty()) fs::remove_all(work_dir_, ec);
}

::testing::AssertionResult TsadProcess::Start() {
  if (pid_ > 0) return ::testing::AssertionFailure() << "tsad already running (pid " << pid_ << ")";
  if (work_dir_.empty()) return ::testing::AssertionFailure() << "no work directory";
  std::error_code ec;
  fs::remove(port_file_, ec);
  fs::remove(tls_port_file_, ec);
  port_ = 0;
  tls_port_ = 0;
  exit_status_ = -1;

  std::vector<std::string> argv = {BinaryPath(), "--host", "127.0.0.1", "--port", "0", "--port-file", port_file_};
  if (!HasArg(options_.extra_args, "--db")) {
    argv.push_back("--db");
    argv.push_back(db_path_);
  }
  if (!options_.cert_dir.empty() && !HasArg(options_.extra_args, "--cert-dir")) {
    argv.push_back("--cert-dir");
    argv.push_back(options_.cert_dir);
  }
  if (options_.allow_unsynced_clock) argv.push_back("--allow-unsynced-clock");
  if (options_.hermetic) argv.push_back("--no-anchor");
  // HTTPS: an ephemeral port announced in a second port file (written before the HTTP one).
  const bool tls = HasArg(options_.extra_args, "--tls-cert");
  const bool http = !HasArg(options_.extra_args, "--no-http");
  if (tls && !HasArg(options_.extra_args, "--tls-port")) {
    for (const char* a : {"--tls-port", "0"}) argv.emplace_back(a);
  }
  if (tls) {
    argv.emplace_back("--tls-port-file");
    argv.push_back(tls_port_file_);
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());

  {
    std::ofstream log(log_path_, std::ios::app);
    log << "=== test harness: starting";
    for (const auto& a : argv) log << " " << a;
    log << "\n";
  }
  pid_ = Spawn(argv, log_path_, log_path_);
  if (pid_ <= 0) return ::testing::AssertionFailure() << "could not spawn " << argv[0];

  const auto deadline = Clock::now() + options_.ready_timeout;
  while (Clock::now() < deadline) {
    if (fs::exists(http ? port_file_ : tls_port_file_)) {
      if (tls) tls_port_ = ReadPortFile(tls_port_file_);
      port_ = http ? ReadPortFile(port_file_) : 0;
      if (port_ > 0 || (!http && tls_port_ > 0)) {
        if (!options_.probe_http || !http) return ::testing::AssertionSuccess();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        const HttpResponse probe = HttpRequest(port_, "GET", "/health", {}, {}, std::max(left, std::chrono::milliseconds(1)));
        if (probe.status > 0) return ::testing::AssertionSuccess();
        Kill();
        return ::testing::AssertionFailure()
               << "tsad wrote its port file (" << port_ << ") but did not answer GET /health: " << probe.error << ". Log:\n"
               << log();
      }
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = DecodeStatus(status);
      pid_ = -1;
      return ::testing::AssertionFailure() << "tsad exited with status " << exit_status_ << " before listening. Log:\n" << log();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  return ::testing::AssertionFailure() << "tsad did not write its port file within " << options_.ready_timeout.count()
                                       << " ms. Log:\n"
                                       << log();
}

bool TsadProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = DecodeStatus(status);
    pid_ = -1;
    return false;
  }
  return true;
}

std::string TsadProcess::url() const { return base_url() + "/tsa"; }
std::string TsadProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
std::string TsadProcess::https_base_url() const { return "https://127.0.0.1:" + std::to_string(tls_port_); }
std::string TsadProcess::log() const { return ReadAll(log_path_); }

int TsadProcess::Reap(std::chrono::milliseconds timeout) {
  const int status = WaitChild(pid_, timeout);
  if (status == -1) return -1;  // still running
  pid_ = -1;
  if (status == kNotAChild) return -1;
  exit_status_ = status;
  return exit_status_;
}

int TsadProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  const int status = Reap(timeout);
  if (status != -1) return status;
  ADD_FAILURE() << "tsad did not stop within " << timeout.count() << " ms of SIGTERM; killing it. Log:\n" << log();
  return Kill();
}

int TsadProcess::Kill() {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGKILL);
  return Reap(std::chrono::milliseconds(10000));
}

TsadProcess::StartupFailure TsadProcess::RunExpectingFailure(const std::vector<std::string>& args,
                                                             std::chrono::milliseconds timeout) {
  StartupFailure result;
  TempDir dir("tsad-fail");
  if (dir.path().empty()) return result;
  const std::string port_file = dir.Sub("port");
  const std::string out_path = dir.Sub("stdout.txt");
  const std::string err_path = dir.Sub("stderr.txt");
  std::vector<std::string> argv = {BinaryPath(), "--host", "127.0.0.1", "--port-file", port_file};
  if (!HasArg(args, "--port")) {
    argv.push_back("--port");
    argv.push_back("0");
  }
  if (!HasArg(args, "--db")) {
    argv.push_back("--db");
    argv.push_back(dir.Sub("tsa.db"));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = Spawn(argv, out_path, err_path);
  if (pid <= 0) return result;

  const auto deadline = Clock::now() + timeout;
  bool done = false;
  while (!done) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = DecodeStatus(status);
      done = true;
    } else if (fs::exists(port_file)) {
      result.started = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      done = true;
    } else if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      done = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  result.stderr_text = ReadAll(err_path);
  result.stdout_text = ReadAll(out_path);
  return result;
}

long ProcStatusNumber(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    try {
      return std::stol(line.substr(field.size() + 1));
    } catch (...) {
      return -1;
    }
  }
  return -1;
}

int OpenFdCount(pid_t pid) {
  std::error_code ec;
  fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  int count = 0;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++count;
  }
  return count;
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  TempDir dir("tsa-cmd");
  const std::string out_path = dir.Sub("out.txt");
  // execv needs a path: resolve bare names through PATH.
  std::vector<std::string> resolved = argv;
  if (!resolved.empty() && resolved[0].find('/') == std::string::npos) {
    const char* path_env = std::getenv("PATH");
    std::stringstream ss(path_env ? path_env : "/usr/bin:/bin");
    std::string p;
    while (std::getline(ss, p, ':')) {
      const std::string candidate = p + "/" + resolved[0];
      if (::access(candidate.c_str(), X_OK) == 0) {
        resolved[0] = candidate;
        break;
      }
    }
  }
  const pid_t pid = Spawn(resolved, out_path, out_path);
  if (pid <= 0) return result;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result.exit_code = DecodeStatus(status);
      break;
    }
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.output = ReadAll(out_path);
  return result;
}

std::vector<std::string> NonEmptyLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace tsa::test
