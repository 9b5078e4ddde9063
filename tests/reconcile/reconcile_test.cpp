// One test (or a few) per rule of DESIGN.md §5, on small hand-written states.

#include "reconcile/reconcile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "reconcile/person_id.hpp"

namespace concord::reconcile {
namespace {

const Settings kRun1{"tenant-a", 1};
const Settings kRun2{"tenant-a", 2};
const Settings kRun3{"tenant-a", 3};

FinancePerson Finance(std::string id, std::string email, std::string given = "",
                      std::string family = "", Millis updated = 1000,
                      LinkStatus status = LinkStatus::kActive) {
  FinancePerson f;
  f.source = "xero";
  f.remote_id = std::move(id);
  f.account_id = "acct-" + f.remote_id;
  f.email = std::move(email);
  f.given_name = std::move(given);
  f.family_name = std::move(family);
  f.updated_at = updated;
  f.status = status;
  return f;
}

PortalUser Portal(std::string id, std::string email, bool active = true, std::string display = "",
                  Millis updated = 1000) {
  PortalUser u;
  u.source = "scim";
  u.remote_id = std::move(id);
  u.user_name = u.remote_id;
  u.email = std::move(email);
  u.display_name = std::move(display);
  u.active = active;
  u.updated_at = updated;
  return u;
}

// Reconciles and applies: one run of the sync job, in memory.
State SyncOnce(const State& state, const Settings& settings, Plan* plan_out = nullptr) {
  Plan plan = Reconcile(state, settings);
  State next = Apply(state, plan);
  if (plan_out != nullptr) *plan_out = plan;
  return next;
}

const Link* FindLink(const State& s, Side side, const std::string& remote_id) {
  for (const Link& l : s.links) {
    if (l.side == side && l.remote_id == remote_id) return &l;
  }
  return nullptr;
}

const Person* FindPerson(const State& s, const std::string& id) {
  for (const Person& p : s.persons) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// The person a record is linked to (must exist).
const Person& PersonOf(const State& s, Side side, const std::string& remote_id) {
  const Link* link = FindLink(s, side, remote_id);
  EXPECT_NE(link, nullptr) << remote_id;
  static const Person kNoPerson;
  if (link == nullptr) return kNoPerson;
  const Person* p = FindPerson(s, link->person_id);
  EXPECT_NE(p, nullptr) << link->person_id;
  return p != nullptr ? *p : kNoPerson;
}

std::vector<const Person*> LivePersons(const State& s) {
  std::vector<const Person*> out;
  for (const Person& p : s.persons) {
    if (!p.merged_into) out.push_back(&p);
  }
  return out;
}

const ReviewItem* FindReview(const Plan& plan, ReviewKind kind) {
  for (const ReviewItem& r : plan.review_items) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

int CountEvents(const Plan& plan, EventKind kind) {
  return static_cast<int>(std::count_if(plan.events.begin(), plan.events.end(),
                                        [&](const Event& e) { return e.kind == kind; }));
}

// ---- rule 2: finance duplicates --------------------------------------------------------------

TEST(FinanceDuplicates, SameExactKeyIsOnePerson) {
  State s;
  s.finance = {Finance("c1", "Ann@Example.com", "Ann", "Lee"),
               Finance("c2", "  ann@EXAMPLE.com\u00a0", "Ann", "Lee")};
  Plan plan;
  State after = SyncOnce(s, kRun1, &plan);
  ASSERT_EQ(after.persons.size(), 1u);
  EXPECT_EQ(after.persons[0].email, "ann@example.com");
  EXPECT_EQ(after.persons[0].origin, Origin::kFinance);
  EXPECT_EQ(after.persons[0].created_run, 1);
  EXPECT_EQ(FindLink(after, Side::kFinance, "c1")->rule, LinkRule::kEmailExact);
  EXPECT_EQ(FindLink(after, Side::kFinance, "c2")->evidence, "email_key=ann@example.com");
  EXPECT_EQ(plan.counts.created, 1);
  EXPECT_EQ(plan.counts.linked, 2);
  EXPECT_EQ(CountEvents(plan, EventKind::kCreated), 1);
  // c1 founded the person: its link is explained by the `created` event; c2 joined it.
  EXPECT_EQ(CountEvents(plan, EventKind::kLinked), 1);
}

TEST(FinanceDuplicates, ChangedEmailMergesAndTheOlderPersonSurvives) {
  State s;
  s.finance = {Finance("c1", "ann@example.com", "Ann", "Lee")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("c2", "ann.lee@example.com", "Ann", "Lee", 2000));
  s = SyncOnce(s, kRun2);
  ASSERT_EQ(LivePersons(s).size(), 2u);
  const std::string older = PersonOf(s, Side::kFinance, "c1").id;
  const std::string newer = PersonOf(s, Side::kFinance, "c2").id;

  s.finance[1].email = "ANN@example.com";
  s.finance[1].updated_at = 3000;
  Plan plan;
  s = SyncOnce(s, kRun3, &plan);
  ASSERT_EQ(LivePersons(s).size(), 1u);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c2").id, older);
  const Person* loser = FindPerson(s, newer);
  ASSERT_NE(loser, nullptr);
  EXPECT_EQ(loser->merged_into, older);
  EXPECT_EQ(FindPerson(s, older)->merged_from, std::vector<std::string>{newer});
  ASSERT_EQ(plan.merges.size(), 1u);
  EXPECT_EQ(plan.merges[0].loser_id, newer);
  EXPECT_EQ(plan.merges[0].survivor_id, older);
  EXPECT_NE(plan.merges[0].reason.find("ann@example.com"), std::string::npos);
  EXPECT_EQ(plan.merges[0].id, 0);  // the store assigns it
  EXPECT_EQ(plan.merges[0].loser_before.id, newer);
  EXPECT_FALSE(plan.merges[0].loser_before.merged_into);
  EXPECT_EQ(plan.merges[0].loser_before.email, "ann.lee@example.com");
  ASSERT_EQ(plan.merges[0].links_before.size(), 1u);
  EXPECT_EQ(plan.merges[0].links_before[0].remote_id, "c2");
  EXPECT_EQ(plan.merges[0].links_before[0].person_id, newer);
  // The moved link keeps the rule it was made with; its move is a relink event.
  EXPECT_EQ(FindLink(s, Side::kFinance, "c2")->rule, LinkRule::kEmailExact);
  EXPECT_EQ(CountEvents(plan, EventKind::kMerged), 1);
  EXPECT_EQ(CountEvents(plan, EventKind::kRelinked), 1);
  EXPECT_EQ(plan.counts.merged, 1);
  EXPECT_TRUE(Reconcile(s, kRun3).Empty());
}

TEST(FinanceDuplicates, SurvivorTieOnCreatedRunGoesToTheSmallerId) {
  State s;
  s.finance = {Finance("c1", "a@example.com"), Finance("c2", "b@example.com")};
  s = SyncOnce(s, kRun1);
  std::string id1 = PersonOf(s, Side::kFinance, "c1").id;
  std::string id2 = PersonOf(s, Side::kFinance, "c2").id;
  s.finance[1].email = "a@example.com";
  s = SyncOnce(s, kRun2);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c2").id, std::min(id1, id2));
}

// ---- rule 4: portal user → finance person ---------------------------------------------------

TEST(PortalToFinance, LinksByExactKey) {
  State s;
  s.finance = {Finance("c1", "bob@bücher.example", "Bob", "Ng")};
  s.portal = {Portal("u1", "BOB@xn--bcher-kva.example")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  ASSERT_EQ(s.persons.size(), 1u);
  const Link* link = FindLink(s, Side::kPortal, "u1");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->person_id, s.persons[0].id);
  EXPECT_EQ(link->rule, LinkRule::kEmailExact);
  EXPECT_EQ(s.persons[0].origin, Origin::kFinance);
  EXPECT_TRUE(plan.review_items.empty());
}

TEST(PortalToFinance, HoldsWhenAllFinanceRecordsAreArchived) {
  State s;
  s.finance = {Finance("c1", "bob@example.com", "Bob", "Ng", 1000, LinkStatus::kArchived)};
  s.portal = {Portal("u1", "bob@example.com")};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->status, LinkStatus::kArchived);
  EXPECT_EQ(s.persons[0].status, PersonStatus::kActive);  // the portal link is active
}

TEST(PortalToFinance, InactiveUsersJoinWhileTheKeyIsNotContested) {
  State s;
  s.finance = {Finance("c1", "bob@example.com")};
  s.portal = {Portal("u1", "bob@example.com"), Portal("u0", "bob@example.com", false)};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(LivePersons(s).size(), 1u);
  EXPECT_EQ(FindLink(s, Side::kPortal, "u0")->status, LinkStatus::kArchived);
}

// ---- rule 3: duplicate portal users ----------------------------------------------------------

TEST(DuplicatePortalUsers, ReviewAndNoLinkByEmail) {
  State s;
  s.finance = {Finance("c1", "team@example.com")};
  s.portal = {Portal("u1", "team@example.com"), Portal("u2", "Team@Example.com"),
              Portal("u3", "team@example.com", /*active=*/false)};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  const std::string finance_person = PersonOf(s, Side::kFinance, "c1").id;
  std::vector<std::string> portal_persons;
  for (const char* u : {"u1", "u2", "u3"}) {
    const Person& p = PersonOf(s, Side::kPortal, u);
    EXPECT_NE(p.id, finance_person) << u;
    EXPECT_EQ(p.origin, Origin::kPortal) << u;
    EXPECT_EQ(FindLink(s, Side::kPortal, u)->rule, LinkRule::kPortalOrigin) << u;
    portal_persons.push_back(p.id);
  }
  std::sort(portal_persons.begin(), portal_persons.end());
  EXPECT_EQ(std::unique(portal_persons.begin(), portal_persons.end()), portal_persons.end());

  const ReviewItem* item = FindReview(plan, ReviewKind::kDuplicatePortalUsers);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->dedup_key, "duplicate_portal_users:team@example.com");
  std::vector<SubjectRef> expected = {{Side::kPortal, "scim", "u1"}, {Side::kPortal, "scim", "u2"}};
  EXPECT_EQ(item->subjects, expected);
  EXPECT_EQ(item->person_ids.size(), 2u);
  EXPECT_EQ(plan.review_items.size(), 1u);

  // The review item is the same situation on the next run: same dedup key, nothing changes.
  Plan again = Reconcile(s, kRun2);
  EXPECT_TRUE(again.Empty());
  EXPECT_EQ(again.review_items, plan.review_items);
}

// ---- rule 5: portal-only, finance arrives later --------------------------------------------

TEST(PortalOrigin, MergedIntoFinancePersonWhenFinanceArrives) {
  State s;
  s.portal = {Portal("u1", "cara@example.com", true, "Cara from Portal")};
  Plan first;
  s = SyncOnce(s, kRun1, &first);
  ASSERT_EQ(s.persons.size(), 1u);
  const std::string portal_person = s.persons[0].id;
  EXPECT_EQ(s.persons[0].origin, Origin::kPortal);
  EXPECT_EQ(s.persons[0].display_name, "Cara from Portal");
  EXPECT_EQ(FindLink(s, Side::kPortal, "u1")->rule, LinkRule::kPortalOrigin);

  s.finance = {Finance("c9", "Cara@Example.com", "Cara", "Diaz")};
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  const Person& finance_person = PersonOf(s, Side::kFinance, "c9");
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, finance_person.id);
  EXPECT_EQ(finance_person.origin, Origin::kFinance);
  EXPECT_EQ(finance_person.created_run, 2);
  EXPECT_EQ(finance_person.display_name, "Cara Diaz");  // finance over portal
  EXPECT_EQ(finance_person.merged_from, std::vector<std::string>{portal_person});
  const Link* link = FindLink(s, Side::kPortal, "u1");
  EXPECT_EQ(link->rule, LinkRule::kEmailExact);  // a new link
  EXPECT_EQ(link->evidence, "email_key=cara@example.com");
  const Person* loser = FindPerson(s, portal_person);
  ASSERT_NE(loser, nullptr);
  EXPECT_EQ(loser->merged_into, finance_person.id);
  ASSERT_EQ(plan.merges.size(), 1u);
  EXPECT_EQ(plan.merges[0].loser_id, portal_person);
  EXPECT_EQ(plan.merges[0].loser_before.origin, Origin::kPortal);
  ASSERT_EQ(plan.merges[0].links_before.size(), 1u);
  EXPECT_EQ(plan.merges[0].links_before[0].rule, LinkRule::kPortalOrigin);
  EXPECT_NE(plan.merges[0].reason.find("finance wins"), std::string::npos);
  EXPECT_TRUE(Reconcile(s, kRun3).Empty());
}

TEST(PortalOrigin, TransitiveMergedFrom) {
  // A portal-origin person is merged into finance person B; B later merges into older A.
  State s;
  s.finance = {Finance("a", "a@example.com")};
  s.portal = {Portal("u", "b@example.com")};
  s = SyncOnce(s, kRun1);
  const std::string a = PersonOf(s, Side::kFinance, "a").id;
  const std::string p = PersonOf(s, Side::kPortal, "u").id;
  s.finance.push_back(Finance("b", "b@example.com"));
  s = SyncOnce(s, kRun2);
  const std::string b = PersonOf(s, Side::kFinance, "b").id;
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u").id, b);
  s.finance[1].email = "a@example.com";
  s = SyncOnce(s, kRun3);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u").id, a);
  std::vector<std::string> expected = {b, p};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(FindPerson(s, a)->merged_from, expected);
  EXPECT_EQ(FindPerson(s, p)->merged_into, b);  // chains are kept, so merges can be undone
}

// ---- rule 1: anchors --------------------------------------------------------------------------

TEST(Anchors, SurviveAnEmailChangeAndReportDrift) {
  State s;
  s.finance = {Finance("c1", "dan@example.com", "Dan", "Wu"),
               Finance("c2", "dan.new@example.com", "Daniel", "Wu")};
  s.portal = {Portal("u1", "dan@example.com")};
  s = SyncOnce(s, kRun1);
  const std::string dan = PersonOf(s, Side::kPortal, "u1").id;

  // The portal user's email changes to another finance person's key: it stays (anchor).
  s.portal[0].email = "dan.new@example.com";
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, dan);
  EXPECT_TRUE(plan.Empty());
  const ReviewItem* drift = FindReview(plan, ReviewKind::kEmailDrift);
  ASSERT_NE(drift, nullptr);
  EXPECT_EQ(drift->dedup_key, "email_drift:scim:u1");
  EXPECT_EQ(drift->email, "dan.new@example.com");
  EXPECT_EQ(drift->person_ids, std::vector<std::string>{dan});

