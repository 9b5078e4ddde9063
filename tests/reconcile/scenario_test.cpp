// Golden scenarios: each file under scenarios/ is a story in runs. A run gives the source
// records as stored at that sync (the whole set, not a delta) and what the canonical state
// must be after it: persons (by the records they hold, never by id), links, review items and
// counts. The format is described in scenarios/README.md. After the last run every scenario
// also checks idempotence (a second plan is empty) and order independence.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "reconcile/reconcile.hpp"

namespace concord::reconcile {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kDir = fs::path(CONCORD_RECONCILE_TESTDATA) / "scenarios";

std::string Text(const json::object& o, std::string_view key, std::string fallback = {}) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : fallback;
}

std::vector<std::string> Texts(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const json::value* v = o.if_contains(key); v != nullptr && v->is_array()) {
    for (const json::value& e : v->get_array()) out.emplace_back(e.as_string());
  }
  return out;
}

// "finance:c1" / "portal:u1": a record by side and remote id.
std::string RecordName(Side side, const std::string& remote_id) {
  return std::string(ToString(side)) + ":" + remote_id;
}

FinancePerson ParseFinance(const json::object& o) {
  FinancePerson f;
  f.source = Text(o, "source", "xero");
  f.remote_id = Text(o, "id");
  f.account_id = Text(o, "account", "acct-" + f.remote_id);
  f.account_name = Text(o, "account_name");
  f.given_name = Text(o, "given");
  f.family_name = Text(o, "family");
  f.email = Text(o, "email");
  f.email2 = Text(o, "email2");
  f.status = ParseLinkStatus(Text(o, "status", "active")).value();
  if (const json::value* v = o.if_contains("updated")) f.updated_at = v->to_number<Millis>();
  return f;
}

PortalUser ParsePortal(const json::object& o) {
  PortalUser u;
  u.source = Text(o, "source", "scim");
  u.remote_id = Text(o, "id");
  u.user_name = Text(o, "user_name", u.remote_id);
  u.email = Text(o, "email");
  u.given_name = Text(o, "given");
  u.family_name = Text(o, "family");
  u.display_name = Text(o, "display");
  if (const json::value* v = o.if_contains("active")) u.active = v->as_bool();
  if (const json::value* v = o.if_contains("deleted")) u.deleted = v->as_bool();
  if (const json::value* v = o.if_contains("updated")) u.updated_at = v->to_number<Millis>();
  u.groups = Texts(o, "groups");
  u.entitlements = Texts(o, "entitlements");
  return u;
}

// The records each live person holds, by person id.
std::map<std::string, std::set<std::string>> RecordsByPerson(const State& s) {
  std::map<std::string, std::set<std::string>> out;
  for (const Link& l : s.links) out[l.person_id].insert(RecordName(l.side, l.remote_id));
  return out;
}

std::string Join(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : " ") + n;
  return "[" + out + "]";
}

