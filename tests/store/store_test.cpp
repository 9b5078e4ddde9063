// The store against a real PostgreSQL: migrations, leases and fencing, applying a plan,
// review-queue bookkeeping, export order, COPY escaping.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "reconcile/model.hpp"
#include "store/canonical_store.hpp"
#include "store/lease.hpp"
#include "store/migrate.hpp"
#include "store/pg.hpp"
#include "tests/store/test_database.hpp"

namespace concord::store {
namespace {

using namespace std::chrono_literals;
using reconcile::Side;

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : conn_({.url = db_.url()}) { Migrate(conn_); }

  Lease TakeOrFail(const std::string& owner) {
    auto lease = TakeLease(conn_, "acme", owner, 60s);
    EXPECT_TRUE(lease.has_value());
    return lease.value_or(Lease{});
  }

  reconcile::FinancePerson Finance(std::string id, std::string email) {
    reconcile::FinancePerson f;
    f.source = "xero";
    f.remote_id = std::move(id);
    f.account_id = "acc-1";
    f.account_name = "Harbour\tLights\nLtd \\ Co";  // COPY must escape all of these
    f.given_name = "Mere";
    f.family_name = "Tane";
    f.email = std::move(email);
    f.updated_at = 1718001234567;
    f.raw_json = R"({"ContactID":"x","Name":"a\tb"})";
    return f;
  }

  reconcile::Person PersonRow(std::string id, std::optional<std::string> email) {
    reconcile::Person p;
    p.id = std::move(id);
    p.email = std::move(email);
    p.given_name = "Mere";
    p.display_name = "Mere Tane";
    p.created_run = 1;
    return p;
  }

  RunCommit Commit(std::int64_t run, const Lease& lease, const reconcile::Plan& plan) {
    RunCommit c;
    c.tenant_id = "acme";
    c.run_id = run;
    c.lease = lease;
    c.finance = &finance_;
    c.portal = &portal_;
    c.quarantined = &quarantined_;
    c.plan = &plan;
    return c;
  }

  testing::TestDatabase db_;
  Connection conn_;
  std::vector<reconcile::FinancePerson> finance_;
  std::vector<reconcile::PortalUser> portal_;
  std::vector<reconcile::QuarantinedRecord> quarantined_;
};

TEST_F(StoreTest, MigrateIsANoOpWhenCurrent) {
  EXPECT_EQ(Migrate(conn_), 0);
  auto status = CheckSchema(conn_);
  EXPECT_TRUE(status.UpToDate());
  EXPECT_GE(status.current, 1);
}

TEST_F(StoreTest, FreshDatabaseReportsVersionZero) {
  testing::TestDatabase empty;
  Connection conn({.url = empty.url()});
  auto status = CheckSchema(conn);
  EXPECT_EQ(status.current, 0);
  EXPECT_FALSE(status.UpToDate());
}

TEST_F(StoreTest, LeaseIsExclusiveAndFenced) {
  auto first = TakeOrFail("a");
  EXPECT_FALSE(TakeLease(conn_, "acme", "b", 60s).has_value());
  EXPECT_TRUE(ProlongLease(conn_, first, 60s));
  ReleaseLease(conn_, first);
  auto second = TakeOrFail("b");
  EXPECT_GT(second.fence, first.fence);
  EXPECT_FALSE(ProlongLease(conn_, first, 60s)) << "a stale fence must not prolong";
}

TEST_F(StoreTest, ExpiredLeaseIsTakenOver) {
  auto first = TakeLease(conn_, "acme", "a", 0s);
  ASSERT_TRUE(first.has_value());
  auto second = TakeLease(conn_, "acme", "b", 60s);
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->fence, first->fence);
}

