// Bad input (issue 3): emails with control characters, 10 KB strings, invalid UTF-8, names in
// any script, empty records. Never a crash, never a silent drop: each problem record shows up
// as a review item with its reason, and everything reconcile hands on is clean UTF-8.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "reconcile/reconcile.hpp"
#include "reconcile/text.hpp"

namespace concord::reconcile {
namespace {

const Settings kRun{"tenant-bad", 1};

FinancePerson Finance(std::string id, std::string email, std::string given = "Al",
                      std::string family = "Bo") {
  FinancePerson f;
  f.source = "xero";
  f.remote_id = std::move(id);
  f.account_id = "acct";
  f.email = std::move(email);
  f.given_name = std::move(given);
  f.family_name = std::move(family);
  return f;
}

PortalUser Portal(std::string id, std::string email) {
  PortalUser u;
  u.source = "scim";
  u.remote_id = std::move(id);
  u.user_name = u.remote_id;
  u.email = std::move(email);
  return u;
}

// Clean: valid UTF-8, no control characters, at most `max` bytes.
bool Clean(const std::string& text, std::size_t max = SIZE_MAX / 2) {
  unsigned problems = 0;
  return !detail::CleanText(text, max, problems).has_value();
}

// Every text the plan hands to the store, the log or the review queue is clean.
void ExpectCleanPlan(const Plan& plan) {
  for (const Person& p : plan.persons) {
    for (const std::string* t : {&p.id, &p.given_name, &p.family_name, &p.display_name}) {
      EXPECT_TRUE(Clean(*t, detail::kMaxFieldBytes)) << p.id;
    }
    if (p.email) {
      EXPECT_TRUE(Clean(*p.email, 254));
    }
    for (const Membership& m : p.memberships) {
      EXPECT_TRUE(Clean(m.source) && Clean(m.account_id, detail::kMaxFieldBytes) &&
                  Clean(m.account_name, detail::kMaxFieldBytes));
    }
  }
  for (const Link& l : plan.links) {
    EXPECT_TRUE(Clean(l.source) && Clean(l.remote_id) && Clean(l.evidence)) << l.remote_id;
    for (const std::string& p : l.permissions) EXPECT_TRUE(Clean(p, detail::kMaxFieldBytes));
  }
  for (const ReviewItem& r : plan.review_items) {
    EXPECT_TRUE(Clean(r.dedup_key) && Clean(r.reason)) << r.dedup_key;
    EXPECT_FALSE(r.reason.empty());
    if (r.email) {
      EXPECT_TRUE(Clean(*r.email, detail::kMaxFieldBytes)) << r.dedup_key;
    }
    for (const SubjectRef& s : r.subjects) EXPECT_TRUE(Clean(s.source) && Clean(s.remote_id));
  }
  for (const Event& e : plan.events) EXPECT_TRUE(Clean(e.reason)) << e.reason;
}

const ReviewItem* Find(const Plan& plan, ReviewKind kind, const std::string& remote_id) {
  for (const ReviewItem& r : plan.review_items) {
    if (r.kind != kind) continue;
    for (const SubjectRef& s : r.subjects) {
      if (s.remote_id == remote_id) return &r;
    }
  }
  return nullptr;
}

const Link* LinkOf(const Plan& plan, const std::string& remote_id) {
  for (const Link& l : plan.links) {
    if (l.remote_id == remote_id) return &l;
  }
  return nullptr;
}

const Person* PersonOf(const Plan& plan, const std::string& remote_id) {
  const Link* l = LinkOf(plan, remote_id);
  if (l == nullptr) return nullptr;
  for (const Person& p : plan.persons) {
    if (p.id == l->person_id) return &p;
  }
  return nullptr;
}

TEST(BadInput, ControlCharactersInAnEmail) {
  State s;
  s.finance = {Finance("c1", "ann\x01@example.com"), Finance("c2", "bob@exam\x7fple.com")};
  s.portal = {Portal("u1", "ann\x01@example.com")};
  Plan plan = Reconcile(s, kRun);
  ExpectCleanPlan(plan);
  for (const char* id : {"c1", "c2", "u1"}) {
    const ReviewItem* item = Find(plan, ReviewKind::kInvalidEmail, id);
    ASSERT_NE(item, nullptr) << id;
    EXPECT_NE(item->reason.find("control character"), std::string::npos) << item->reason;
    ASSERT_NE(LinkOf(plan, id), nullptr) << id;  // kept, never matched
  }
  EXPECT_NE(PersonOf(plan, "c1")->id, PersonOf(plan, "u1")->id);
  EXPECT_EQ(*Find(plan, ReviewKind::kInvalidEmail, "c1")->email, "ann\xEF\xBF\xBD@example.com");
}

TEST(BadInput, TenKilobyteStrings) {
  const std::string big(10 * 1024, 'x');
  State s;
  s.finance = {Finance("c1", big + "@example.com"), Finance("c2", "c2@example.com", big, "Bo"),
               Finance(big, "c3@example.com")};
  s.finance[1].account_name = big;
  s.portal = {Portal("u1", "u1@example.com")};
  s.portal[0].display_name = "Ü" + big;
  s.portal[0].groups = {big};
  s.portal[0].entitlements = {big};
  Plan plan = Reconcile(s, kRun);
  ExpectCleanPlan(plan);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidEmail, "c1"), nullptr);
  const ReviewItem* c2 = Find(plan, ReviewKind::kInvalidRecord, "c2");
  ASSERT_NE(c2, nullptr);
  EXPECT_NE(c2->reason.find("given_name: longer than 1024 bytes (cut)"), std::string::npos);
  EXPECT_NE(c2->reason.find("account_name"), std::string::npos);
  EXPECT_EQ(PersonOf(plan, "c2")->given_name.size(), 1024u);
  EXPECT_EQ(PersonOf(plan, "c2")->memberships[0].account_name.size(), 1024u);
  // A 10 KB remote id is no id: the record is not used, and says so.
  EXPECT_EQ(LinkOf(plan, big), nullptr);
  const ReviewItem* c3 = Find(plan, ReviewKind::kInvalidRecord, big.substr(0, 200));
  ASSERT_NE(c3, nullptr);
  EXPECT_NE(c3->reason.find("remote id unusable: longer than 1024 bytes"), std::string::npos);
  EXPECT_TRUE(c3->person_ids.empty());
  const Person* u1 = PersonOf(plan, "u1");
  EXPECT_LE(u1->display_name.size(), 1024u);
  EXPECT_EQ(u1->display_name.substr(0, 2), "Ü");
  EXPECT_EQ(LinkOf(plan, "u1")->permissions[0].size(), 1024u);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "u1"), nullptr);
}