void CheckPersons(const json::array& expected, const State& s, const std::string& where) {
  std::map<std::string, const Person*> persons;
  for (const Person& p : s.persons) persons[p.id] = &p;
  std::map<std::set<std::string>, const Person*> live;
  for (const auto& [id, records] : RecordsByPerson(s)) {
    const Person* p = persons.at(id);
    EXPECT_FALSE(p->merged_into.has_value()) << where << ": link to merged person " << id;
    live[records] = p;
  }
  std::set<std::set<std::string>> listed;
  for (const json::value& v : expected) {
    const json::object& e = v.as_object();
    std::vector<std::string> names = Texts(e, "records");
    std::set<std::string> records(names.begin(), names.end());
    listed.insert(records);
    auto it = live.find(records);
    if (it == live.end()) {
      ADD_FAILURE() << where << ": no person holds exactly " << Join(records);
      continue;
    }
    const Person& p = *it->second;
    const std::string who = where + ", person " + Join(records);
    if (const json::value* email = e.if_contains("email")) {
      EXPECT_EQ(p.email,
                email->is_null() ? std::nullopt : std::optional<std::string>(email->as_string()))
          << who;
    }
    if (e.contains("given")) {
      EXPECT_EQ(p.given_name, Text(e, "given")) << who;
    }
    if (e.contains("family")) {
      EXPECT_EQ(p.family_name, Text(e, "family")) << who;
    }
    if (e.contains("display")) {
      EXPECT_EQ(p.display_name, Text(e, "display")) << who;
    }
    if (e.contains("status")) {
      EXPECT_EQ(ToString(p.status), Text(e, "status")) << who;
    }
    if (e.contains("origin")) {
      EXPECT_EQ(ToString(p.origin), Text(e, "origin")) << who;
    }
    if (e.contains("merged_from")) {
      EXPECT_EQ(p.merged_from.size(), e.at("merged_from").to_number<std::size_t>()) << who;
    }
    if (const json::value* m = e.if_contains("memberships")) {
      std::vector<std::string> want, got;
      for (const json::value& entry : m->as_array()) want.emplace_back(entry.as_string());
      for (const Membership& ms : p.memberships) {
        got.push_back(std::string(ToString(ms.side)) + ":" + ms.source + ":" + ms.account_id +
                      (ms.account_name == ms.account_id || ms.account_name.empty()
                           ? ""
                           : " (" + ms.account_name + ")"));
      }
      EXPECT_EQ(got, want) << who;
    }
  }
  for (const auto& [records, p] : live) {
    if (listed.count(records) == 0) {
      ADD_FAILURE() << where << ": unexpected person " << Join(records) << " ("
                    << p->email.value_or("no email") << ")";
    }
  }
}

void CheckLinks(const json::array& expected, const State& s, const std::string& where) {
  for (const json::value& v : expected) {
    const json::object& e = v.as_object();
    const std::string record = Text(e, "record");
    const Link* link = nullptr;
    for (const Link& l : s.links) {
      if (RecordName(l.side, l.remote_id) == record) link = &l;
    }
    if (link == nullptr) {
      ADD_FAILURE() << where << ": no link for " << record;
      continue;
    }
    const std::string who = where + ", link of " + record;
    if (e.contains("rule")) {
      EXPECT_EQ(ToString(link->rule), Text(e, "rule")) << who;
    }
    if (e.contains("status")) {
      EXPECT_EQ(ToString(link->status), Text(e, "status")) << who;
    }
    if (e.contains("evidence")) {
      EXPECT_EQ(link->evidence, Text(e, "evidence")) << who;
    }
    if (e.contains("permissions")) {
      EXPECT_EQ(link->permissions, Texts(e, "permissions")) << who;
    }
  }
}

void CheckReview(const json::array& expected, const Plan& plan, const std::string& where) {
  std::multiset<std::string> want, got;
  std::map<std::string, std::string> reason_of;
  for (const ReviewItem& r : plan.review_items) {
    std::set<std::string> subjects;
    for (const SubjectRef& s : r.subjects) subjects.insert(RecordName(s.side, s.remote_id));
    std::string item = std::string(ToString(r.kind)) + " " + Join(subjects);
    got.insert(item);
    reason_of[item] = r.reason;
  }
  std::vector<std::pair<std::string, std::string>> contains;
  for (const json::value& v : expected) {
    const json::object& e = v.as_object();
    std::vector<std::string> names = Texts(e, "subjects");
    std::string item =
        Text(e, "kind") + " " + Join(std::set<std::string>(names.begin(), names.end()));
    want.insert(item);
    if (e.contains("reason_contains")) contains.emplace_back(item, Text(e, "reason_contains"));
  }
  EXPECT_EQ(got, want) << where;
  for (const auto& [item, part] : contains) {
    EXPECT_NE(reason_of[item].find(part), std::string::npos)
        << where << ": " << item << " reason: " << reason_of[item];
  }
}

void CheckCounts(const json::object& expected, const Plan& plan, const std::string& where) {
  const std::map<std::string, std::int64_t> counts = {{"created", plan.counts.created},
                                                      {"updated", plan.counts.updated},
                                                      {"linked", plan.counts.linked},
                                                      {"merged", plan.counts.merged},
                                                      {"deactivated", plan.counts.deactivated}};
  for (const auto& [name, value] : expected) {
    EXPECT_EQ(counts.at(std::string(name)), value.to_number<std::int64_t>())
        << where << ": " << name;
  }
}