TEST_F(StoreTest, ApplyWithALostLeaseCommitsNothing) {
  CanonicalStore store(conn_);
  auto lease = TakeOrFail("a");
  auto run = store.StartRun("acme", "manual", "full", false);
  ReleaseLease(conn_, lease);
  (void)TakeOrFail("b");

  finance_.push_back(Finance("c1", "mere@example.com"));
  reconcile::Plan plan;
  plan.persons.push_back(PersonRow("p1", "mere@example.com"));
  EXPECT_THROW(store.Apply(Commit(run, lease, plan)), LeaseLost);
  EXPECT_TRUE(store.LoadState("acme").finance.empty());
  EXPECT_TRUE(store.LoadState("acme").persons.empty());
}

TEST_F(StoreTest, SourcesWrittenAheadOfThePlanRollBackWhenDropped) {
  CanonicalStore store(conn_);
  auto lease = TakeOrFail("a");
  auto run = store.StartRun("acme", "manual", "full", false);
  finance_.push_back(Finance("c1", "mere@example.com"));
  reconcile::Plan plan;
  {
    auto sources = store.WriteSources(Commit(run, lease, plan));
    // The lease row is locked from the check on: another replica waits instead of taking it.
    Connection other({.url = db_.url(), .statement_timeout = 200ms});
    EXPECT_THROW((void)TakeLease(other, "acme", "b", 0s), DbError);
  }
  EXPECT_TRUE(store.LoadState("acme").finance.empty()) << "a held or stopped run writes nothing";

  plan.persons.push_back(PersonRow("p1", "mere@example.com"));
  auto commit = Commit(run, lease, plan);
  store.Apply(commit, store.WriteSources(commit));
  auto state = store.LoadState("acme");
  ASSERT_EQ(state.finance.size(), 1u);
  EXPECT_EQ(state.finance[0].remote_id, "c1");
  EXPECT_EQ(state.persons.size(), 1u);
}

TEST_F(StoreTest, ApplyRoundTripsRecordsPersonsLinksAndCursors) {
  CanonicalStore store(conn_);
  auto lease = TakeOrFail("a");
  auto run = store.StartRun("acme", "manual", "full", false);
  finance_.push_back(Finance("c1", "Mere@Example.com"));
  reconcile::PortalUser u;
  u.source = "scim";
  u.remote_id = "u1";
  u.user_name = "mere@example.com";
  u.email = "mere@example.com";
  u.display_name = "Mere Tane";
  u.updated_at = 5;
  u.deleted = true;
  u.groups = {"grp-1", "grp,2"};
  u.entitlements = {"open_tickets"};
  portal_.push_back(u);

  reconcile::Plan plan;
  auto person = PersonRow("p1", "mere@example.com");
  person.merged_from = {"p0", "p\"odd"};
  plan.persons.push_back(person);
  person.memberships = {{Side::kFinance, "xero", "acc-1", "Harbour Lights"},
                        {Side::kPortal, "scim", "grp-1", "grp-1"}};
  plan.persons.back() = person;
  plan.links.push_back({Side::kFinance,
                        "xero",
                        "c1",
                        "p1",
                        reconcile::LinkRule::kEmailExact,
                        reconcile::LinkStatus::kActive,
                        "email_key=mere@example.com",
                        {}});
  plan.links.push_back({Side::kPortal,
                        "scim",
                        "u1",
                        "p1",
                        reconcile::LinkRule::kEmailExact,
                        reconcile::LinkStatus::kActive,
                        "email_key=mere@example.com",
                        {"open_tickets", "view \"invoices\""}});
  plan.events.push_back({reconcile::EventKind::kCreated,
                         "p1",
                         {{Side::kFinance, "xero", "c1"}},
                         "email_exact",
                         "new person"});
  auto commit = Commit(run, lease, plan);
  commit.new_cursors.finance = 1000;
  commit.new_cursors.portal = 2000;
  auto applied = store.Apply(commit);
  EXPECT_EQ(applied.events.size(), 1u);

  auto state = store.LoadState("acme");
  ASSERT_EQ(state.finance.size(), 1u);
  EXPECT_EQ(state.finance[0].account_name, "Harbour\tLights\nLtd \\ Co");
  EXPECT_EQ(state.finance[0].email, "Mere@Example.com");
  ASSERT_EQ(state.persons.size(), 1u);
  EXPECT_EQ(state.persons[0], person);
  ASSERT_EQ(state.links.size(), 2u);
  EXPECT_EQ(state.links[0].permissions.size() + state.links[1].permissions.size(), 2u);
  for (const auto& l : state.links) {
    if (l.side == Side::kPortal) {
      EXPECT_EQ(l.permissions, plan.links[1].permissions);
    }
  }
  ASSERT_EQ(state.portal.size(), 1u);
  EXPECT_TRUE(state.portal[0].deleted);
  EXPECT_EQ(state.portal[0].groups, u.groups);
  EXPECT_EQ(state.portal[0].entitlements, u.entitlements);
  auto cursors = store.LoadCursors("acme");
  EXPECT_EQ(cursors.finance, 1000);
  EXPECT_EQ(cursors.portal, 2000);

  auto exported = store.Export("acme");
  ASSERT_EQ(exported.size(), 1u);
  ASSERT_EQ(exported[0].finance.size(), 1u);
  EXPECT_EQ(exported[0].finance[0].email, "Mere@Example.com");
  ASSERT_EQ(exported[0].portal.size(), 1u);
  EXPECT_EQ(exported[0].portal[0].user_name, "mere@example.com");

  // The first apply copied straight into the tenant's empty tables; the same rows again are
  // staged and upserted (a direct copy would break the primary keys) to the same state.
  auto second = store.StartRun("acme", "manual", "full", false);
  store.Apply(Commit(second, lease, plan));
  auto again = store.LoadState("acme");
  EXPECT_EQ(again.persons, state.persons);
  EXPECT_EQ(again.links, state.links);
  ASSERT_EQ(again.finance.size(), 1u);
  EXPECT_EQ(again.finance[0].account_name, state.finance[0].account_name);
  ASSERT_EQ(again.portal.size(), 1u);
  EXPECT_EQ(again.portal[0].groups, u.groups);
  EXPECT_TRUE(again.portal[0].deleted);
}

