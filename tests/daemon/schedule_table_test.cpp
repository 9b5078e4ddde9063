// The shared schedule table (schema/0002_schedule.sql) on a real PostgreSQL: claims by
// replica, SKIP LOCKED, expiry of a dead replica's claims, recording a run.

#include <gtest/gtest.h>

#include "store/migrate.hpp"
#include "store/pg.hpp"
#include "store/runs.hpp"
#include "tests/store/test_database.hpp"

namespace concord::store {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000;

class ScheduleTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Connection conn({.url = db_.url()});
    (void)Migrate(conn);
  }
  testing::TestDatabase db_;
};

TEST_F(ScheduleTableTest, EnsureKeepsAnExistingRow) {
  Connection conn({.url = db_.url()});
  ScheduleTable table(conn);
  table.Ensure("acme", kT0 + 10, kT0 + 100);
  table.Ensure("acme", kT0 + 99, kT0 + 999);
  auto row = table.Load("acme");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->next_run_ms, kT0 + 10);
  EXPECT_EQ(row->next_full_ms, kT0 + 100);
  EXPECT_FALSE(table.Load("nobody"));
}

TEST_F(ScheduleTableTest, ClaimsOnlyDueUnclaimedRows) {
  Connection a({.url = db_.url()});
  Connection b({.url = db_.url()});
  ScheduleTable ta(a), tb(b);
  ta.Ensure("acme", kT0, kT0 + 100);
  ta.Ensure("beta", kT0 + 50, kT0 + 100);
  ta.Ensure("o'neil \"quoted\", {braced}", kT0, kT0);
  const std::vector<std::string> tenants{"acme", "beta", "o'neil \"quoted\", {braced}"};

  auto claimed = ta.ClaimDue(tenants, "r1", kT0, 1000, 10);
  ASSERT_EQ(claimed.size(), 2u);
  bool full_due_seen = false;
  for (const auto& c : claimed) {
    EXPECT_NE(c.tenant_id, "beta");
    if (c.tenant_id == "o'neil \"quoted\", {braced}") full_due_seen = c.full_due;
  }
  EXPECT_TRUE(full_due_seen);
  // Another replica gets nothing while the claims last, then beta when it is due.
  EXPECT_TRUE(tb.ClaimDue(tenants, "r2", kT0 + 10, 1000, 10).empty());
  auto beta = tb.ClaimDue(tenants, "r2", kT0 + 60, 1000, 10);
  ASSERT_EQ(beta.size(), 1u);
  EXPECT_EQ(beta[0].tenant_id, "beta");
  // r1 died: its claims expire and r2 takes them over.
  EXPECT_EQ(tb.ClaimDue(tenants, "r2", kT0 + 1001, 1000, 10).size(), 2u);
}

TEST_F(ScheduleTableTest, SkipLockedRowsAnotherReplicaIsClaiming) {
  Connection a({.url = db_.url()});
  Connection b({.url = db_.url()});
  ScheduleTable(a).Ensure("acme", kT0, kT0);
  ScheduleTable(a).Ensure("beta", kT0, kT0);
  Transaction tx(a);
  auto first = ScheduleTable(a).ClaimDue({"acme"}, "r1", kT0, 1000, 10);
  ASSERT_EQ(first.size(), 1u);
  // acme's row is locked by the open transaction: r2 skips it instead of waiting.
  auto second = ScheduleTable(b).ClaimDue({"acme", "beta"}, "r2", kT0, 1000, 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].tenant_id, "beta");
}

TEST_F(ScheduleTableTest, RecordMovesTheScheduleAndDropsTheClaim) {
  Connection conn({.url = db_.url()});
  ScheduleTable table(conn);
  table.Ensure("acme", kT0, kT0 + 100);
  ASSERT_EQ(table.ClaimDue({"acme"}, "r1", kT0, 1000, 10).size(), 1u);
  table.Record("acme", "r1", {kT0 + 900, std::nullopt, 0, "succeeded", 7, kT0});
  auto row = table.Load("acme");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->next_run_ms, kT0 + 900);
  EXPECT_EQ(row->next_full_ms, kT0 + 100);
  EXPECT_EQ(row->last_status, "succeeded");
  EXPECT_EQ(row->last_success_ms, kT0);
  EXPECT_FALSE(row->claimed_by);
  // A failure keeps the last success and counts.
  table.Record("acme", "r1", {kT0 + 5000, kT0 + 200, 2, "failed", 8, std::nullopt});
  row = table.Load("acme");
  EXPECT_EQ(row->failures, 2);
  EXPECT_EQ(row->next_full_ms, kT0 + 200);
  EXPECT_EQ(row->last_success_ms, kT0);
}

TEST(TextArrayLiteralTest, QuotesEverything) {
  EXPECT_EQ(TextArrayLiteral({}), "{}");
  EXPECT_EQ(TextArrayLiteral({"a", "b\"c", "d\\e"}), "{\"a\",\"b\\\"c\",\"d\\\\e\"}");
}

}  // namespace
}  // namespace concord::store
