// Scheduler timing (pure) and the scheduling round against fakes of the shared table and the
// run launcher, with an injected clock.

#include "daemon/scheduler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace concord::daemon {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kT0 = 1'700'000'000'000;

ScheduleTiming Timing() { return {.interval = 15min, .full_interval = 24h}; }

RunReport Report(std::string status, bool full = false) { return {1, std::move(status), full}; }

TEST(ScheduleTimingTest, JitterStaysWithinTenPercent) {
  EXPECT_EQ(Jittered(15 * kMinute, 0.1, 0.5), 15 * kMinute);
  EXPECT_EQ(Jittered(15 * kMinute, 0.1, 0.0), 15 * kMinute - 90'000);
  EXPECT_LE(Jittered(15 * kMinute, 0.1, 0.999999), 15 * kMinute + 90'000);
  EXPECT_GT(Jittered(15 * kMinute, 0.1, 0.999999), 15 * kMinute + 89'000);
}

TEST(ScheduleTimingTest, SuccessSchedulesTheNextIncremental) {
  auto next = AfterRun(Timing(), kT0, 2, Report("succeeded"), 0.5);
  EXPECT_EQ(next.next_run_ms, kT0 + 15 * kMinute);
  EXPECT_EQ(next.failures, 0);
  EXPECT_EQ(next.last_success_ms, kT0);
  EXPECT_FALSE(next.next_full_ms);  // an incremental run does not move the full one
}

TEST(ScheduleTimingTest, FullRunMovesTheNextFull) {
  auto next = AfterRun(Timing(), kT0, 0, Report("succeeded_with_warnings", true), 0.5);
  EXPECT_EQ(next.next_full_ms, kT0 + 24 * 60 * kMinute);
}

TEST(ScheduleTimingTest, FailuresBackOffLongerUpToTheCap) {
  std::int64_t previous = 15 * kMinute;
  int failures = 0;
  for (int i = 0; i < 12; ++i) {
    auto next = AfterRun(Timing(), kT0, failures, Report("failed"), 0.5);
    failures = next.failures;
    const auto delay = next.next_run_ms - kT0;
    EXPECT_GE(delay, previous);
    EXPECT_LE(delay, 6 * 60 * kMinute);
    EXPECT_FALSE(next.last_success_ms);
    previous = delay;
  }
  EXPECT_EQ(failures, 12);
  EXPECT_EQ(previous, 6 * 60 * kMinute);
  EXPECT_EQ(AfterRun(Timing(), kT0, 0, Report("failed"), 0.5).next_run_ms, kT0 + 30 * kMinute);
}

TEST(ScheduleTimingTest, HeldIsNotAFailure) {
  auto next = AfterRun(Timing(), kT0, 3, Report("held"), 0.5);
  EXPECT_EQ(next.failures, 0);
  EXPECT_EQ(next.next_run_ms, kT0 + 15 * kMinute);
  EXPECT_FALSE(next.last_success_ms);
}

TEST(ScheduleTimingTest, FirstRunsSpreadOverOneInterval) {
  EXPECT_EQ(FirstTimes(Timing(), kT0, 0.0).next_run_ms, kT0);
  EXPECT_EQ(FirstTimes(Timing(), kT0, 0.5).next_run_ms, kT0 + 7 * kMinute + 30'000);
  EXPECT_EQ(FirstTimes(Timing(), kT0, 0.5).next_full_ms, kT0 + 24 * 60 * kMinute);
}

class FakeClock final : public Clock {
 public:
  std::int64_t NowMs() override { return now; }
  std::int64_t now = kT0;
};

// The shared table as PostgreSQL keeps it, in memory; claims by owner.
class FakeScheduleStore final : public ScheduleStore {
 public:
  struct Row {
    NextTimes times;
    std::string claimed_by;
    std::int64_t claimed_until = 0;
    std::string last_status;
  };
  void Ensure(const std::string& tenant, const NextTimes& first) override {
    rows.try_emplace(tenant, Row{first, "", 0, ""});
  }
  std::vector<ScheduleClaimed> ClaimDue(const std::vector<std::string>& tenants,
                                        const std::string& owner, std::int64_t now,
                                        std::int64_t claim_ms, int limit) override {
    std::vector<ScheduleClaimed> out;
    for (const auto& t : tenants) {
      auto& row = rows.at(t);
      if (static_cast<int>(out.size()) >= limit) break;
      if (row.times.next_run_ms > now) continue;
      if (!row.claimed_by.empty() && row.claimed_until >= now) continue;
      row.claimed_by = owner;
      row.claimed_until = now + claim_ms;
      out.push_back({t, *row.times.next_full_ms <= now, row.times.failures});
    }
    return out;
  }
  void Record(const std::string& tenant, const std::string& owner, const NextTimes& next,
              const RunReport& report) override {
    auto& row = rows.at(tenant);
    row.times.next_run_ms = next.next_run_ms;
    if (next.next_full_ms) row.times.next_full_ms = next.next_full_ms;
    row.times.failures = next.failures;
    row.last_status = report.status;
    if (row.claimed_by == owner) row.claimed_by.clear();
  }
  void Release(const std::string& tenant, const std::string& owner) override {
    auto& row = rows.at(tenant);
    if (row.claimed_by == owner) row.claimed_by.clear();
  }
  std::map<std::string, Row> rows;
};

class FakeLauncher final : public RunLauncher {
 public:
  bool Launch(const std::string& tenant, bool full) override {
    if (busy.contains(tenant)) return false;
    launched.push_back({tenant, full});
    return true;
  }
  int Vacancies() override { return vacancies; }
  int vacancies = 100;
  std::set<std::string> busy;
  std::vector<std::pair<std::string, bool>> launched;
};

class SchedulerTest : public ::testing::Test {
 protected:
  Scheduler Make(const std::string& owner) {
    SchedulerSettings settings;
    settings.owner = owner;
    settings.tenants["acme"] = Timing();
    settings.tenants["beta"] = Timing();
    return Scheduler(settings, clock_, store_, launcher_, [] { return 0.5; });
  }
  FakeClock clock_;
  FakeScheduleStore store_;
  FakeLauncher launcher_;
};

TEST_F(SchedulerTest, LaunchesWhenDueAndNotBefore) {
  auto scheduler = Make("r1");
  scheduler.Init();
  EXPECT_EQ(scheduler.Step(), 0);  // first runs are spread: half an interval from now
  clock_.now += 7 * kMinute + 30'000;
  EXPECT_EQ(scheduler.Step(), 2);
  EXPECT_EQ(launcher_.launched[0], (std::pair<std::string, bool>{"acme", false}));
  // Claimed: not launched again while the runs are going.
  clock_.now += kMinute;
  EXPECT_EQ(scheduler.Step(), 0);
  scheduler.RunFinished("acme", Report("succeeded"));
  EXPECT_EQ(store_.rows.at("acme").claimed_by, "");
  EXPECT_EQ(store_.rows.at("acme").times.next_run_ms, clock_.now + 15 * kMinute);
  clock_.now += 15 * kMinute;
  EXPECT_EQ(scheduler.Step(), 1);
}

// Claims never outrun the launcher: a tenant claimed but left queued would wait here while
// another replica idles.
TEST_F(SchedulerTest, ClaimsNoMoreThanTheLauncherHasRoomFor) {
  auto scheduler = Make("r1");
  scheduler.Init();
  clock_.now += 24 * 60 * kMinute;
  launcher_.vacancies = 0;
  EXPECT_EQ(scheduler.Step(), 0);
  EXPECT_EQ(store_.rows.at("acme").claimed_by, "");
  launcher_.vacancies = 1;
  EXPECT_EQ(scheduler.Step(), 1);
  EXPECT_EQ(launcher_.launched.size(), 1u);
  launcher_.vacancies = 5;
  EXPECT_EQ(scheduler.Step(), 1);  // the other tenant; the first is still claimed
}

TEST_F(SchedulerTest, FullRunWhenItIsDue) {
  auto scheduler = Make("r1");
  scheduler.Init();
  clock_.now += 24 * 60 * kMinute;
  EXPECT_EQ(scheduler.Step(), 2);
  EXPECT_TRUE(launcher_.launched[0].second);
  scheduler.RunFinished("acme", Report("succeeded", true));
  EXPECT_EQ(*store_.rows.at("acme").times.next_full_ms, clock_.now + 24 * 60 * kMinute);
}

TEST_F(SchedulerTest, FailureBacksOff) {
  auto scheduler = Make("r1");
  scheduler.Init();
  clock_.now += 8 * kMinute;
  ASSERT_EQ(scheduler.Step(), 2);
  scheduler.RunFinished("acme", Report("failed"));
  EXPECT_EQ(store_.rows.at("acme").times.failures, 1);
  EXPECT_EQ(store_.rows.at("acme").times.next_run_ms, clock_.now + 30 * kMinute);
  clock_.now += 15 * kMinute;
  scheduler.RunFinished("beta", Report("succeeded"));
  EXPECT_EQ(scheduler.Step(), 0);  // acme still backing off
  clock_.now += 15 * kMinute;
  EXPECT_EQ(scheduler.Step(), 2);
}

TEST_F(SchedulerTest, BusyTenantGivesItsClaimBack) {
  auto scheduler = Make("r1");
  scheduler.Init();
  launcher_.busy.insert("acme");
  clock_.now += 8 * kMinute;
  EXPECT_EQ(scheduler.Step(), 1);
  EXPECT_EQ(store_.rows.at("acme").claimed_by, "");
  launcher_.busy.clear();
  EXPECT_EQ(scheduler.Step(), 1);  // claimable again at once
}

TEST_F(SchedulerTest, TwoReplicasNeverClaimTheSameTenant) {
  auto r1 = Make("r1");
  auto r2 = Make("r2");
  r1.Init();
  r2.Init();
  clock_.now += 8 * kMinute;
  EXPECT_EQ(r1.Step() + r2.Step(), 2);
  EXPECT_EQ(launcher_.launched.size(), 2u);
  // r1 dies holding its claims; once they expire r2 picks the tenants up.
  clock_.now += 31 * kMinute;
  EXPECT_EQ(r2.Step(), 2);
}

// A reload: a new tenant enters the table and is claimed when due; a removed one is no longer
// claimed, and a run of it that was going gives its claim back; a changed interval applies
// from the tenant's next run on.
TEST_F(SchedulerTest, SetTenantsAddsRemovesAndRetimes) {
  auto scheduler = Make("r1");
  scheduler.Init();
  clock_.now += 8 * kMinute;
  ASSERT_EQ(scheduler.Step(), 2);  // acme and beta are running

  scheduler.SetTenants({{"acme", {.interval = 5min, .full_interval = 24h}}, {"gamma", Timing()}});
  ASSERT_TRUE(store_.rows.contains("gamma"));
  EXPECT_EQ(store_.rows.at("gamma").times.next_run_ms, clock_.now + 7 * kMinute + 30'000);
  EXPECT_EQ(store_.rows.at("beta").claimed_by, "r1");

  scheduler.RunFinished("beta", Report("succeeded"));
  EXPECT_EQ(store_.rows.at("beta").claimed_by, "") << "the claim of a removed tenant goes back";
  EXPECT_EQ(store_.rows.at("beta").last_status, "") << "and nothing else of its row changes";
  scheduler.RunFinished("acme", Report("succeeded"));
  EXPECT_EQ(store_.rows.at("acme").times.next_run_ms, clock_.now + 5 * kMinute);

  launcher_.launched.clear();
  clock_.now += 8 * kMinute;
  EXPECT_EQ(scheduler.Step(), 2);
  std::set<std::string> launched;
  for (const auto& [tenant, full] : launcher_.launched) launched.insert(tenant);
  EXPECT_EQ(launched, (std::set<std::string>{"acme", "gamma"}));
}

// Entering the new tenants fails (the database is away): the scheduler keeps the tenants it
// had, so the daemon can run on its old configuration entirely.
TEST_F(SchedulerTest, SetTenantsChangesNothingWhenTheStoreFails) {
  class FailingEnsure final : public ScheduleStore {
   public:
    explicit FailingEnsure(FakeScheduleStore& inner) : inner_(inner) {}
    void Ensure(const std::string& tenant, const NextTimes& first) override {
      if (failing) throw std::runtime_error("the database is unreachable");
      inner_.Ensure(tenant, first);
    }
    std::vector<ScheduleClaimed> ClaimDue(const std::vector<std::string>& tenants,
                                          const std::string& owner, std::int64_t now,
                                          std::int64_t claim_ms, int limit) override {
      return inner_.ClaimDue(tenants, owner, now, claim_ms, limit);
    }
    void Record(const std::string& tenant, const std::string& owner, const NextTimes& next,
                const RunReport& report) override {
      inner_.Record(tenant, owner, next, report);
    }
    void Release(const std::string& tenant, const std::string& owner) override {
      inner_.Release(tenant, owner);
    }
    bool failing = false;

   private:
    FakeScheduleStore& inner_;
  } store(store_);
  SchedulerSettings settings;
  settings.owner = "r1";
  settings.tenants["acme"] = Timing();
  Scheduler scheduler(settings, clock_, store, launcher_, [] { return 0.5; });
  scheduler.Init();
  store.failing = true;
  EXPECT_THROW(scheduler.SetTenants({{"gamma", Timing()}}), std::runtime_error);
  clock_.now += 8 * kMinute;
  EXPECT_EQ(scheduler.Step(), 1);
  EXPECT_EQ(launcher_.launched.at(0).first, "acme");
}

}  // namespace
}  // namespace concord::daemon