TEST(BadInput, InvalidUtf8) {
  State s;
  s.finance = {Finance("c1", "c1@example.com",
                       "\xff\xfe"
                       "Ann",
                       "Le\xc3"),
               Finance("c2", "b\xffob@example.com"), Finance("c\xff", "c3@example.com")};
  s.portal = {Portal("u1", "u1@example.com")};
  s.portal[0].groups = {"gr\xc0\xafoup"};  // an overlong '/'
  Plan plan = Reconcile(s, kRun);
  ExpectCleanPlan(plan);
  EXPECT_EQ(PersonOf(plan, "c1")->given_name,
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "Ann");
  EXPECT_EQ(PersonOf(plan, "c1")->family_name, "Le\xEF\xBF\xBD");
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "c1")->reason.find("not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidEmail, "c2")->reason.find("not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "c\xEF\xBF\xBD"), nullptr);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "u1"), nullptr);
  EXPECT_EQ(PersonOf(plan, "u1")->memberships.size(), 1u);
}

TEST(BadInput, NamesInAnyScriptAreFine) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"محمد", "العلي"},     {"王", "小明"}, {"देवी", "शर्मा"},    {"Ἀλέξανδρος", "Παπαδόπουλος"},
      {"Zoë", "Noe\u0308l"}, {"😀", "🦄"},  {"Иван", "Петров"}, {"אברהם", "כהן"},
      {"ﾀﾛｳ", "ﾔﾏﾀﾞ"}};
  State s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    s.finance.push_back(Finance("c" + std::to_string(i), "p" + std::to_string(i) + "@example.com",
                                names[i].first, names[i].second));
  }
  Plan plan = Reconcile(s, kRun);
  ExpectCleanPlan(plan);
  EXPECT_TRUE(plan.review_items.empty());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Person* p = PersonOf(plan, "c" + std::to_string(i));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->given_name, names[i].first);
    EXPECT_EQ(p->display_name, names[i].first + " " + names[i].second);
  }
}

