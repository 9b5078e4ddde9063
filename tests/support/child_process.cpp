#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

extern char** environ;

namespace concord::test_support {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(int err) { return std::strerror(err); }

// The program's path: as given if it contains '/', else the first executable match in PATH.
std::string ResolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;  // execve fails with ENOENT, reported to the caller
}

std::vector<std::string> ChildEnvironment(const ChildOptions& options) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const std::string& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

std::string TempStderrPath() {
  const char* tmp = std::getenv("TMPDIR");
  std::string path =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/concord-child-XXXXXX.stderr";
  const int fd = ::mkstemps(path.data(), static_cast<int>(std::strlen(".stderr")));
  if (fd < 0) throw ChildProcessError("mkstemps " + path + ": " + ErrnoText(errno));
  ::close(fd);
  return path;
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(ChildOptions options) {
  if (options.argv.empty()) throw ChildProcessError("ChildProcess: argv is empty");
  program_ = ResolveProgram(options.argv.front());
  if (options.stderr_path.empty()) {
    stderr_path_ = TempStderrPath();
    owns_stderr_file_ = std::getenv("CONCORD_KEEP_TMP") == nullptr;
  } else {
    stderr_path_ = options.stderr_path;
  }

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& arg : options.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = ChildEnvironment(options);
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int exec_pipe[2] = {-1, -1};  // the child writes errno here if it cannot exec
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    CloseFd(out_pipe[0]), CloseFd(out_pipe[1]), CloseFd(exec_pipe[0]), CloseFd(exec_pipe[1]);
    throw ChildProcessError("pipe2: " + ErrnoText(err));
  }
  int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (err_fd < 0 || null_fd < 0) {
    const int err = errno;
    CloseFd(out_pipe[0]), CloseFd(out_pipe[1]), CloseFd(exec_pipe[0]), CloseFd(exec_pipe[1]);
    CloseFd(err_fd), CloseFd(null_fd);
    throw ChildProcessError("open " + stderr_path_ + " or /dev/null: " + ErrnoText(err));
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int err = 0;
    if (::dup2(null_fd, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_fd, 2) < 0) {
      err = errno;
    } else if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      err = errno;
    } else {
      ::execve(program_.c_str(), argv.data(), envp.data());
      err = errno;
    }
    [[maybe_unused]] const ssize_t n = ::write(exec_pipe[1], &err, sizeof err);
    ::_exit(127);
  }
  const int fork_errno = errno;
  CloseFd(out_pipe[1]);
  CloseFd(exec_pipe[1]);
  CloseFd(err_fd);
  CloseFd(null_fd);
  if (pid < 0) {
    CloseFd(out_pipe[0]);
    CloseFd(exec_pipe[0]);
    throw ChildProcessError("fork: " + ErrnoText(fork_errno));
  }
  pid_ = pid;
  stdout_fd_ = out_pipe[0];

  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  CloseFd(exec_pipe[0]);
  if (n == sizeof child_errno) {
    Wait();
    const std::string message = "cannot start " + program_ +
                                (options.cwd.empty() ? "" : " in " + options.cwd) + ": " +
                                ErrnoText(child_errno);
    Release();
    throw ChildProcessError(message);
  }
}

ChildProcess::~ChildProcess() { Release(); }

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this == &other) return *this;
  Release();
  program_ = std::move(other.program_);
  pid_ = std::exchange(other.pid_, -1);
  stdout_fd_ = std::exchange(other.stdout_fd_, -1);
  stdout_eof_ = other.stdout_eof_;
  buffer_ = std::move(other.buffer_);
  exit_code_ = std::exchange(other.exit_code_, std::nullopt);
  stderr_path_ = std::move(other.stderr_path_);
  owns_stderr_file_ = std::exchange(other.owns_stderr_file_, false);
  return *this;
}

void ChildProcess::Release() noexcept {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = DecodeStatus(status);
  }
  pid_ = -1;
  CloseFd(stdout_fd_);
  if (owns_stderr_file_) ::unlink(stderr_path_.c_str());
  owns_stderr_file_ = false;
}

bool ChildProcess::Fill(Clock::time_point deadline) {
  if (stdout_eof_) return true;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() < 0) return false;
  pollfd pfd{stdout_fd_, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
  if (ready < 0) return errno == EINTR;
  if (ready == 0) return false;
  char chunk[4096];
  const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
  if (n > 0) {
    buffer_.append(chunk, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    stdout_eof_ = true;
  }
  return true;
}

std::optional<std::string> ChildProcess::TryReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const std::size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (stdout_eof_ || stdout_fd_ < 0) {
      if (buffer_.empty()) return std::nullopt;
      return std::exchange(buffer_, {});
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

std::string ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  auto line = TryReadLine(timeout);
  if (!line) {
    throw ChildProcessError(Describe(stdout_eof_ ? "stdout closed before a line arrived"
                                                 : "no line on stdout within " +
                                                       std::to_string(timeout.count()) + " ms"));
  }
  return *line;
}

std::string ChildProcess::ReadToEnd(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!stdout_eof_ && stdout_fd_ >= 0) {
    if (!Fill(deadline)) {
      throw ChildProcessError(
          Describe("stdout still open after " + std::to_string(timeout.count()) + " ms"));
    }
  }
  return std::exchange(buffer_, {});
}

int ChildProcess::Wait() {
  if (exit_code_) return *exit_code_;
  if (pid_ <= 0) return -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  exit_code_ = DecodeStatus(status);
  return *exit_code_;
}

std::optional<int> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (!Running()) return exit_code_;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool ChildProcess::Running() {
  if (exit_code_ || pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeStatus(status);
    return false;
  }
  return r == 0;
}

void ChildProcess::Signal(int signal) {
  if (Running()) ::kill(pid_, signal);
}

void ChildProcess::Terminate() { Signal(SIGTERM); }

void ChildProcess::Kill() { Signal(SIGKILL); }

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  Terminate();
  if (const auto code = WaitFor(grace)) return *code;
  Kill();
  return Wait();
}

std::string ChildProcess::Stderr() const {
  std::ifstream in(stderr_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ChildProcess::Describe(const std::string& what) const {
  constexpr std::size_t kTail = 4000;
  std::string err = Stderr();
  if (err.size() > kTail) err = "..." + err.substr(err.size() - kTail);
  return program_ + " (pid " + std::to_string(pid_) + "): " + what + "; stderr:\n" + err;
}

ChildResult RunToExit(ChildOptions options, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(options));
  ChildResult result;
  result.out = child.ReadToEnd(timeout);
  result.code = child.Wait();
  result.err = child.Stderr();
  return result;
}

std::int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace concord::test_support
