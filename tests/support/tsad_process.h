// A real tsad process for integration tests: fork/exec of TSA_BIN_DIR "/tsad" on 127.0.0.1 with
// --port 0 and --port-file (and, given --tls-cert, --tls-port 0 and --tls-port-file) in a fresh temporary directory; stdout and
// stderr go to a log file there. Start() waits on the port file (the readiness probe: tsad writes it once it listens), never on a
// fixed sleep.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tsa::test {

struct TsadOptions {
  std::string cert_dir;              // --cert-dir (required unless extra_args names --cert-dir/--cert)
  std::string db_path;               // --db; empty: <work dir>/tsa.db
  bool allow_unsynced_clock = true;  // --allow-unsynced-clock (this test machine has no NTP)
  bool hermetic = true;              // --no-anchor: never contact the external anchoring TSAs
  // After the port file, also wait for one HTTP answer (GET /health, any status): the accept loop
  // is then really running. Off only for tests of the moment right after the port file appears.
  bool probe_http = true;
  std::vector<std::string> extra_args;  // appended last; --db/--cert-dir here replace the defaults
  std::chrono::milliseconds ready_timeout{20000};
};

class TsadProcess {
 public:
  explicit TsadProcess(TsadOptions options);
  ~TsadProcess();  // SIGKILLs a process still running and removes the work directory
  TsadProcess(const TsadProcess&) = delete;
  TsadProcess& operator=(const TsadProcess&) = delete;

  // Starts tsad and waits until it listens (port file written, then one HTTP answer unless
  // probe_http is off). On failure (exit, timeout), the message carries the exit status and the
  // whole log.
  ::testing::AssertionResult Start();

  bool running();
  pid_t pid() const { return pid_; }
  int port() const { return port_; }          // 0 under --no-http
  int tls_port() const { return tls_port_; }  // with --tls-cert in extra_args (--tls-port 0 unless given)
  std::string url() const;                    // "http://127.0.0.1:PORT/tsa"
  std::string base_url() const;               // "http://127.0.0.1:PORT"
  std::string https_base_url() const;         // "https://127.0.0.1:TLS_PORT"
  const std::string& work_dir() const { return work_dir_; }
  const std::string& db_path() const { return db_path_; }
  std::string log() const;  // stdout + stderr so far

  // SIGTERM, then waits up to `timeout` (SIGKILL after that). Returns the exit code, 128+signal if
  // killed by a signal, -1 if it was not running.
  int Stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  // SIGKILL and reap. Returns as Stop().
  int Kill();

  struct StartupFailure {
    int exit_code = -1;    // exit code; 128+signal; -1 if it had to be killed (it kept running)
    bool started = false;  // it wrote its port file (it did NOT refuse to start)
    std::string stderr_text;
    std::string stdout_text;
  };
  // Runs tsad with `args` (plus --host 127.0.0.1 --port-file, --port 0 unless args give --port and,
  // unless given, --db in a temporary directory) for a configuration that must make it refuse to start. If it starts
  // anyway (port file appears) it is killed and `started` is set.
  static StartupFailure RunExpectingFailure(const std::vector<std::string>& args,
                                            std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));

  // The path of the tsad binary under test.
  static std::string BinaryPath();

 private:
  int Reap(std::chrono::milliseconds timeout);  // waits for the child; -1 on timeout

  TsadOptions options_;
  std::string work_dir_;
  std::string db_path_;
  std::string port_file_;
  std::string tls_port_file_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int tls_port_ = 0;
  int exit_status_ = -1;
};

// A fresh directory under the system temp dir (mkdtemp), removed with its content by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tsa-it");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// fork + exec of argv[0] with stdout/stderr appended to the given files (may be the same), stdin
// /dev/null and every signal unblocked. `env`: the child's whole environment (nullopt: inherit).
// Returns the pid, or -1 after recording a test failure.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path,
            const std::optional<std::vector<std::string>>& env = std::nullopt);
// Decoded waitpid status: the exit code, or 128+signal.
int DecodeStatus(int status);
// Waits for the child: its decoded status, -1 if still running at the deadline, kNotAChild if it
// cannot be waited for (already reaped).
inline constexpr int kNotAChild = -2;
int WaitChild(pid_t pid, std::chrono::milliseconds timeout);

// A numeric field of /proc/<pid>/status ("VmRSS" in kB, "Threads"); -1 when absent or unreadable.
long ProcStatusNumber(pid_t pid, const std::string& field);
// How many file descriptors the process has open (entries of /proc/<pid>/fd); -1 when unreadable.
int OpenFdCount(pid_t pid);

// The non-empty lines of a process's output, in order.
std::vector<std::string> NonEmptyLines(const std::string& text);

// Spawns argv[0] with args, captures stdout+stderr, waits up to timeout. Returns the exit code
// (128+signal; -1 on timeout, then the child is killed) and the output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

}  // namespace tsa::test
