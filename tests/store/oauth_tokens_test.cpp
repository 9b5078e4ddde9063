// The OAuth token store against a real PostgreSQL: seeding, rotation, rollback, and two
// connections (two replicas) refreshing at once — the second waits for the first and sees its
// rotated token instead of spending the old one again.

#include "store/oauth_tokens.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "store/migrate.hpp"
#include "store/pg.hpp"
#include "tests/store/test_database.hpp"

namespace concord::store {
namespace {

using namespace std::chrono_literals;

class OAuthTokenStoreTest : public ::testing::Test {
 protected:
  OAuthTokenStoreTest() : conn_({.url = db_.url()}) { Migrate(conn_); }

  testing::TestDatabase db_;
  Connection conn_;
};

const OAuthTokenRow kFirst{"refresh-1", "access-1", 1'000, "seed-fp"};
const OAuthTokenRow kSecond{"refresh-2", "access-2", 2'000, "seed-fp"};

TEST_F(OAuthTokenStoreTest, SeedsThenRotates) {
  OAuthTokenStore store(conn_, "acme", "xero");
  EXPECT_EQ(store.Load(), std::nullopt);
  const OAuthTokenRow seeded = store.Update([](const std::optional<OAuthTokenRow>& stored) {
    EXPECT_FALSE(stored);
    return std::optional(kFirst);
  });
  EXPECT_EQ(seeded, kFirst);
  EXPECT_EQ(store.Load(), kFirst);

  const OAuthTokenRow rotated = store.Update([](const std::optional<OAuthTokenRow>& stored) {
    EXPECT_EQ(stored, kFirst);
    return std::optional(kSecond);
  });
  EXPECT_EQ(rotated, kSecond);
  EXPECT_EQ(store.Load(), kSecond);

  // Kept as it is: nothing written, the stored row returned.
  EXPECT_EQ(store.Update([](const auto&) { return std::optional<OAuthTokenRow>(); }), kSecond);
  // Per tenant and connector.
  EXPECT_EQ(OAuthTokenStore(conn_, "other", "xero").Load(), std::nullopt);
  EXPECT_EQ(OAuthTokenStore(conn_, "acme", "qbo").Load(), std::nullopt);
}

TEST_F(OAuthTokenStoreTest, AFailedRefreshStoresNothing) {
  OAuthTokenStore store(conn_, "acme", "xero");
  (void)store.Update([](const auto&) { return std::optional(kFirst); });
  EXPECT_THROW((void)store.Update([](const auto&) -> std::optional<OAuthTokenRow> {
    throw std::runtime_error("token endpoint said invalid_grant");
  }),
               std::runtime_error);
  EXPECT_EQ(store.Load(), kFirst);
  EXPECT_THROW((void)OAuthTokenStore(conn_, "empty", "xero").Update([](const auto&) {
    return std::optional<OAuthTokenRow>();
  }),
               std::runtime_error)
      << "nothing stored and nothing given";
}

TEST_F(OAuthTokenStoreTest, TwoReplicasNeverSpendTheSameRefreshToken) {
  OAuthTokenStore first(conn_, "acme", "xero");
  (void)first.Update([](const auto&) { return std::optional(kFirst); });

  Connection other_conn({.url = db_.url()});
  Connection observer({.url = db_.url()});
  OAuthTokenStore second(other_conn, "acme", "xero");
  std::promise<void> first_inside;
  std::optional<OAuthTokenRow> second_saw;
  std::future<void> second_done;

  (void)first.Update([&](const std::optional<OAuthTokenRow>& stored) {
    EXPECT_EQ(stored, kFirst);
    // While this replica holds the lock (its refresh is "in flight"), the other one starts.
    second_done = std::async(std::launch::async, [&] {
      (void)second.Update([&](const std::optional<OAuthTokenRow>& seen) {
        second_saw = seen;
        return std::optional<OAuthTokenRow>();  // fresh enough: nothing to refresh
      });
    });
    // Wait until the other replica is blocked on the lock (a condition, not a sleep).
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    bool waiting = false;
    while (!waiting && std::chrono::steady_clock::now() < deadline) {
      waiting = observer
                    .Exec(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
                        "wait_event_type = 'Lock'",
                        {db_.name()})
                    .Int(0, 0) > 0;
      if (!waiting) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(waiting) << "the second replica did not wait for the first";
    EXPECT_FALSE(second_saw) << "it must not read the old token meanwhile";
    return std::optional(kSecond);
  });
  second_done.get();
  EXPECT_EQ(second_saw, kSecond) << "it sees the rotated token, not the spent one";
  EXPECT_EQ(first.Load(), kSecond);
}

}  // namespace
}  // namespace concord::store
