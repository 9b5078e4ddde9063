#include "expected.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "renderings.hpp"

namespace concord::fake {
namespace {

namespace json = boost::json;

constexpr std::string_view kActive = "active";

// A finance record's claim on its person's names. Survivorship (DESIGN.md §5) among the finance
// records of one human: active over archived, then the most recently updated, then the smaller
// (source, remote id); portal records never win while a finance one exists.
struct NameCandidate {
  bool active = false;
  reconcile::Millis updated_at = 0;
  std::string remote_id;
  std::string given_name;
  std::string family_name;

  [[nodiscard]] bool Outranks(const NameCandidate& other) const {
    if (active != other.active) return active;
    if (updated_at != other.updated_at) return updated_at > other.updated_at;
    return remote_id < other.remote_id;
  }
};

struct ExpectedPerson {
  PersonProjection projection;
  std::optional<NameCandidate> names;  // finance persons: the best record so far
};

// The logins of one finance human, held until every user is known: whether they link to the
// human's person depends on how many of them are active (rule 3).
struct HumanLogins {
  std::vector<UserTruth> users;
  std::uint64_t active = 0;
};

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

void AppendLinks(const json::object& exported, std::string_view key, std::string_view side,
                 std::vector<PersonProjection::Link>& out) {
  const json::value* links = exported.if_contains(key);
  if (links == nullptr || !links->is_array()) return;
  for (const json::value& link : links->get_array()) {
    if (!link.is_object()) continue;
    const json::object& l = link.get_object();
    out.push_back({std::string(side), Text(l, "source"), Text(l, "remote_id"), Text(l, "rule"),
                   Text(l, "status")});
  }
}

// The remote ids connectors/xero.hpp gives the persons of a contact: the main person by
// ContactID, each ContactPersons[] entry by its key, or by its index when it has no usable
// email or repeats a key already used on the contact (the same human twice on one account).
std::vector<std::string> XeroRemoteIds(const ContactTruth& truth) {
  std::vector<std::string> ids;
  std::unordered_set<std::string_view> used_keys;
  for (std::size_t i = 0; i < truth.persons.size(); ++i) {
    const FinancePersonTruth& t = truth.persons[i];
    const bool first_use = !t.email_key.empty() && used_keys.insert(t.email_key).second;
    std::string remote_id = truth.contact_id;
    if (i > 0) {
      remote_id += "/persons/";
      remote_id += first_use ? t.email_key : "#" + std::to_string(i - 1);
    }
    ids.push_back(std::move(remote_id));
  }
  return ids;
}

// The remote ids connectors/myob.hpp gives the persons of the customer renderings.hpp makes:
// the first address's person by UID, each further one by its key, or by its Location without
// a valid email. One person per address holds for a portable tenant only.
std::vector<std::string> MyobRemoteIds(const ContactTruth& truth) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < truth.persons.size(); ++i) {
    const FinancePersonTruth& t = truth.persons[i];
    std::string remote_id = truth.myob_uid;
    if (i > 0) {
      remote_id += "/persons/";
      remote_id += !t.email_key.empty() ? t.email_key : "#" + std::to_string(i + 1);
    }
    ids.push_back(std::move(remote_id));
  }
  return ids;
}

class NamesSink final : public RecordSink {
 public:
  explicit NamesSink(std::string_view kind) : kind_(kind) {
    if (kind_ != "xero" && kind_ != "qbo" && kind_ != "myob" && kind_ != "csv") {
      throw std::invalid_argument("no finance kind \"" + std::string(kind) + "\"");
    }
  }

  void Contact(const json::object& /*contact*/, const ContactTruth& truth) override {
    std::vector<std::string> ids;
    std::string account;
    if (kind_ == "xero") {
      ids = XeroRemoteIds(truth);
      account = truth.contact_id;
    } else if (kind_ == "myob") {
      ids = MyobRemoteIds(truth);
      account = truth.myob_uid;
    } else {
      const bool qbo = kind_ == "qbo";
      for (const FinancePersonTruth& t : truth.persons) {
        ids.push_back(qbo ? QboCustomerId(t) : CsvPersonId(t));
      }
      account = qbo ? QboCustomerId(truth.persons.front()) : CsvAccountId(truth);
    }
    names_.accounts.emplace(std::move(account), "account " + std::to_string(truth.account_index));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      names_.persons.emplace(std::move(ids[i]), "person " + std::to_string(truth.persons[i].index));
    }
  }
  void User(const json::object& /*user*/, const UserTruth& /*truth*/) override {}

  [[nodiscard]] CanonicalFinanceNames Names() && { return std::move(names_); }

 private:
  std::string kind_;
  CanonicalFinanceNames names_;
};