TEST(BadInput, EmptyRecords) {
  State s;
  s.finance = {FinancePerson{}, Finance("c1", "", "", "")};
  s.finance[1].account_id.clear();
  PortalUser empty_user;
  empty_user.source = "scim";
  empty_user.remote_id = "u1";
  s.portal = {PortalUser{}, empty_user};
  Plan plan = Reconcile(s, kRun);
  ExpectCleanPlan(plan);
  // Without an id: reported, not linked.
  std::size_t without_id = 0;
  for (const ReviewItem& r : plan.review_items) {
    if (r.kind == ReviewKind::kInvalidRecord && r.reason.find("empty") == 0) ++without_id;
  }
  EXPECT_EQ(without_id, 2u);
  // With an id but nothing else: a person of its own, and reported.
  ASSERT_NE(LinkOf(plan, "c1"), nullptr);
  ASSERT_NE(LinkOf(plan, "u1"), nullptr);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "c1")->reason.find("nothing identifies"),
            std::string::npos);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "u1"), nullptr);
  EXPECT_EQ(Find(plan, ReviewKind::kInvalidRecord, "c1")->person_ids,
            std::vector<std::string>{PersonOf(plan, "c1")->id});
  EXPECT_EQ(plan.links.size(), 2u);
}

TEST(BadInput, OneIdTwiceUsesTheNewestWhateverTheOrder) {
  State s;
  s.finance = {Finance("c1", "old@example.com", "Old"), Finance("c1", "new@example.com", "New")};
  s.finance[0].updated_at = 1000;
  s.finance[1].updated_at = 2000;
  s.portal = {Portal("u1", "x@example.com"), Portal("u1", "y@example.com")};  // a tie
  Plan plan = Reconcile(s, kRun);
  std::reverse(s.finance.begin(), s.finance.end());
  std::reverse(s.portal.begin(), s.portal.end());
  Plan reversed = Reconcile(s, kRun);
  EXPECT_EQ(plan.persons, reversed.persons);
  EXPECT_EQ(plan.links, reversed.links);
  EXPECT_EQ(plan.review_items, reversed.review_items);
  EXPECT_EQ(PersonOf(plan, "c1")->given_name, "New");
  EXPECT_EQ(plan.links.size(), 2u);
  const ReviewItem* item = Find(plan, ReviewKind::kInvalidRecord, "c1");
  ASSERT_NE(item, nullptr);
  EXPECT_NE(item->reason.find("2 records share this id"), std::string::npos);
  EXPECT_NE(Find(plan, ReviewKind::kInvalidRecord, "u1"), nullptr);
}

// ---- fuzz: random bytes in every field of whole records ----------------------------------

std::string RandomText(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   "@",
                                                   ".",
                                                   ",",
                                                   ";",
                                                   "<",
                                                   ">",
                                                   "\"",
                                                   " ",
                                                   "\t",
                                                   "\n",
                                                   std::string(1, '\0'),
                                                   "\x01",
                                                   "\x7f",
                                                   "\xff",
                                                   "\xc3",
                                                   "\xc3\xa4",
                                                   "\xe2\x80\x8b",
                                                   "\xf0\x9f\x98\x80",
                                                   "\xed\xa0\x80",
                                                   "mailto:",
                                                   "example.com",
                                                   "gmail.com",
                                                   "+tag",
                                                   "xn--",
                                                   "ü",
                                                   "ß",
                                                   "\\"};
  std::string out;
  std::size_t n = rng() % 12;
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 3 == 0) {
      out += static_cast<char>(rng() % 256);  // any byte at all
    } else {
      out += kPieces[rng() % kPieces.size()];
    }
  }
  if (rng() % 200 == 0) out += std::string(10 * 1024 + rng() % 100, static_cast<char>(rng() % 256));
  return out;
}

