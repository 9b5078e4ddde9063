// Neighbour keys (reconcile/neighbourhood.hpp): what an incremental run looks records up by.
// The property test (property_test.cpp) checks that the neighbourhood they span is enough;
// these pin the keys themselves.
#include "reconcile/neighbourhood.hpp"

#include <gtest/gtest.h>

namespace concord::reconcile {
namespace {

using Keys = std::vector<std::string>;

FinancePerson Finance(std::string email, std::string email2 = "") {
  FinancePerson r;
  r.source = "xero";
  r.remote_id = "c1";
  r.email = std::move(email);
  r.email2 = std::move(email2);
  return r;
}

TEST(NeighbourKeys, AnOrdinaryAddressHasOneKeyItsLooseKeyIsItsExactKey) {
  EXPECT_EQ(NeighbourKeys(Finance(" Ann.Lee@Example.COM "), {}), (Keys{"ann.lee@example.com"}));
}

TEST(NeighbourKeys, AGmailAddressAlsoHasItsLooseKey) {
  EXPECT_EQ(NeighbourKeys(Finance("Ann.Lee+shop@googlemail.com"), {}),
            (Keys{"ann.lee+shop@googlemail.com", "annlee@gmail.com"}));
}

TEST(NeighbourKeys, EveryValidAddressOfBothFieldsCounts) {
  EXPECT_EQ(NeighbourKeys(Finance("a@x.example; b@x.example", "n/a"), {}),
            (Keys{"a@x.example", "b@x.example"}));
  EXPECT_EQ(NeighbourKeys(Finance("", "home@y.example"), {}), (Keys{"home@y.example"}));
}

TEST(NeighbourKeys, MissingInvalidAndErasedRecordsHaveNone) {
  EXPECT_TRUE(NeighbourKeys(Finance(""), {}).empty());
  EXPECT_TRUE(NeighbourKeys(Finance("no at sign"), {}).empty());
  FinancePerson erased = Finance("a@x.example");
  erased.status = LinkStatus::kErased;
  EXPECT_TRUE(NeighbourKeys(erased, {}).empty());
}

TEST(NeighbourKeys, PortalUsersUseTheirEmail) {
  PortalUser u;
  u.email = "B@X.example";
  EXPECT_EQ(NeighbourKeys(u, {}), (Keys{"b@x.example"}));
}

TEST(NeighbourKeyVersion, ChangesWithTheRules) {
  LooseRules plus;
  plus.plus_domains = {"fastmail.com"};
  EXPECT_NE(NeighbourKeyVersion({}), NeighbourKeyVersion(plus));
  EXPECT_EQ(NeighbourKeyVersion(plus), NeighbourKeyVersion(plus));
}

}  // namespace
}  // namespace concord::reconcile