  // The finance record's email changes too: the person's email follows, drift goes away.
  s.finance[0].email = "dan.new2@example.com";
  s.portal[0].email = "dan.new2@example.com";
  s = SyncOnce(s, kRun3, &plan);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").id, dan);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").email, "dan.new2@example.com");
  EXPECT_EQ(FindReview(plan, ReviewKind::kEmailDrift), nullptr);
  EXPECT_EQ(CountEvents(plan, EventKind::kUpdated), 1);
  // The kept link keeps the rule and evidence it was made with.
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->evidence, "email_key=dan@example.com");
}

TEST(Anchors, ManualLinkStaysEvenOnAPortalOriginPerson) {
  State s;
  s.portal = {Portal("u1", "eve@example.com")};
  s = SyncOnce(s, kRun1);
  s.links[0].rule = LinkRule::kManual;
  s.finance = {Finance("c1", "eve@example.com")};
  s = SyncOnce(s, kRun2);
  EXPECT_NE(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_EQ(LivePersons(s).size(), 2u);
}

// ---- records without a usable email ---------------------------------------------------------

TEST(NoEmail, EachFinanceRecordIsAPersonOfItsOwn) {
  State s;
  s.finance = {Finance("c1", "", "Fay", "Ho"), Finance("c2", "   ", "Fay", "Ho")};
  s.portal = {Portal("u1", "")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_EQ(LivePersons(s).size(), 3u);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->rule, LinkRule::kNoEmail);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c2")->evidence, "no email");
  EXPECT_EQ(FindLink(s, Side::kPortal, "u1")->rule, LinkRule::kPortalOrigin);
  EXPECT_FALSE(PersonOf(s, Side::kFinance, "c1").email.has_value());
  EXPECT_TRUE(plan.review_items.empty());  // missing is not an error
}

TEST(InvalidEmail, ReviewedKeptAndNeverMatched) {
  State s;
  s.finance = {Finance("c1", "gus@exa mple.com", "Gus", "Ray"),
               Finance("c2", "gus@exa mple.com", "Gus", "Ray")};
  s.portal = {Portal("u1", "a@b@c.example")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_EQ(LivePersons(s).size(), 3u);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->rule, LinkRule::kNoEmail);
  EXPECT_NE(FindLink(s, Side::kFinance, "c1")->evidence.find("invalid email: contains white space"),
            std::string::npos);
  ASSERT_EQ(plan.review_items.size(), 3u);
  const ReviewItem& item = plan.review_items[0];
  EXPECT_EQ(item.kind, ReviewKind::kInvalidEmail);
  EXPECT_EQ(item.dedup_key, "invalid_email:finance:xero:c1");
  EXPECT_EQ(item.email, "gus@exa mple.com");
  EXPECT_NE(item.reason.find("white space"), std::string::npos);
  EXPECT_EQ(item.person_ids, std::vector<std::string>{PersonOf(s, Side::kFinance, "c1").id});
  EXPECT_EQ(plan.review_items[2].dedup_key, "invalid_email:portal:scim:u1");
  EXPECT_NE(plan.review_items[2].reason.find("unquoted '@'"), std::string::npos);
}

// ---- survivorship ----------------------------------------------------------------------------

TEST(Survivorship, FinanceOverPortalActiveOverArchivedThenNewest) {
  State s;
  s.finance = {Finance("c1", "hal@example.com", "Hal", "Old", 5000, LinkStatus::kArchived),
               Finance("c2", "hal@example.com", "Harold", "", 1000),
               Finance("c3", "hal@example.com", "Hally", "Newer", 2000)};
  PortalUser u = Portal("u1", "hal@example.com", true, "H. from the portal", 9000);
  u.given_name = "Portal";
  u.family_name = "Name";
  s.portal = {u};
  s = SyncOnce(s, kRun1);
  const Person& p = PersonOf(s, Side::kFinance, "c1");
  EXPECT_EQ(p.given_name, "Hally");   // active beats the newer archived record
  EXPECT_EQ(p.family_name, "Newer");  // non-empty only
  EXPECT_EQ(p.display_name, "Hally Newer");
  EXPECT_EQ(p.email, "hal@example.com");
}

TEST(Survivorship, TiesGoToTheSmallerSourceAndRemoteIdWhateverTheOrder) {
  State s;
  s.finance = {Finance("b", "ivy@example.com", "Ivy-B", "", 1000),
               Finance("a", "ivy@example.com", "Ivy-A", "", 1000)};
  State reversed = s;
  std::reverse(reversed.finance.begin(), reversed.finance.end());
  State one = SyncOnce(s, kRun1);
  State two = SyncOnce(reversed, kRun1);
  ASSERT_EQ(one.persons.size(), 1u);
  EXPECT_EQ(one.persons[0].given_name, "Ivy-A");
  EXPECT_EQ(one.persons, two.persons);
}

TEST(Survivorship, PortalOnlyPersonUsesScimDisplayNameElseGivenFamily) {
  State s;
  PortalUser with = Portal("u1", "jo@example.com", true, " Jo Display ");
  PortalUser without = Portal("u2", "kim@example.com");
  without.given_name = " Kim ";
  without.family_name = "Park";
  s.portal = {with, without};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").display_name, "Jo Display");
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u2").display_name, "Kim Park");
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u2").given_name, "Kim");
}

TEST(Survivorship, EmailOfAGroupWithSeveralKeysIsTheNewestActiveRecords) {
  State s;
  s.finance = {Finance("c1", "old@example.com", "", "", 1000),
               Finance("c2", "new@example.com", "", "", 1000)};
  s = SyncOnce(s, kRun1);
  // c2 changes to c1's key → merge; then c1 changes away, but stays anchored to the survivor.
  s.finance[1].email = "old@example.com";
  s = SyncOnce(s, kRun2);
  s.finance[0].email = "newest@example.com";
  s.finance[0].updated_at = 3000;
  s = SyncOnce(s, kRun3);
  EXPECT_EQ(LivePersons(s).size(), 1u);
  EXPECT_EQ(LivePersons(s)[0]->email, "newest@example.com");
}

// ---- link and person status ------------------------------------------------------------------

TEST(Status, PersonDeactivatesWhenNoLinkIsActiveAndComesBack) {
  State s;
  s.finance = {Finance("c1", "liz@example.com")};
  s.portal = {Portal("u1", "liz@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance[0].status = LinkStatus::kArchived;
  s.portal[0].active = false;
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_EQ(s.persons[0].status, PersonStatus::kInactive);
  EXPECT_EQ(FindLink(s, Side::kPortal, "u1")->status, LinkStatus::kArchived);
  EXPECT_EQ(CountEvents(plan, EventKind::kDeactivated), 1);
  EXPECT_EQ(plan.counts.deactivated, 1);
  s.portal[0].active = true;
  s = SyncOnce(s, kRun3, &plan);
  EXPECT_EQ(s.persons[0].status, PersonStatus::kActive);
  EXPECT_EQ(CountEvents(plan, EventKind::kReactivated), 1);
}

// ---- rule 6: suggestions ------------------------------------------------------------------

std::vector<const ReviewItem*> Reviews(const Plan& plan, ReviewKind kind) {
  std::vector<const ReviewItem*> out;
  for (const ReviewItem& r : plan.review_items) {
    if (r.kind == kind) out.push_back(&r);
  }
  return out;
}

std::vector<std::string> SubjectIds(const ReviewItem& item) {
  std::vector<std::string> out;
  for (const SubjectRef& s : item.subjects) out.push_back(s.remote_id);
  return out;
}

TEST(Suggestions, PortalKeyOnlyAFinanceEmail2IsSuggestedNotLinked) {
  State s;
  s.finance = {Finance("c1", "ann@corp.example", "Ann", "Lee")};
  s.finance[0].email2 = "Ann@Home.example";
  s.portal = {Portal("u1", "ann@home.example")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_NE(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").origin, Origin::kPortal);
  auto items = Reviews(plan, ReviewKind::kSecondaryEmailMatch);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]->dedup_key, "secondary_email_match:scim:u1:ann@home.example");
  EXPECT_EQ(SubjectIds(*items[0]), (std::vector<std::string>{"u1", "c1"}));
  EXPECT_EQ(items[0]->person_ids.size(), 2u);
  EXPECT_NE(items[0]->reason.find("email 2"), std::string::npos);
  EXPECT_EQ(Reconcile(s, kRun2).review_items, plan.review_items);
  EXPECT_TRUE(Reconcile(s, kRun2).Empty());
}

TEST(Suggestions, FurtherAddressesInTheEmailFieldCountAsEmail2) {
  State s;
  s.finance = {Finance("c1", "Lee, Ann <ann@corp.example>; ann@home.example", "Ann", "Lee")};
  s.portal = {Portal("u1", "ann@home.example"), Portal("u2", "ann@corp.example")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").email, "ann@corp.example");
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u2").id, PersonOf(s, Side::kFinance, "c1").id);
  ASSERT_EQ(Reviews(plan, ReviewKind::kSecondaryEmailMatch).size(), 1u);
  EXPECT_EQ(SubjectIds(*Reviews(plan, ReviewKind::kSecondaryEmailMatch)[0]),
            (std::vector<std::string>{"u1", "c1"}));
  EXPECT_TRUE(Reviews(plan, ReviewKind::kInvalidEmail).empty());
}

TEST(Suggestions, AnEmail1MatchWinsAndNothingIsSuggested) {
  State s;
  s.finance = {Finance("c1", "ann@home.example"), Finance("c2", "ann@corp.example")};
  s.finance[1].email2 = "ann@home.example";
  s.portal = {Portal("u1", "ann@home.example")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_TRUE(Reviews(plan, ReviewKind::kSecondaryEmailMatch).empty());
  EXPECT_TRUE(Reviews(plan, ReviewKind::kLooseEmailMatch).empty());
}

TEST(Suggestions, GmailDotsTagsAndGooglemailAreALooseMatch) {
  State s;
  s.finance = {Finance("c1", "John.Smith@gmail.com"), Finance("c2", "js@example.com")};
  s.portal = {Portal("u1", "johnsmith+portal@googlemail.com"), Portal("u2", "j.s@example.com")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_NE(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  auto items = Reviews(plan, ReviewKind::kLooseEmailMatch);
  ASSERT_EQ(items.size(), 1u);  // example.com is not a loose domain: u2 gets nothing
  EXPECT_EQ(SubjectIds(*items[0]), (std::vector<std::string>{"u1", "c1"}));
  EXPECT_NE(items[0]->reason.find("johnsmith@gmail.com"), std::string::npos);
  // Both directions: the finance key may be the relaxed one.
  s.finance[0].email = "johnsmith@gmail.com";
  s.portal[0].email = "john.smith@gmail.com";
  EXPECT_EQ(Reviews(Reconcile(s, kRun2), ReviewKind::kLooseEmailMatch).size(), 1u);
}

TEST(Suggestions, PlusDomainsComeFromTheSettings) {
  State s;
  s.finance = {Finance("c1", "ann@fastmail.com")};
  s.portal = {Portal("u1", "ann+portal@fastmail.com")};
  EXPECT_TRUE(Reviews(Reconcile(s, kRun1), ReviewKind::kLooseEmailMatch).empty());
  Settings plus = kRun1;
  plus.loose.plus_domains = {"fastmail.com"};
  EXPECT_EQ(Reviews(Reconcile(s, plus), ReviewKind::kLooseEmailMatch).size(), 1u);
  Settings none = kRun1;
  none.loose.loose_domains.clear();
  s.finance[0].email = "a.b@gmail.com";
  s.portal[0].email = "ab@gmail.com";
  EXPECT_EQ(Reviews(Reconcile(s, kRun1), ReviewKind::kLooseEmailMatch).size(), 1u);
  EXPECT_TRUE(Reviews(Reconcile(s, none), ReviewKind::kLooseEmailMatch).empty());
}

TEST(Suggestions, OnlyForActiveUsersWithoutAManualLink) {
  State s;
  s.finance = {Finance("c1", "x@corp.example")};
  s.finance[0].email2 = "x@home.example";
  s.portal = {Portal("u1", "x@home.example", /*active=*/false)};
  EXPECT_TRUE(Reviews(Reconcile(s, kRun1), ReviewKind::kSecondaryEmailMatch).empty());
  s.portal[0].active = true;
  s = SyncOnce(s, kRun1);
  for (Link& l : s.links) {
    if (l.remote_id == "u1") l.rule = LinkRule::kManual;  // an admin kept it where it is
  }
  EXPECT_TRUE(Reviews(Reconcile(s, kRun2), ReviewKind::kSecondaryEmailMatch).empty());
}

TEST(Suggestions, AnInvalidEmail2IsReviewedButTheRecordStillMatches) {
  State s;
  s.finance = {Finance("c1", "ann@corp.example")};
  s.finance[0].email2 = "ann at home";
  s.portal = {Portal("u1", "ann@corp.example")};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  auto items = Reviews(plan, ReviewKind::kInvalidEmail);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]->email, "ann at home");
  EXPECT_NE(items[0]->reason.find("email 1 is ann@corp.example; not used: email 2: "),
            std::string::npos)
      << items[0]->reason;
}

// ---- rule 7: archive and erase --------------------------------------------------------------

TEST(Archive, ActiveLoginWithoutAnActiveContactIsReviewed) {
  State s;
  s.finance = {Finance("c1", "liz@example.com", "Liz", "Ray")};
  s.portal = {Portal("u1", "liz@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance[0].status = LinkStatus::kArchived;
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->status, LinkStatus::kArchived);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").status, PersonStatus::kActive);
  auto items = Reviews(plan, ReviewKind::kPortalUserWithoutContact);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]->dedup_key, "portal_user_without_contact:scim:u1");
  EXPECT_EQ(SubjectIds(*items[0]), (std::vector<std::string>{"u1", "c1"}));
  EXPECT_EQ(plan.counts.deactivated, 0);
  // The login is switched off in the portal: the situation is gone, the person deactivates.
  s.portal[0].active = false;
  s = SyncOnce(s, kRun3, &plan);
  EXPECT_TRUE(Reviews(plan, ReviewKind::kPortalUserWithoutContact).empty());
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").status, PersonStatus::kInactive);
  EXPECT_EQ(plan.counts.deactivated, 1);
}

TEST(Erase, ErasedRecordGivesNothingAndItsEvidenceIsScrubbed) {
  State s;
  s.finance = {Finance("c1", "ann@example.com", "Ann", "Lee", 2000),
               Finance("c2", "ann@example.com", "Annie", "Li", 1000)};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(LivePersons(s)[0]->given_name, "Ann");
  // The store clears an erased record's fields; reconcile must not rely on it.
  s.finance[0].status = LinkStatus::kErased;
  s.finance[0].email2 = "ann.private@example.com";
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  const Link* erased = FindLink(s, Side::kFinance, "c1");
  EXPECT_EQ(erased->status, LinkStatus::kErased);
  EXPECT_EQ(erased->evidence, "erased on request");
  EXPECT_EQ(erased->person_id, PersonOf(s, Side::kFinance, "c2").id);
  const Person& p = PersonOf(s, Side::kFinance, "c2");
  EXPECT_EQ(p.given_name, "Annie");
  EXPECT_EQ(p.family_name, "Li");
  EXPECT_EQ(p.status, PersonStatus::kActive);
  EXPECT_EQ(plan.counts.deactivated, 0);
  EXPECT_TRUE(Reviews(plan, ReviewKind::kSecondaryEmailMatch).empty());
  // The last record erased too: the person is erased, with nothing personal left.
  s.finance[1].status = LinkStatus::kErased;
  s = SyncOnce(s, kRun3, &plan);
  const Person& gone = PersonOf(s, Side::kFinance, "c2");
  EXPECT_EQ(gone.status, PersonStatus::kErased);
  EXPECT_EQ(gone.email, std::nullopt);
  EXPECT_EQ(gone.given_name, "");
  EXPECT_EQ(gone.family_name, "");
  EXPECT_EQ(gone.display_name, "");
  EXPECT_EQ(plan.counts.deactivated, 1);
  EXPECT_TRUE(Reconcile(s, Settings{"tenant-a", 4}).Empty());
}

TEST(Erase, AnErasedRecordSeenFirstIsAnErasedPersonOfItsOwn) {
  State s;
  s.finance = {Finance("c1", "", "", "", 1000, LinkStatus::kErased),
               Finance("c2", "bo@example.com", "Bo", "")};
  s.finance[0].email = "bo@example.com";  // left over: ignored
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_NE(PersonOf(s, Side::kFinance, "c1").id, PersonOf(s, Side::kFinance, "c2").id);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").status, PersonStatus::kErased);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").email, std::nullopt);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->evidence, "erased on request");
  EXPECT_EQ(plan.counts.deactivated, 0);  // never was active
}

// ---- rule 8: deletes ----------------------------------------------------------------------

TEST(Deletes, DeletedRecordsOnEitherSideDeactivateTheirPersons) {
  State s;
  s.finance = {Finance("c1", "al@example.com"), Finance("c2", "bea@example.com")};
  s.portal = {Portal("u1", "cy@example.com"), Portal("u2", "bea@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance[0].status = LinkStatus::kDeleted;  // as the sync job marks a full sync's missing
  s.portal[0].deleted = true;
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->status, LinkStatus::kDeleted);
  EXPECT_EQ(FindLink(s, Side::kPortal, "u1")->status, LinkStatus::kDeleted);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").status, PersonStatus::kInactive);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").status, PersonStatus::kInactive);
  EXPECT_EQ(plan.counts.deactivated, 2);
  EXPECT_EQ(CountEvents(plan, EventKind::kDeactivated), 2);
  // A deleted contact with a live login is rule 7's situation.
  s.finance[1].status = LinkStatus::kDeleted;
  s = SyncOnce(s, kRun3, &plan);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c2").status, PersonStatus::kActive);
  EXPECT_EQ(Reviews(plan, ReviewKind::kPortalUserWithoutContact).size(), 1u);
  // Seen again: active again.
  s.finance[0].status = LinkStatus::kActive;
  s = SyncOnce(s, Settings{"tenant-a", 4}, &plan);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").status, PersonStatus::kActive);
  EXPECT_EQ(CountEvents(plan, EventKind::kReactivated), 1);
}