TEST_F(StoreTest, ReviewItemsAreOpenedOnceAndClosedWhenTheSituationGoesAway) {
  CanonicalStore store(conn_);
  auto lease = TakeOrFail("a");
  reconcile::ReviewItem item{reconcile::ReviewKind::kInvalidEmail,
                             "invalid_email:finance:xero:c1",
                             "white space inside",
                             "a b@example.com",
                             {{Side::kFinance, "xero", "c1"}},
                             {"p1"}};
  reconcile::Plan plan;
  plan.review_items.push_back(item);

  auto run1 = store.StartRun("acme", "manual", "full", false);
  auto first = store.Apply(Commit(run1, lease, plan));
  ASSERT_EQ(first.review_changes.size(), 1u);
  EXPECT_TRUE(first.review_changes[0].opened);
  EXPECT_EQ(first.counts.at("review_opened").as_int64(), 1);

  auto run2 = store.StartRun("acme", "manual", "full", false);
  auto second = store.Apply(Commit(run2, lease, plan));
  EXPECT_TRUE(second.review_changes.empty()) << "the same situation must not open twice";
  auto open = store.OpenReviewItems("acme");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].kind, "invalid_email");
  EXPECT_EQ(open[0].email, "a b@example.com");

  auto run3 = store.StartRun("acme", "manual", "full", false);
  auto third = store.Apply(Commit(run3, lease, reconcile::Plan{}));
  ASSERT_EQ(third.review_changes.size(), 1u);
  EXPECT_FALSE(third.review_changes[0].opened);
  EXPECT_TRUE(store.OpenReviewItems("acme").empty());
}