State RandomState(std::uint64_t seed, std::size_t records) {
  std::mt19937_64 rng(seed);
  State s;
  // Ids mostly well-formed and unique, sometimes random bytes or repeated.
  auto id = [&](std::size_t i) {
    switch (rng() % 20) {
      case 0:
        return RandomText(rng);
      case 1:
        return "dup" + std::to_string(rng() % 20);
      default:
        return "r" + std::to_string(i);
    }
  };
  const std::vector<std::string> emails = {"ann@example.com", "Ann@Example.com ", "ann@gmail.com",
                                           "a.nn+x@googlemail.com", "bob@example.com"};
  auto email = [&] { return rng() % 2 ? emails[rng() % emails.size()] : RandomText(rng); };
  for (std::size_t i = 0; i < records; ++i) {
    FinancePerson f;
    f.source = rng() % 50 ? "xero" : RandomText(rng);
    f.remote_id = id(i);
    f.account_id = RandomText(rng);
    f.account_name = RandomText(rng);
    f.given_name = RandomText(rng);
    f.family_name = RandomText(rng);
    f.email = email();
    f.email2 = rng() % 3 ? "" : email();
    f.status = static_cast<LinkStatus>(rng() % 4);
    f.updated_at = static_cast<Millis>(rng() % 5);
    f.raw_json = RandomText(rng);
    s.finance.push_back(std::move(f));
    PortalUser u;
    u.source = rng() % 50 ? "scim" : RandomText(rng);
    u.remote_id = id(i);
    u.user_name = RandomText(rng);
    u.email = email();
    u.given_name = RandomText(rng);
    u.family_name = RandomText(rng);
    u.display_name = RandomText(rng);
    u.active = rng() % 4 != 0;
    u.deleted = rng() % 10 == 0;
    u.updated_at = static_cast<Millis>(rng() % 5);
    for (std::size_t g = rng() % 3; g > 0; --g) u.groups.push_back(RandomText(rng));
    for (std::size_t e = rng() % 3; e > 0; --e) u.entitlements.push_back(RandomText(rng));
    s.portal.push_back(std::move(u));
  }
  return s;
}

// Review items compared one by one, so a failure names the item instead of dumping bytes.
void ExpectSameItems(const std::vector<ReviewItem>& a, const std::vector<ReviewItem>& b) {
  std::map<std::string, const ReviewItem*> in_b;
  for (const ReviewItem& r : b) in_b[r.dedup_key] = &r;
  int shown = 0;
  for (const ReviewItem& r : a) {
    auto it = in_b.find(r.dedup_key);
    if (it == in_b.end()) {
      if (shown++ < 5) ADD_FAILURE() << "only in the first: " << r.dedup_key;
    } else if (!(*it->second == r)) {
      if (shown++ < 5) {
        ADD_FAILURE() << "differs: " << r.dedup_key << "\n  " << r.reason << "\n  "
                      << it->second->reason;
      }
    }
  }
  EXPECT_EQ(a.size(), b.size());
}

class BadInputFuzz : public testing::TestWithParam<std::uint64_t> {};

TEST_P(BadInputFuzz, RandomRecordsNeverCrashNorVanish) {
  State s = RandomState(GetParam(), 2500);
  Plan plan;
  ASSERT_NO_THROW(plan = Reconcile(s, kRun));
  ExpectCleanPlan(plan);
  // Nothing vanishes: every record is linked or named by an invalid_record item.
  std::set<std::tuple<Side, std::string, std::string>> linked, reported;
  for (const Link& l : plan.links) linked.insert({l.side, l.source, l.remote_id});
  for (const ReviewItem& r : plan.review_items) {
    if (r.kind != ReviewKind::kInvalidRecord) continue;
    for (const SubjectRef& sub : r.subjects) reported.insert({sub.side, sub.source, sub.remote_id});
  }
  auto accounted = [&](Side side, const std::string& source, const std::string& remote_id) {
    return linked.count({side, source, remote_id}) > 0 ||
           reported.count(
               {side, detail::CleanCopy(source, 64), detail::CleanCopy(remote_id, 200)}) > 0;
  };
  for (const FinancePerson& f : s.finance) {
    EXPECT_TRUE(accounted(Side::kFinance, f.source, f.remote_id)) << f.remote_id;
  }
  for (const PortalUser& u : s.portal) {
    EXPECT_TRUE(accounted(Side::kPortal, u.source, u.remote_id)) << u.remote_id;
  }
  EXPECT_GT(reported.size(), 100u);
  // And the rules still hold on garbage: idempotence and order independence.
  State after = Apply(s, plan);
  Plan second;
  ASSERT_NO_THROW(second = Reconcile(after, Settings{"tenant-bad", 2}));
  EXPECT_TRUE(second.Empty()) << second.persons.size() << " persons, " << second.links.size()
                              << " links";
  ExpectSameItems(second.review_items, plan.review_items);
  std::mt19937_64 rng(GetParam());
  std::shuffle(s.finance.begin(), s.finance.end(), rng);
  std::shuffle(s.portal.begin(), s.portal.end(), rng);
  Plan shuffled = Reconcile(s, kRun);
  EXPECT_TRUE(shuffled.persons == plan.persons);
  EXPECT_TRUE(shuffled.links == plan.links);
  ExpectSameItems(shuffled.review_items, plan.review_items);
}

INSTANTIATE_TEST_SUITE_P(Seeds, BadInputFuzz, testing::Values(11u, 12u, 13u, 14u));

}  // namespace
}  // namespace concord::reconcile