TEST(Deletes, ADeletedUserIsNotActiveEvenIfItSaidSo) {
  State s;
  s.finance = {Finance("c1", "dup@example.com")};
  s.portal = {Portal("u1", "dup@example.com"), Portal("u2", "dup@example.com")};
  s.portal[1].deleted = true;  // not an active duplicate: rule 3 does not apply
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_TRUE(Reviews(plan, ReviewKind::kDuplicatePortalUsers).empty());
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_EQ(FindLink(s, Side::kPortal, "u2")->status, LinkStatus::kDeleted);
}

// ---- keep_separate and undo ---------------------------------------------------------------

// Persons and links in a canonical order, so two states compare with ==.
State Sorted(State s) {
  std::sort(s.persons.begin(), s.persons.end(),
            [](const Person& a, const Person& b) { return a.id < b.id; });
  std::sort(s.links.begin(), s.links.end(), [](const Link& a, const Link& b) {
    return std::tie(a.side, a.source, a.remote_id) < std::tie(b.side, b.source, b.remote_id);
  });
  return s;
}

TEST(KeepSeparate, Rule2NeverMergesThemAndNewRecordsJoinTheFirst) {
  State s;
  s.finance = {Finance("c1", "ann@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("c2", "bob@example.com"));
  s = SyncOnce(s, kRun2);
  const std::string a = PersonOf(s, Side::kFinance, "c1").id;
  const std::string b = PersonOf(s, Side::kFinance, "c2").id;
  s.keep_separate = {{b, a}};
  s.finance[1].email = "ANN@example.com";
  s.finance.push_back(Finance("c3", "ann@example.com"));
  s.portal = {Portal("u1", "ann@example.com")};
  Plan plan;
  s = SyncOnce(s, kRun3, &plan);
  EXPECT_TRUE(plan.merges.empty());
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c2").id, b);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c2").email, "ann@example.com");
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c3").id, a);  // created first
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, a);
  EXPECT_TRUE(plan.review_items.empty());
  EXPECT_TRUE(Reconcile(s, Settings{"tenant-a", 4}).Empty());
}