TEST_F(StoreTest, ExportIsOrderedByEmailThenRemoteIdWithNoEmailLast) {
  CanonicalStore store(conn_);
  auto lease = TakeOrFail("a");
  auto run = store.StartRun("acme", "manual", "full", false);
  finance_ = {Finance("c3", ""), Finance("c2", "b@x.example"), Finance("c1", "a@x.example")};
  reconcile::Plan plan;
  plan.persons = {PersonRow("p3", std::nullopt), PersonRow("p2", "b@x.example"),
                  PersonRow("p1", "a@x.example")};
  auto merged = PersonRow("p0", "a@x.example");
  merged.merged_into = "p1";
  plan.persons.push_back(merged);
  for (auto [remote, person] : {std::pair{"c1", "p1"}, {"c2", "p2"}, {"c3", "p3"}}) {
    plan.links.push_back({Side::kFinance,
                          "xero",
                          remote,
                          person,
                          reconcile::LinkRule::kEmailExact,
                          reconcile::LinkStatus::kActive,
                          "",
                          {}});
  }
  store.Apply(Commit(run, lease, plan));
  auto exported = store.Export("acme");
  ASSERT_EQ(exported.size(), 3u) << "merged-away persons are not exported";
  EXPECT_EQ(exported[0].person.id, "p1");
  EXPECT_EQ(exported[1].person.id, "p2");
  EXPECT_EQ(exported[2].person.id, "p3");
}

TEST_F(StoreTest, MergeSnapshotsAndKeepSeparateDecisionsRoundTrip) {
  CanonicalStore store(conn_);
  auto lease = TakeOrFail("a");
  auto run = store.StartRun("acme", "manual", "full", false);
  reconcile::Merge merge;
  merge.loser_id = "p2";
  merge.survivor_id = "p1";
  merge.reason = "rule 5";
  merge.loser_before = PersonRow("p2", "mere@example.com");
  merge.loser_before.origin = reconcile::Origin::kPortal;
  merge.loser_before.memberships = {{Side::kPortal, "scim", "g", "g"}};
  merge.links_before = {{Side::kPortal,
                         "scim",
                         "u1",
                         "p2",
                         reconcile::LinkRule::kPortalOrigin,
                         reconcile::LinkStatus::kActive,
                         "ev",
                         {"perm"}}};
  reconcile::Plan plan;
  plan.merges.push_back(merge);
  auto commit = Commit(run, lease, plan);
  commit.keep_separate = {{"p3", "p4"}};
  store.Apply(commit);

  auto id = conn_.Exec("SELECT id FROM merges").Int(0, 0);
  auto stored = store.LoadMerge(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->tenant_id, "acme");
  EXPECT_FALSE(stored->undone);
  merge.id = id;
  EXPECT_EQ(stored->merge, merge);
  EXPECT_FALSE(store.LoadMerge(id + 1).has_value());
  ASSERT_EQ(store.LoadState("acme").keep_separate.size(), 1u);
  EXPECT_EQ(store.LoadState("acme").keep_separate[0], (reconcile::KeepSeparate{"p3", "p4"}));
}

TEST_F(StoreTest, PreparedStatementsArePreparedOncePerConnection) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(conn_.ExecPrepared("SELECT $1::int + 1", {std::to_string(i)}).Int(0, 0), i + 1);
  }
  EXPECT_EQ(conn_.ExecPrepared("SELECT $1::text", {"x"}).Text(0, 0), "x");
  EXPECT_EQ(conn_.Exec("SELECT count(*) FROM pg_prepared_statements").Int(0, 0), 2);
}

TEST_F(StoreTest, ErrorsCarryTheirSqlState) {
  try {
    conn_.Exec("SELECT * FROM no_such_table");
    FAIL() << "expected a DbError";
  } catch (const DbError& e) {
    EXPECT_EQ(e.sqlstate(), "42P01");
    EXPECT_FALSE(e.Retryable());
  }
}

TEST(ConnectionTest, UnreachableDatabaseNamesTheProblem) {
  try {
    Connection conn({.url = "postgresql:///none?host=/nonexistent-dir&port=1"});
    FAIL() << "expected a DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos);
    EXPECT_TRUE(e.Retryable());
  }
}

}  // namespace
}  // namespace concord::store
