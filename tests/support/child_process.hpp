#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// Running the project's binaries (concord, concord-fake) from tests. Standard library and POSIX
// only.
namespace concord::test_support {

// A child that did not behave: no line before the timeout, stdout closed early, exec failed.
// what() ends with the tail of the child's stderr, which is usually the explanation.
class ChildProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ChildOptions {
  // argv[0] is the program: a path (contains '/'), or a name looked up in PATH.
  std::vector<std::string> argv{};
  // Set in the child's environment, on top of (and overriding) the test's own environment.
  std::map<std::string, std::string> env{};
  // Removed from the child's environment (applied before `env`).
  std::vector<std::string> unset_env{};
  // Working directory of the child; empty: the test's.
  std::string cwd{};
  // Where the child's stderr goes (created or truncated). Empty: a temporary file that the
  // ChildProcess owns and removes (kept when CONCORD_KEEP_TMP is set in the environment).
  std::string stderr_path{};
};

// One child process, with stdin from /dev/null, stdout on a pipe that the test reads line by
// line, and stderr in a file (so a chatty child can never block on a full pipe).
//
// The child gets SIGKILL if the thread that started it dies (PR_SET_PDEATHSIG), so a crashed
// test leaves no servers behind: start children from the test's main thread. The destructor
// kills (SIGKILL) and reaps a child that is still running. Not thread-safe; move-only.
class ChildProcess {
 public:
  // Starts the child. Throws ChildProcessError if it cannot be started (program not found, not
  // executable, bad cwd); the message names the program and the errno text.
  explicit ChildProcess(ChildOptions options);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t Pid() const { return pid_; }

  // The next line of the child's stdout, without its '\n'. Throws ChildProcessError if no whole
  // line arrives within `timeout` or stdout is closed first (with the child's stderr tail).
  [[nodiscard]] std::string ReadLine(std::chrono::milliseconds timeout);

  // Like ReadLine, but nullopt on timeout or end of stdout (a last line without '\n' is
  // returned as a line).
  [[nodiscard]] std::optional<std::string> TryReadLine(std::chrono::milliseconds timeout);

  // Everything the child writes to stdout until it closes it (normally: until it exits),
  // including anything ReadLine had buffered. Throws ChildProcessError on timeout.
  [[nodiscard]] std::string ReadToEnd(std::chrono::milliseconds timeout);

  // Waits for the child to exit. Returns its exit code, or 128 + the signal number if a signal
  // ended it (the shell's convention). Returns the same value again on later calls.
  int Wait();

  // Waits at most `timeout`; nullopt if the child is still running.
  [[nodiscard]] std::optional<int> WaitFor(std::chrono::milliseconds timeout);

  // True until the child has exited (reaps it without blocking).
  [[nodiscard]] bool Running();

  // Sends `signal` (e.g. SIGHUP to make a daemon reload). No-op once the child has been reaped.
  void Signal(int signal);

  // Sends SIGTERM / SIGKILL. No-ops once the child has been reaped.
  void Terminate();
  void Kill();

  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code as Wait() does.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Everything the child has written to stderr so far.
  [[nodiscard]] std::string Stderr() const;
  [[nodiscard]] const std::string& StderrPath() const { return stderr_path_; }

 private:
  void Release() noexcept;
  // Reads what is available on stdout into buffer_ within `deadline`; false on timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline);
  [[nodiscard]] std::string Describe(const std::string& what) const;

  std::string program_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool stdout_eof_ = false;
  std::string buffer_;  // read from stdout, not yet returned
  std::optional<int> exit_code_;
  std::string stderr_path_;
  bool owns_stderr_file_ = false;
};

// What a child printed and how it ended.
struct ChildResult {
  int code = 0;     // as ChildProcess::Wait returns it
  std::string out;  // all of stdout
  std::string err;  // all of stderr
};

// Runs a child to its end: reads its stdout until it closes it (throws ChildProcessError after
// `timeout`), waits for it and collects its stderr.
[[nodiscard]] ChildResult RunToExit(ChildOptions options,
                                    std::chrono::milliseconds timeout = std::chrono::minutes(2));

// Milliseconds since the Unix epoch by the system clock, as the sources' timestamps count.
[[nodiscard]] std::int64_t UnixMillisNow();

}  // namespace concord::test_support