TEST(KeepSeparate, AThirdPersonStillMergesWithTheOneItSharesAKeyWith) {
  State s;
  s.finance = {Finance("c1", "a@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("c2", "b@example.com"));
  s = SyncOnce(s, kRun2);
  s.finance.push_back(Finance("c3", "c@example.com"));
  s = SyncOnce(s, kRun3);
  const std::string a = PersonOf(s, Side::kFinance, "c1").id;
  const std::string b = PersonOf(s, Side::kFinance, "c2").id;
  const std::string c = PersonOf(s, Side::kFinance, "c3").id;
  s.keep_separate = {{a, b}};
  for (FinancePerson& f : s.finance) f.email = "same@example.com";
  Plan plan;
  s = SyncOnce(s, Settings{"tenant-a", 4}, &plan);
  ASSERT_EQ(plan.merges.size(), 1u);  // c into a; b stays apart
  EXPECT_EQ(plan.merges[0].loser_id, c);
  EXPECT_EQ(plan.merges[0].survivor_id, a);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c2").id, b);
  EXPECT_TRUE(Reconcile(s, Settings{"tenant-a", 5}).Empty());
}

TEST(KeepSeparate, Rule5LeavesThePortalUserOnItsOwnPerson) {
  State s;
  s.portal = {Portal("u1", "cy@example.com")};
  s.finance = {Finance("c1", "other@example.com")};
  s = SyncOnce(s, kRun1);
  const std::string p = PersonOf(s, Side::kPortal, "u1").id;
  const std::string f = PersonOf(s, Side::kFinance, "c1").id;
  s.keep_separate = {{p, f}};
  s.finance[0].email = "cy@example.com";
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_TRUE(plan.merges.empty());
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, p);
  EXPECT_TRUE(Reconcile(s, kRun3).Empty());
}

TEST(UndoMerge, Rule2MergeUndoneGivesTheStateWithoutIt) {
  State s;
  s.finance = {Finance("c1", "ann@example.com", "Ann", "Lee")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("c2", "bob@example.com", "Bob", "Ng"));
  s.portal = {Portal("u2", "bob@example.com")};
  s = SyncOnce(s, kRun2);
  const std::string a = PersonOf(s, Side::kFinance, "c1").id;
  const std::string b = PersonOf(s, Side::kFinance, "c2").id;
  const Person b_before = PersonOf(s, Side::kFinance, "c2");
  s.finance[0].email = "bob@example.com";  // the survivor's record changes: b's do not
  State changed = s;
  Plan plan;
  State merged = SyncOnce(changed, kRun3, &plan);
  ASSERT_EQ(plan.merges.size(), 1u);
  const Merge& m = plan.merges[0];
  EXPECT_EQ(m.loser_id, b);
  EXPECT_EQ(m.loser_before, b_before);
  ASSERT_EQ(m.links_before.size(), 2u);  // c2 and u2

  Plan undo = UndoMerge(merged, m, Settings{"tenant-a", 4});
  State undone = Apply(merged, undo);
  EXPECT_EQ(*FindPerson(undone, b), b_before);
  EXPECT_EQ(FindLink(undone, Side::kFinance, "c2")->person_id, b);
  EXPECT_EQ(FindLink(undone, Side::kPortal, "u2")->person_id, b);
  EXPECT_TRUE(FindPerson(undone, a)->merged_from.empty());
  EXPECT_GE(CountEvents(undo, EventKind::kRelinked), 2);
  // The state before the merge: what reconcile gives with the two kept separate.
  changed.keep_separate = {{b, a}};
  State expected = SyncOnce(changed, kRun3);
  EXPECT_EQ(Sorted(undone).persons, Sorted(expected).persons);
  EXPECT_EQ(Sorted(undone).links, Sorted(expected).links);
  // The caller records the pair; then the undo sticks.
  undone.keep_separate = {{b, a}};
  EXPECT_TRUE(Reconcile(undone, Settings{"tenant-a", 5}).Empty());
  // Undoing again changes nothing.
  EXPECT_TRUE(UndoMerge(undone, m, Settings{"tenant-a", 5}).Empty());
}

TEST(UndoMerge, Rule5MergeUndoneRestoresThePortalOriginPerson) {
  State s;
  s.portal = {Portal("u1", "cara@example.com", true, "Cara D.")};
  s = SyncOnce(s, kRun1);
  const std::string p = PersonOf(s, Side::kPortal, "u1").id;
  const Person p_before = PersonOf(s, Side::kPortal, "u1");
  const Link u1_before = *FindLink(s, Side::kPortal, "u1");
  s.finance = {Finance("c9", "cara@example.com", "Cara", "Diaz")};
  Plan plan;
  State merged = SyncOnce(s, kRun2, &plan);
  ASSERT_EQ(plan.merges.size(), 1u);
  const std::string f = PersonOf(merged, Side::kFinance, "c9").id;
  State undone = Apply(merged, UndoMerge(merged, plan.merges[0], kRun3));
  EXPECT_EQ(*FindPerson(undone, p), p_before);
  EXPECT_EQ(*FindLink(undone, Side::kPortal, "u1"), u1_before);  // rule portal_origin again
  EXPECT_TRUE(FindPerson(undone, f)->merged_from.empty());
  EXPECT_EQ(FindPerson(undone, f)->display_name, "Cara Diaz");
  undone.keep_separate = {{p, f}};
  Plan next = Reconcile(undone, Settings{"tenant-a", 4});
  EXPECT_TRUE(next.Empty());
  EXPECT_EQ(FindReview(next, ReviewKind::kEmailDrift), nullptr);
}

TEST(UndoMerge, ThroughALaterMergeOfTheSurvivor) {
  State s;
  s.finance = {Finance("z", "z@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("a", "a@example.com"));
  s = SyncOnce(s, kRun2);
  s.finance.push_back(Finance("b", "b@example.com"));
  s = SyncOnce(s, kRun3);
  const std::string z = PersonOf(s, Side::kFinance, "z").id;
  const std::string a = PersonOf(s, Side::kFinance, "a").id;
  const std::string b = PersonOf(s, Side::kFinance, "b").id;
  s.finance[2].email = "a@example.com";  // b into a
  Plan first;
  s = SyncOnce(s, Settings{"tenant-a", 4}, &first);
  ASSERT_EQ(first.merges.size(), 1u);
  s.finance[1].email = "z@example.com";  // a (with b's record) into z
  s.finance[2].email = "z@example.com";
  s = SyncOnce(s, Settings{"tenant-a", 5});
  std::vector<std::string> both{a, b};
  std::sort(both.begin(), both.end());  // merged_from is sorted
  EXPECT_EQ(FindPerson(s, z)->merged_from, both);
  State undone = Apply(s, UndoMerge(s, first.merges[0], Settings{"tenant-a", 6}));
  EXPECT_FALSE(FindPerson(undone, b)->merged_into.has_value());
  EXPECT_EQ(FindLink(undone, Side::kFinance, "b")->person_id, b);
  EXPECT_EQ(FindPerson(undone, z)->merged_from, std::vector<std::string>{a});
  EXPECT_EQ(FindPerson(undone, b)->email, "z@example.com");  // fields follow its record now
  undone.keep_separate = {{b, a}};
  EXPECT_TRUE(Reconcile(undone, Settings{"tenant-a", 7}).Empty());
}

// ---- memberships and permissions ----------------------------------------------------------

Membership FinanceAccount(std::string id, std::string name) {
  return Membership{Side::kFinance, "xero", std::move(id), std::move(name)};
}
Membership PortalGroup(std::string group) {
  return Membership{Side::kPortal, "scim", group, group};
}

TEST(Memberships, UnionOfFinanceAccountsAndPortalGroups) {
  State s;
  s.finance = {Finance("c1", "pat@example.com"), Finance("c2", "pat@example.com")};
  s.finance[0].account_id = "acme";
  s.finance[0].account_name = "Acme Ltd";
  s.finance[1].account_id = "fam";
  s.finance[1].account_name = "The Pats";
  s.portal = {Portal("u1", "pat@example.com")};
  s.portal[0].groups = {"acme", "hosting", " ", "acme"};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  EXPECT_EQ(LivePersons(s)[0]->memberships,
            (std::vector<Membership>{FinanceAccount("acme", "Acme Ltd"),
                                     FinanceAccount("fam", "The Pats"), PortalGroup("acme"),
                                     PortalGroup("hosting")}));
  // An archived record keeps its account; a deleted one takes it away.
  s.finance[0].status = LinkStatus::kArchived;
  s.finance[1].status = LinkStatus::kDeleted;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_EQ(LivePersons(s)[0]->memberships,
            (std::vector<Membership>{FinanceAccount("acme", "Acme Ltd"), PortalGroup("acme"),
                                     PortalGroup("hosting")}));
  ASSERT_EQ(CountEvents(plan, EventKind::kUpdated), 3);  // two link statuses, the person
}

TEST(Memberships, OneAccountNamedByTheBestRankedRecord) {
  State s;
  s.finance = {Finance("c1", "pat@example.com", "", "", 1000),
               Finance("c2", "pat@example.com", "", "", 2000)};
  s.finance[0].account_id = s.finance[1].account_id = "acme";
  s.finance[0].account_name = "Acme (old name)";
  s.finance[1].account_name = "Acme Ltd";
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(LivePersons(s)[0]->memberships,
            std::vector<Membership>{FinanceAccount("acme", "Acme Ltd")});
}

TEST(Memberships, SurviveAMergeAsAUnionAndAnUndoSplitsThemAgain) {
  State s;
  s.finance = {Finance("c1", "ann@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("c2", "bob@example.com"));
  s = SyncOnce(s, kRun2);
  s.finance[1].email = "ann@example.com";
  Plan plan;
  State merged = SyncOnce(s, kRun3, &plan);
  ASSERT_EQ(plan.merges.size(), 1u);
  EXPECT_EQ(
      LivePersons(merged)[0]->memberships,
      (std::vector<Membership>{FinanceAccount("acct-c1", ""), FinanceAccount("acct-c2", "")}));
  State undone = Apply(merged, UndoMerge(merged, plan.merges[0], Settings{"tenant-a", 4}));
  EXPECT_EQ(PersonOf(undone, Side::kFinance, "c1").memberships,
            std::vector<Membership>{FinanceAccount("acct-c1", "")});
  EXPECT_EQ(PersonOf(undone, Side::kFinance, "c2").memberships,
            std::vector<Membership>{FinanceAccount("acct-c2", "")});
}

TEST(Permissions, PerPortalLinkSortedUniqueAndNeverWidenedByAMerge) {
  State s;
  s.finance = {Finance("c1", "kim@example.com")};
  s.portal = {Portal("u1", "kim@example.com", /*active=*/false), Portal("u2", "kim@example.com")};
  s.portal[0].entitlements = {"view_invoices", "open_tickets", "view_invoices", ""};
  s.portal[1].entitlements = {"admin"};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(FindLink(s, Side::kPortal, "u1")->permissions,
            (std::vector<std::string>{"open_tickets", "view_invoices"}));
  EXPECT_EQ(FindLink(s, Side::kPortal, "u2")->permissions, std::vector<std::string>{"admin"});
  EXPECT_TRUE(FindLink(s, Side::kFinance, "c1")->permissions.empty());
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kPortal, "u2").id);
  // The portal takes a permission away: the link follows, with an event.
  s.portal[1].entitlements = {};
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_TRUE(FindLink(s, Side::kPortal, "u2")->permissions.empty());
  ASSERT_EQ(plan.links.size(), 1u);
  EXPECT_EQ(CountEvents(plan, EventKind::kUpdated), 1);
  EXPECT_TRUE(Reconcile(s, kRun3).Empty());
}

// ---- partial and damaged states --------------------------------------------------------------

TEST(PartialState, ThreePersonsMergeIntoTheOldestAndLinksWithoutRecordsFollow) {
  State s;
  s.finance = {Finance("c1", "q@example.com")};
  s = SyncOnce(s, kRun1);
  s.finance.push_back(Finance("c2", "r@example.com"));
  s = SyncOnce(s, kRun2);
  s.finance.push_back(Finance("c3", "t@example.com"));
  s = SyncOnce(s, kRun3);
  const std::string oldest = PersonOf(s, Side::kFinance, "c1").id;
  const std::string c3_person = PersonOf(s, Side::kFinance, "c3").id;
  // A link whose record was not loaded, on the person that is about to be merged away.
  s.links.push_back(Link{Side::kPortal,
                         "scim",
                         "not-loaded",
                         c3_person,
                         LinkRule::kManual,
                         LinkStatus::kActive,
                         "admin",
                         {}});
  s.finance[1].email = "q@example.com";
  s.finance[2].email = "Q@example.com";
  Plan plan;
  s = SyncOnce(s, Settings{"tenant-a", 4}, &plan);
  EXPECT_EQ(plan.merges.size(), 2u);
  EXPECT_EQ(LivePersons(s).size(), 1u);
  EXPECT_EQ(FindLink(s, Side::kPortal, "not-loaded")->person_id, oldest);
  EXPECT_EQ(FindLink(s, Side::kPortal, "not-loaded")->rule, LinkRule::kManual);
  EXPECT_EQ(FindPerson(s, oldest)->merged_from.size(), 2u);
  EXPECT_TRUE(Reconcile(s, Settings{"tenant-a", 5}).Empty());
}

TEST(PartialState, LinkToAMissingPersonIsRemade) {
  State s;
  s.finance = {Finance("c1", "u@example.com")};
  s.links = {Link{Side::kFinance,
                  "xero",
                  "c1",
                  "gone",
                  LinkRule::kEmailExact,
                  LinkStatus::kActive,
                  "email_key=u@example.com",
                  {}}};
  Plan plan;
  s = SyncOnce(s, kRun1, &plan);
  ASSERT_EQ(s.persons.size(), 1u);
  EXPECT_EQ(FindLink(s, Side::kFinance, "c1")->person_id, s.persons[0].id);
  EXPECT_EQ(CountEvents(plan, EventKind::kRelinked), 1);
}

TEST(PortalOrigin, NotMergedWhileAnotherUserStaysOnIt) {
  State s;
  s.portal = {Portal("u1", "v@example.com"), Portal("u2", "w@example.com")};
  s = SyncOnce(s, kRun1);
  const std::string p1 = PersonOf(s, Side::kPortal, "u1").id;
  // An admin put u2 on u1's person.
  for (Link& l : s.links) {
    if (l.remote_id == "u2") {
      l.person_id = p1;
      l.rule = LinkRule::kManual;
    }
  }
  s.finance = {Finance("c1", "v@example.com")};
  Plan plan;
  s = SyncOnce(s, kRun2, &plan);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u1").id, PersonOf(s, Side::kFinance, "c1").id);
  EXPECT_EQ(PersonOf(s, Side::kPortal, "u2").id, p1);
  EXPECT_FALSE(FindPerson(s, p1)->merged_into.has_value());
  EXPECT_TRUE(plan.merges.empty());
  EXPECT_EQ(FindPerson(s, p1)->email, "w@example.com");
}

// ---- ids, plan shape, events -----------------------------------------------------------------

TEST(PersonIds, DeterministicUuidsFromTenantAndFoundingRecord) {
  std::string id = detail::DerivePersonId("t", Side::kFinance, "xero", "c1", 0);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '8');  // version 8
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
  EXPECT_EQ(id, detail::DerivePersonId("t", Side::kFinance, "xero", "c1", 0));
  EXPECT_NE(id, detail::DerivePersonId("u", Side::kFinance, "xero", "c1", 0));
  EXPECT_NE(id, detail::DerivePersonId("t", Side::kPortal, "xero", "c1", 0));
  EXPECT_NE(id, detail::DerivePersonId("t", Side::kFinance, "xero", "c1", 1));
  EXPECT_NE(detail::DerivePersonId("t", Side::kFinance, "ab", "c", 0),
            detail::DerivePersonId("t", Side::kFinance, "a", "bc", 0));

  State s;
  s.finance = {Finance("c2", "m@example.com"), Finance("c1", "M@example.com")};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(s.persons[0].id, detail::DerivePersonId("tenant-a", Side::kFinance, "xero", "c1", 0));
}

TEST(PersonIds, ATakenIdIsDerivedAgain) {
  State s;
  Person old;
  old.id = detail::DerivePersonId("tenant-a", Side::kFinance, "xero", "c1", 0);
  old.merged_into = "someone-else";
  s.persons = {old};
  s.finance = {Finance("c1", "n@example.com")};
  s = SyncOnce(s, kRun1);
  EXPECT_EQ(PersonOf(s, Side::kFinance, "c1").id,
            detail::DerivePersonId("tenant-a", Side::kFinance, "xero", "c1", 1));
}

TEST(Plan, SortedDiffAndEventsWithReasons) {
  State s;
  s.finance = {Finance("c2", "o@example.com"), Finance("c1", "p@example.com"),
               Finance("c3", "o@example.com")};
  s.portal = {Portal("u1", "o@example.com")};
  Plan plan = Reconcile(s, kRun1);
  ASSERT_EQ(plan.persons.size(), 2u);
  EXPECT_LT(plan.persons[0].id, plan.persons[1].id);
  ASSERT_EQ(plan.links.size(), 4u);
  EXPECT_EQ(plan.links[0].remote_id, "c1");
  EXPECT_EQ(plan.links[3].side, Side::kPortal);
  for (const Event& e : plan.events) {
    EXPECT_FALSE(e.person_id.empty());
    EXPECT_FALSE(e.reason.empty());
    EXPECT_FALSE(e.subjects.empty());
  }
  // A person's events start with its creation.
  EXPECT_EQ(plan.events[0].kind, EventKind::kCreated);
  bool found = false;
  for (const Event& e : plan.events) {
    found = found || e.reason.find("portal user joined finance person") != std::string::npos;
  }
  EXPECT_TRUE(found);
  State after = Apply(s, plan);
  EXPECT_TRUE(Reconcile(after, kRun2).Empty());
  EXPECT_TRUE(Reconcile(after, kRun2).events.empty());
}

TEST(Apply, UpsertsPersonsAndLinksByKey) {
  State s;
  Person p;
  p.id = "p1";
  s.persons = {p};
  s.links = {
      Link{Side::kFinance, "xero", "c1", "p1", LinkRule::kNoEmail, LinkStatus::kActive, "", {}}};
  Plan plan;
  p.given_name = "changed";
  Person q;
  q.id = "p2";
  plan.persons = {p, q};
  plan.links = {
      Link{Side::kFinance, "xero", "c1", "p2", LinkRule::kNoEmail, LinkStatus::kActive, "", {}},
      Link{
          Side::kPortal, "scim", "u1", "p2", LinkRule::kPortalOrigin, LinkStatus::kActive, "", {}}};
  State after = Apply(s, plan);
  ASSERT_EQ(after.persons.size(), 2u);
  EXPECT_EQ(after.persons[0].given_name, "changed");
  ASSERT_EQ(after.links.size(), 2u);
  EXPECT_EQ(after.links[0].person_id, "p2");
}

}  // namespace
}  // namespace concord::reconcile