// Applies DESIGN.md §5 to the generator's truth, record by record.
class ExpectedSink final : public RecordSink {
 public:
  void Contact(const json::object& /*contact*/, const ContactTruth& truth) override {
    std::vector<std::string> remote_ids = XeroRemoteIds(truth);
    for (std::size_t i = 0; i < truth.persons.size(); ++i) {
      const FinancePersonTruth& t = truth.persons[i];
      const bool has_key = !t.email_key.empty();
      std::string& remote_id = remote_ids[i];
      // Rule 2: one human's finance records are one person; a record without a usable email
      // (none, or invalid: it never matches) is a person of its own.
      ExpectedPerson& person = has_key ? humans_[t.human] : no_email_.emplace_back();
      PersonProjection& p = person.projection;
      p.origin = "finance";
      if (has_key) p.email = t.email_key;
      // Rule 7: an archived contact's persons keep their links, with status archived.
      const std::string status = truth.archived ? "archived" : "active";
      p.links.push_back(
          {"finance", "xero", remote_id, has_key ? "email_exact" : "no_email", status});
      NameCandidate candidate{!truth.archived, truth.updated_at, std::move(remote_id), t.given_name,
                              t.family_name};
      if (!person.names || candidate.Outranks(*person.names)) person.names = std::move(candidate);
    }
  }

  void User(const json::object& /*user*/, const UserTruth& truth) override {
    if (truth.human) {
      HumanLogins& logins = logins_[*truth.human];
      logins.active += truth.active ? 1 : 0;
      logins.users.push_back(truth);
    } else {
      AddPortalPerson(truth);  // rule 5: nobody in finance has its email
    }
  }

  [[nodiscard]] std::vector<std::string> Lines() && {
    for (auto& [human, logins] : logins_) {
      // Rule 3: two or more active logins of one human are linked by email to nobody; each
      // keeps a person of its own. Otherwise (rule 4) every login of the human, active or not,
      // joins the human's finance person, even when its finance records are all archived.
      const bool duplicates = logins.active >= 2;
      for (const UserTruth& user : logins.users) {
        if (duplicates) {
          AddPortalPerson(user);
        } else {
          humans_.at(human).projection.links.push_back(
              {"portal", "scim", user.id, "email_exact", PortalLinkStatus(user)});
        }
      }
    }
    std::vector<std::string> lines;
    lines.reserve(humans_.size() + no_email_.size() + portal_.size());
    const auto finish = [&](ExpectedPerson& person) {
      PersonProjection& p = person.projection;
      if (person.names) {
        p.given_name = std::move(person.names->given_name);
        p.family_name = std::move(person.names->family_name);
      }
      // Rule 8: a person lives while one of its links is active.
      const bool active = std::any_of(p.links.begin(), p.links.end(),
                                      [](const auto& l) { return l.status == kActive; });
      p.status = active ? "active" : "inactive";
      lines.push_back(ProjectionLine(std::move(p)));
    };
    for (auto& [human, person] : humans_) finish(person);
    for (ExpectedPerson& person : no_email_) finish(person);
    for (ExpectedPerson& person : portal_) finish(person);
    std::sort(lines.begin(), lines.end());
    return lines;
  }

 private:
  // An inactive login's link is archived, as an archived finance record's is.
  static std::string PortalLinkStatus(const UserTruth& user) {
    return user.active ? "active" : "archived";
  }

  void AddPortalPerson(const UserTruth& user) {
    PersonProjection& p = portal_.emplace_back().projection;
    p.email = user.email_key;
    p.origin = "portal";
    p.given_name = user.given_name;
    p.family_name = user.family_name;
    p.links.push_back({"portal", "scim", user.id, "portal_origin", PortalLinkStatus(user)});
  }

  std::unordered_map<std::uint64_t, ExpectedPerson> humans_;
  std::vector<ExpectedPerson> no_email_;
  std::vector<ExpectedPerson> portal_;
  std::unordered_map<std::uint64_t, HumanLogins> logins_;
};

}  // namespace

std::string ProjectionLine(PersonProjection person) {
  std::sort(person.links.begin(), person.links.end());
  json::array links;
  for (const PersonProjection::Link& l : person.links) {
    links.push_back(json::object{{"side", l.side},
                                 {"source", l.source},
                                 {"remote_id", l.remote_id},
                                 {"rule", l.rule},
                                 {"status", l.status}});
  }
  return json::serialize(
      json::object{{"email", person.email ? json::value(*person.email) : json::value(nullptr)},
                   {"status", person.status},
                   {"origin", person.origin},
                   {"given_name", person.given_name},
                   {"family_name", person.family_name},
                   {"links", std::move(links)}});
}

PersonProjection ProjectExportedPerson(const json::object& exported) {
  PersonProjection p;
  if (const json::value* email = exported.if_contains("email"); email && email->is_string()) {
    p.email = std::string(email->get_string());
  }
  p.status = Text(exported, "status");
  p.origin = Text(exported, "origin");
  p.given_name = Text(exported, "given_name");
  p.family_name = Text(exported, "family_name");
  AppendLinks(exported, "finance", "finance", p.links);
  AppendLinks(exported, "portal", "portal", p.links);
  return p;
}

std::vector<std::string> ExpectedProjection(const GeneratorSettings& settings) {
  ExpectedSink sink;
  Generate(settings, sink);
  return std::move(sink).Lines();
}

void WriteExpectedProjection(const GeneratorSettings& settings, std::ostream& out) {
  for (const std::string& line : ExpectedProjection(settings)) out << line << '\n';
}

CanonicalFinanceNames FinanceNamesFor(const GeneratorSettings& settings, std::string_view kind) {
  NamesSink sink(kind);
  Generate(settings, sink);
  return std::move(sink).Names();
}

}  // namespace concord::fake
