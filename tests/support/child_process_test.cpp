#include "tests/support/child_process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace concord::test_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

ChildProcess Shell(const std::string& script, ChildOptions options = {}) {
  options.argv = {"sh", "-c", script};
  return ChildProcess(std::move(options));
}

TEST(ChildProcessTest, ReadsLinesAndExitCode) {
  ChildProcess child = Shell("echo first; printf 'second\\nthird'; exit 3");
  EXPECT_EQ(child.ReadLine(seconds(5)), "first");
  EXPECT_EQ(child.ReadLine(seconds(5)), "second");
  EXPECT_EQ(child.TryReadLine(seconds(5)), "third");  // last line without '\n'
  EXPECT_EQ(child.TryReadLine(seconds(5)), std::nullopt);
  EXPECT_EQ(child.Wait(), 3);
  EXPECT_EQ(child.Wait(), 3);
  EXPECT_FALSE(child.Running());
}

TEST(ChildProcessTest, ReadLineTimesOutWithStderrInTheMessage) {
  ChildProcess child = Shell("echo 'starting up' >&2; sleep 30");
  // Wait for the stderr line first, so a slow machine cannot make the test flaky.
  for (int i = 0; i < 500 && child.Stderr().empty(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  try {
    (void)child.ReadLine(milliseconds(200));
    FAIL() << "expected a timeout";
  } catch (const ChildProcessError& e) {
    EXPECT_NE(std::string(e.what()).find("starting up"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(child.Running());
}

TEST(ChildProcessTest, ReadLineThrowsWhenStdoutClosesFirst) {
  ChildProcess child = Shell("exit 0");
  EXPECT_THROW((void)child.ReadLine(seconds(5)), ChildProcessError);
}

TEST(ChildProcessTest, PassesEnvironmentAndWorkingDirectory) {
  TempDir dir;
  ::setenv("CONCORD_TEST_SUPPORT_GONE", "x", 1);
  ChildProcess child = Shell("echo \"$FOO|${CONCORD_TEST_SUPPORT_GONE:-unset}\"; pwd",
                             ChildOptions{.env = {{"FOO", "bar baz"}},
                                          .unset_env = {"CONCORD_TEST_SUPPORT_GONE"},
                                          .cwd = dir.Path()});
  EXPECT_EQ(child.ReadLine(seconds(5)), "bar baz|unset");
  EXPECT_EQ(child.ReadLine(seconds(5)), dir.Path());
  EXPECT_EQ(child.Wait(), 0);
  ::unsetenv("CONCORD_TEST_SUPPORT_GONE");
}

TEST(ChildProcessTest, CapturesStderrInAFile) {
  TempDir dir;
  ChildProcess child =
      Shell("echo oops >&2; echo done", ChildOptions{.stderr_path = dir.File("err.log")});
  EXPECT_EQ(child.ReadLine(seconds(5)), "done");
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_EQ(child.Stderr(), "oops\n");
  EXPECT_EQ(ReadFile(dir.File("err.log")), "oops\n");
}

TEST(ChildProcessTest, ReadToEndCollectsAllOutput) {
  ChildProcess child = Shell("echo a; seq 1 20000 >/dev/null; echo b; echo c");
  EXPECT_EQ(child.ReadLine(seconds(5)), "a");
  EXPECT_EQ(child.ReadToEnd(seconds(10)), "b\nc\n");
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ChildProcessTest, TerminateAndKillReportTheSignal) {
  ChildProcess terminated = Shell("echo up; exec sleep 30");
  ASSERT_EQ(terminated.ReadLine(seconds(5)), "up");
  terminated.Terminate();
  EXPECT_EQ(terminated.Wait(), 128 + SIGTERM);

  ChildProcess killed = Shell("echo up; exec sleep 30");
  ASSERT_EQ(killed.ReadLine(seconds(5)), "up");
  killed.Kill();
  EXPECT_EQ(killed.Wait(), 128 + SIGKILL);
}

TEST(ChildProcessTest, SignalReachesTheChild) {
  ChildProcess child = Shell("trap 'echo hup' HUP; echo up; while :; do sleep 0.05; done");
  ASSERT_EQ(child.ReadLine(seconds(5)), "up");
  child.Signal(SIGHUP);
  EXPECT_EQ(child.ReadLine(seconds(5)), "hup");
  EXPECT_TRUE(child.Running());
  child.Signal(SIGUSR1);  // not trapped: its default action ends the child
  EXPECT_EQ(child.Wait(), 128 + SIGUSR1);
  child.Signal(SIGHUP);  // reaped: nothing to signal
}

TEST(ChildProcessTest, StopEscalatesToKill) {
  ChildProcess child = Shell("trap '' TERM; echo up; while :; do sleep 0.05; done");
  ASSERT_EQ(child.ReadLine(seconds(5)), "up");
  EXPECT_EQ(child.WaitFor(milliseconds(50)), std::nullopt);
  EXPECT_EQ(child.Stop(milliseconds(200)), 128 + SIGKILL);
}

TEST(ChildProcessTest, DestructorKillsAndReaps) {
  pid_t pid = -1;
  {
    ChildProcess child = Shell("echo up; exec sleep 30");
    ASSERT_EQ(child.ReadLine(seconds(5)), "up");
    pid = child.Pid();
  }
  // Reaped: the pid no longer names our child.
  EXPECT_NE(::waitpid(pid, nullptr, WNOHANG), 0);
}

TEST(ChildProcessTest, MissingProgramThrows) {
  EXPECT_THROW(ChildProcess(ChildOptions{.argv = {"/nonexistent/concord-nope"}}),
               ChildProcessError);
  TempDir dir;
  EXPECT_THROW(ChildProcess(ChildOptions{.argv = {"true"}, .cwd = dir.File("missing")}),
               ChildProcessError);
}

TEST(ChildProcessTest, MovesOwnership) {
  ChildProcess a = Shell("echo hi; exit 7");
  ChildProcess b = std::move(a);
  EXPECT_EQ(b.ReadLine(seconds(5)), "hi");
  EXPECT_EQ(b.Wait(), 7);
}

}  // namespace
}  // namespace concord::test_support