// keep_separate entries name each person by one record it holds.
void AddKeepSeparate(const json::array& pairs, State& s) {
  std::map<std::string, std::string> person_of;
  for (const Link& l : s.links) person_of[RecordName(l.side, l.remote_id)] = l.person_id;
  for (const json::value& v : pairs) {
    const json::array& pair = v.as_array();
    s.keep_separate.push_back({person_of.at(std::string(pair.at(0).as_string())),
                               person_of.at(std::string(pair.at(1).as_string()))});
  }
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().stem().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Scenario : public testing::TestWithParam<std::string> {};

TEST_P(Scenario, RunsAsWritten) {
  std::ifstream in(kDir / (GetParam() + ".json"));
  std::stringstream text;
  text << in.rdbuf();
  const json::object doc = json::parse(text.str()).as_object();
  ASSERT_FALSE(Text(doc, "description").empty()) << "every scenario says what it shows";
  Settings settings{"tenant-golden", 0};
  if (doc.contains("loose_domains")) settings.loose.loose_domains = Texts(doc, "loose_domains");
  if (doc.contains("plus_domains")) settings.loose.plus_domains = Texts(doc, "plus_domains");

  State state;
  const json::array& runs = doc.at("runs").as_array();
  ASSERT_FALSE(runs.empty());
  for (std::size_t n = 0; n < runs.size(); ++n) {
    const json::object& run = runs[n].as_object();
    const std::string where = GetParam() + " run " + std::to_string(n + 1);
    state.finance.clear();
    state.portal.clear();
    if (const json::value* f = run.if_contains("finance")) {
      for (const json::value& r : f->as_array())
        state.finance.push_back(ParseFinance(r.as_object()));
    }
    if (const json::value* p = run.if_contains("portal")) {
      for (const json::value& r : p->as_array()) state.portal.push_back(ParsePortal(r.as_object()));
    }
    if (const json::value* k = run.if_contains("keep_separate"))
      AddKeepSeparate(k->as_array(), state);
    settings.run_id = static_cast<std::int64_t>(n + 1);
    Plan plan = Reconcile(state, settings);
    state = Apply(state, plan);
    const json::object& expect = run.at("expect").as_object();
    if (const json::value* v = expect.if_contains("persons"))
      CheckPersons(v->as_array(), state, where);
    if (const json::value* v = expect.if_contains("links")) CheckLinks(v->as_array(), state, where);
    CheckReview(expect.contains("review") ? expect.at("review").as_array() : json::array(), plan,
                where);
    if (const json::value* v = expect.if_contains("counts"))
      CheckCounts(v->as_object(), plan, where);
  }
  // Every scenario: a second plan changes nothing, and the order of records does not matter.
  Plan again = Reconcile(state, Settings{"tenant-golden", 99, settings.loose});
  EXPECT_TRUE(again.Empty()) << GetParam() << ": a second plan changes something";
  State reversed = state;
  std::reverse(reversed.finance.begin(), reversed.finance.end());
  std::reverse(reversed.portal.begin(), reversed.portal.end());
  std::reverse(reversed.links.begin(), reversed.links.end());
  std::reverse(reversed.persons.begin(), reversed.persons.end());
  EXPECT_TRUE(Reconcile(reversed, Settings{"tenant-golden", 99, settings.loose}).Empty());
}

INSTANTIATE_TEST_SUITE_P(Golden, Scenario, testing::ValuesIn(ScenarioFiles()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(ScenarioFiles, OnePerRuleAtLeast) {
  std::vector<std::string> files = ScenarioFiles();
  for (int rule = 1; rule <= 8; ++rule) {
    std::string prefix = "rule" + std::to_string(rule) + "_";
    EXPECT_TRUE(std::any_of(files.begin(), files.end(),
                            [&](const std::string& f) { return f.rfind(prefix, 0) == 0; }))
        << "no scenario for rule " << rule;
  }
}

}  // namespace
}  // namespace concord::reconcile
