#include "generator.hpp"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "connectors/wire_time.hpp"
#include "renderings.hpp"

namespace concord::fake {
namespace {

namespace json = boost::json;

// SplitMix64: tiny, fast and identical everywhere, unlike <random>'s distributions.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (the modulo bias is negligible for the small n used here).
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }
  // True with probability per_mille / 1000.
  bool Chance(unsigned per_mille) { return Below(1000) < per_mille; }
  template <typename T, std::size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Below(N)];
  }

 private:
  std::uint64_t state_;
};

// An independent stream per (seed, kind, index), so each record is a function of its index.
Rng StreamFor(std::uint64_t seed, std::uint64_t kind, std::uint64_t index) {
  Rng mixer(seed ^ (kind * 0xD1B54A32D192ED03ULL));
  const std::uint64_t base = mixer.Next();
  return Rng(base ^ (index * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL));
}

constexpr std::uint64_t kContactStream = 1;
constexpr std::uint64_t kPortalOnlyStream = 2;
constexpr std::uint64_t kChangeStream = 3;
constexpr std::uint64_t kUserChangeStream = 4;
constexpr std::uint64_t kMyobStream = 5;

// MYOB's five Addresses per customer (GeneratorSettings::portable).
constexpr std::uint64_t kPortableAccountSize = 5;

std::string Uuid(Rng& rng) {
  const std::uint64_t hi = (rng.Next() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (rng.Next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  std::array<char, 37> buf{};
  std::snprintf(buf.data(), buf.size(), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return std::string(buf.data(), 36);
}

struct Name {
  std::string_view display;
  std::string_view ascii;  // for email local parts
};

constexpr std::array<Name, 40> kFirstNames = {{
    {"Mere", "mere"},
    {"Ari", "ari"},
    {"Zoë", "zoe"},
    {"José", "jose"},
    {"Søren", "soren"},
    {"Łukasz", "lukasz"},
    {"Aroha", "aroha"},
    {"Renée", "renee"},
    {"Björn", "bjorn"},
    {"Siân", "sian"},
    {"Olivia", "olivia"},
    {"Liam", "liam"},
    {"Amelia", "amelia"},
    {"Noah", "noah"},
    {"Isla", "isla"},
    {"Jack", "jack"},
    {"Charlotte", "charlotte"},
    {"Oliver", "oliver"},
    {"Hēmi", "hemi"},
    {"Ngaio", "ngaio"},
    {"Tama", "tama"},
    {"Priya", "priya"},
    {"Wei", "wei"},
    {"Hana", "hana"},
    {"Mateo", "mateo"},
    {"Chloé", "chloe"},
    {"François", "francois"},
    {"Anaïs", "anais"},
    {"Jürgen", "jurgen"},
    {"Māui", "maui"},
    {"Aaliyah", "aaliyah"},
    {"Ming", "ming"},
    {"Sakura", "sakura"},
    {"Oğuz", "oguz"},
    {"Dóra", "dora"},
    {"Grace", "grace"},
    {"Tomás", "tomas"},
    {"Ingrid", "ingrid"},
    {"Kahu", "kahu"},
    {"Eilidh", "eilidh"},
}};

constexpr std::array<Name, 32> kLastNames = {{
    {"Tane", "tane"},
    {"Ngata", "ngata"},
    {"Smith", "smith"},
    {"Williams", "williams"},
    {"Brown", "brown"},
    {"Wilson", "wilson"},
    {"Taylor", "taylor"},
    {"Nguyễn", "nguyen"},
    {"Müller", "muller"},
    {"García", "garcia"},
    {"O'Brien", "obrien"},
    {"Kowalski", "kowalski"},
    {"Søndergaard", "sondergaard"},
    {"Patel", "patel"},
    {"Chen", "chen"},
    {"Wang", "wang"},
    {"Singh", "singh"},
    {"Te Whata", "tewhata"},
    {"Parata", "parata"},
    {"Kereama", "kereama"},
    {"Thompson", "thompson"},
    {"Walker", "walker"},
    {"Martin", "martin"},
    {"Anderson", "anderson"},
    {"Lee", "lee"},
    {"Kim", "kim"},
    {"Fernández", "fernandez"},
    {"Dubois", "dubois"},
    {"Rossi", "rossi"},
    {"Ōkawa", "okawa"},
    {"Jensen", "jensen"},
    {"Henare", "henare"},
}};

constexpr std::array<std::string_view, 24> kCompanyWords = {
    "Harbour", "Lights", "Kauri", "Summit",  "Pacific", "Southern", "Cross",   "Tui",
    "Fern",    "Silver", "River", "Coastal", "Alpine",  "Totara",   "Beacon",  "Kiwi",
    "Matai",   "Ridge",  "Bay",   "Orchard", "Anchor",  "Meadow",   "Granite", "Harvest"};
constexpr std::array<std::string_view, 5> kCompanySuffixes = {"Ltd", "Limited", "Holdings Ltd",
                                                              "& Co", "Trust"};
constexpr std::array<std::string_view, 4> kPersonalDomains = {"mail.example", "inbox.example",
                                                              "post.example", "home.example"};
// IDN domains: finance has the U-label, the portal the A-label (wire-formats.md §5).
struct IdnDomain {
  std::string_view unicode;
  std::string_view ascii;
};
constexpr std::array<IdnDomain, 2> kIdnDomains = {
    {{"bücher.example", "xn--bcher-kva.example"}, {"straße.example", "xn--strae-oqa.example"}}};

constexpr reconcile::Millis kYear2026Start = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr reconcile::Millis kHalfYearMillis = 181LL * 86'400'000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// "mere.tane.12@harbourlights.example" → "Mere.Tane.12@Harbourlights.example".
std::string Capitalised(std::string_view s) {
  std::string out(s);
  bool start = true;
  for (char& c : out) {
    if (start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    start = (c == '.' || c == '@');
  }
  return out;
}

bool HasUpper(std::string_view s) {
  for (const char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// One finance person as the walk decides it, with its portal user (if any).
struct Person {
  std::uint64_t index = 0;  // position among all finance persons
  std::uint64_t human = 0;  // index of this human's first finance person
  std::string key;          // exact email key; empty: no email or an invalid one
  Name first;
  Name last;
  std::string email;         // as finance has it; may be empty or invalid
  bool reused = false;       // same human and email as an earlier person (second account)
  bool has_portal = false;   // a portal user mirrors this person
  std::string portal_email;  // the portal user's email, possibly a case/space/IDN variant
  bool portal_twin = false;  // a second portal user with the same email
  bool portal_active = true;
};

struct Account {
  std::uint64_t index = 0;
  bool company = false;
  std::string company_name;
  bool archived = false;
  std::vector<Person> persons;  // [0] is the main contact person
};

// Walks the accounts deterministically: the same settings give the same accounts, whether the
// caller emits contacts or users. `recent` holds the last persons with a valid email, for
// the "same parent on two family accounts" reuse.
class AccountWalk {
 public:
  explicit AccountWalk(const GeneratorSettings& settings) : settings_(settings) {}

  bool Next(Account& account) {
    if (emitted_ >= settings_.persons) return false;
    Rng rng = StreamFor(settings_.seed, kContactStream, index_);
    account = Account{};
    account.index = index_++;
    const std::uint64_t roll = rng.Below(100);
    std::uint64_t size = roll < 40 ? 1 : roll < 65 ? 2 : roll < 85 ? 3 : roll < 95 ? 4 : 6;
    account.company = size >= 3 || rng.Chance(300);
    if (settings_.portable) size = std::min<std::uint64_t>(size, kPortableAccountSize);
    account.archived = rng.Chance(30);
    std::string domain;
    if (account.company) {
      const std::string_view w1 = rng.Pick(kCompanyWords);
      std::string_view w2 = rng.Pick(kCompanyWords);
      if (w2 == w1) w2 = "Group";
      account.company_name =
          std::string(w1) + " " + std::string(w2) + " " + std::string(rng.Pick(kCompanySuffixes));
      domain = Lower(std::string(w1) + std::string(w2)) + ".example";
    }
    const Name family = rng.Pick(kLastNames);
    for (std::uint64_t i = 0; i < size && emitted_ < settings_.persons; ++i, ++emitted_) {
      account.persons.push_back(MakePerson(rng, account, family, domain));
    }
    return true;
  }

 private:
  Person MakePerson(Rng& rng, const Account& account, const Name& family,
                    const std::string& company_domain) {
    Person p;
    p.index = emitted_;
    p.human = emitted_;
    if (!recent_.empty() && rng.Chance(20) &&
        Reusable(account, recent_[rng.Below(recent_.size())])) {
      // The same human on a second account: same names, same email (maybe re-typed in another
      // case), no second portal user.
      const Person& earlier = *reuse_;
      p.first = earlier.first;
      p.last = earlier.last;
      p.email = rng.Chance(300) ? Capitalised(earlier.email) : earlier.email;
      p.human = earlier.human;
      p.key = earlier.key;
      p.reused = true;
      return p;
    }
    p.first = rng.Pick(kFirstNames);
    p.last = account.company ? rng.Pick(kLastNames) : family;
    while (settings_.portable && NameTaken(account, p.first, p.last)) {
      p.first = rng.Pick(kFirstNames);
    }
    const std::string local = std::string(p.first.ascii) + "." + std::string(p.last.ascii) + "." +
                              std::to_string(emitted_);
    std::string portal_domain;
    if (account.company) {
      p.email = local + "@" + company_domain;
      portal_domain = company_domain;
    } else if (rng.Chance(20)) {
      const IdnDomain& idn = rng.Pick(kIdnDomains);
      p.email = local + "@" + std::string(idn.unicode);
      portal_domain = idn.ascii;
    } else {
      p.email = local + "@" + std::string(rng.Pick(kPersonalDomains));
      portal_domain = p.email.substr(p.email.find('@') + 1);
    }
    const std::uint64_t quirk = rng.Below(1000);
    if (quirk < 10) {
      p.email.clear();  // no email on file
      return p;
    }
    if (quirk < 15) {
      if (settings_.portable) {
        // The top-level domain forgotten: invalid, yet with the '@' and '.' QBO insists on.
        const std::string domain = p.email.substr(p.email.find('@') + 1);
        p.email = local + "@" + domain.substr(0, domain.find('.'));
      } else {
        p.email = local + " at " + portal_domain;  // typed wrong: invalid
      }
      return p;
    }
    if (quirk < 215) p.email = Capitalised(p.email);
    // The local part is lower-case ASCII and portal_domain the A-label: the exact key as
    // DESIGN.md §5 defines it, known here without normalising anything.
    p.key = local + "@" + portal_domain;

    p.has_portal = rng.Chance(700);
    if (p.has_portal) {
      p.portal_email = local + "@" + portal_domain;
      const std::uint64_t variant = rng.Below(100);
      if (variant < 15) {
        p.portal_email = HasUpper(p.email) ? Lower(p.email) : Upper(p.portal_email);
        if (portal_domain != p.email.substr(p.email.find('@') + 1)) {
          // Keep the IDN case readable: only the local part changes case.
          p.portal_email = Upper(local) + "@" + portal_domain;
        }
      } else if (variant < 20) {
        p.portal_email = " " + p.portal_email + " ";
      }
      p.portal_twin = rng.Chance(10);
      p.portal_active = !rng.Chance(30);
    }
    recent_.push_back(p);
    if (recent_.size() > 64) recent_.pop_front();
    return p;
  }

  // Whether `earlier` may be reused on `account` (and if so remembers it in reuse_): always,
  // unless `portable` forbids the same human or the same name twice on one account.
  bool Reusable(const Account& account, const Person& earlier) {
    reuse_ = &earlier;
    if (!settings_.portable) return true;
    return !NameTaken(account, earlier.first, earlier.last) &&
           std::none_of(account.persons.begin(), account.persons.end(),
                        [&](const Person& q) { return q.human == earlier.human; });
  }

  static bool NameTaken(const Account& account, const Name& first, const Name& last) {
    return std::any_of(account.persons.begin(), account.persons.end(), [&](const Person& q) {
      return q.first.display == first.display && q.last.display == last.display;
    });
  }

  const GeneratorSettings& settings_;
  const Person* reuse_ = nullptr;
  std::uint64_t index_ = 0;
  std::uint64_t emitted_ = 0;
  std::deque<Person> recent_;
};

// The users `Generate` writes for one account's persons: a login per person with a portal user,
// and its twin.
std::uint64_t UsersOf(const Account& account) {
  std::uint64_t users = 0;
  for (const Person& p : account.persons) users += p.has_portal ? (p.portal_twin ? 2 : 1) : 0;
  return users;
}

std::uint64_t PortalOnlyUsers(const GeneratorSettings& settings) {
  return settings.persons * 3 / 10;
}

// Which finance persons (by index) and users (by position in output order) `changes` picks:
// K distinct ones of each, drawn from the seed alone (Floyd's algorithm: K draws, no shuffle of
// N), so the same settings change the same records everywhere.
class ChangeSet {
 public:
  explicit ChangeSet(const GeneratorSettings& settings) {
    if (settings.changes == 0) return;
    std::uint64_t users = PortalOnlyUsers(settings);
    AccountWalk walk(settings);
    Account account;
    while (walk.Next(account)) users += UsersOf(account);
    if (settings.changes > settings.persons || settings.changes > users) {
      throw std::invalid_argument("--changes " + std::to_string(settings.changes) +
                                  " is more than the tenant's " + std::to_string(settings.persons) +
                                  " finance persons or " + std::to_string(users) + " users");
    }
    persons_ = Pick(StreamFor(settings.seed, kChangeStream, 0), settings.changes, settings.persons);
    users_ = Pick(StreamFor(settings.seed, kUserChangeStream, 0), settings.changes, users);
  }

  [[nodiscard]] bool ChangesPerson(std::uint64_t index) const { return persons_.count(index) > 0; }
  [[nodiscard]] bool ChangesUser(std::uint64_t position) const {
    return users_.count(position) > 0;
  }

 private:
  static std::unordered_set<std::uint64_t> Pick(Rng rng, std::uint64_t k, std::uint64_t n) {
    std::unordered_set<std::uint64_t> picked;
    picked.reserve(k);
    for (std::uint64_t j = n - k; j < n; ++j) {
      const std::uint64_t t = rng.Below(j + 1);
      picked.insert(picked.count(t) > 0 ? j : t);
    }
    return picked;
  }

  std::unordered_set<std::uint64_t> persons_;
  std::unordered_set<std::uint64_t> users_;
};

// A changed family name that never equals the old one: double-barrelled, as after a marriage.
std::string ChangedFamilyName(Rng& rng, std::string_view family) {
  return std::string(family) + "-" + std::string(rng.Pick(kLastNames).display);
}

json::array AddressesFor(Rng& rng, const json::storage_ptr& sp) {
  constexpr std::array<std::string_view, 6> kStreets = {"Quay St", "Queen St",   "Lambton Quay",
                                                        "Cuba St", "Colombo St", "George St"};
  constexpr std::array<std::string_view, 5> kCities = {"Auckland", "Wellington", "Christchurch",
                                                       "Dunedin", "Tauranga"};
  json::object street(
      {{"AddressType", "STREET"},
       {"AddressLine1", std::to_string(1 + rng.Below(300)) + " " + std::string(rng.Pick(kStreets))},
       {"City", rng.Pick(kCities)},
       {"Region", ""},
       {"PostalCode", std::to_string(1000 + rng.Below(9000))},
       {"Country", "New Zealand"},
       {"AttentionTo", ""}},
      sp);
  json::object pobox(
      {{"AddressType", "POBOX"}, {"City", ""}, {"Region", ""}, {"PostalCode", ""}, {"Country", ""}},
      sp);
  json::array addresses(sp);
  addresses.push_back(std::move(street));
  addresses.push_back(std::move(pobox));
  return addresses;
}

json::array PhonesFor(Rng& rng, const json::storage_ptr& sp) {
  json::array phones(sp);
  for (const std::string_view type : {"DEFAULT", "DDI", "FAX", "MOBILE"}) {
    const bool filled = type == "DEFAULT";
    phones.push_back(
        json::object({{"PhoneType", type},
                      {"PhoneNumber", filled ? "555-0" + std::to_string(100 + rng.Below(900)) : ""},
                      {"PhoneAreaCode", filled ? "09" : ""},
                      {"PhoneCountryCode", filled ? "64" : ""}},
                     sp));
  }
  return phones;
}

// The contact for `account` as JSON, and what the generator knows about it in `truth`.
json::object ContactFor(const GeneratorSettings& settings, const ChangeSet& changes,
                        const Account& account, std::unordered_set<std::string>& names,
                        ContactTruth& truth, const json::storage_ptr& sp) {
  Rng rng = StreamFor(settings.seed ^ 0xC0FFEE, kContactStream, account.index);
  truth = ContactTruth{};
  truth.account_index = account.index;
  truth.company = account.company;
  truth.archived = account.archived;
  Rng myob = StreamFor(settings.seed, kMyobStream, account.index);
  truth.myob_uid = Uuid(myob);
  bool changed = false;
  for (const Person& p : account.persons) {
    FinancePersonTruth& t = truth.persons.emplace_back();
    t.index = p.index;
    t.human = p.human;
    t.email_key = p.key;
    t.email = p.email;
    t.given_name = p.first.display;
    t.family_name = p.last.display;
    if (changes.ChangesPerson(p.index)) {
      Rng change = StreamFor(settings.seed, kChangeStream, p.index + 1);
      t.family_name = ChangedFamilyName(change, p.last.display);
      changed = true;
    }
  }
  const Person& main = account.persons.front();
  const std::string account_number = "AC-" + std::to_string(100000 + account.index);
  std::string name = account.company
                         ? account.company_name
                         : std::string(main.first.display) + " " + std::string(main.last.display);
  if (!account.company && account.persons.size() > 1) {
    name = "The " + std::string(main.last.display) + " Family";
  }
  if (!names.insert(name).second) name += " (" + account_number + ")";
  truth.name = name;

  json::object c(sp);
  truth.contact_id = Uuid(rng);
  c["ContactID"] = truth.contact_id;
  c["ContactNumber"] = "CN-" + std::to_string(100000 + account.index);
  c["AccountNumber"] = account_number;
  c["ContactStatus"] = account.archived ? "ARCHIVED" : "ACTIVE";
  c["Name"] = name;
  c["FirstName"] = main.first.display;
  c["LastName"] = truth.persons.front().family_name;
  c["EmailAddress"] = main.email;
  json::array persons(sp);
  for (std::size_t i = 1; i < account.persons.size(); ++i) {
    const Person& p = account.persons[i];
    persons.push_back(json::object({{"FirstName", p.first.display},
                                    {"LastName", truth.persons[i].family_name},
                                    {"EmailAddress", p.email},
                                    {"IncludeInEmails", i == 1}},
                                   sp));
  }
  c["ContactPersons"] = std::move(persons);
  c["Addresses"] = AddressesFor(rng, sp);
  c["Phones"] = PhonesFor(rng, sp);
  c["IsSupplier"] = false;
  c["IsCustomer"] = true;
  truth.updated_at = kYear2026Start + static_cast<reconcile::Millis>(rng.Below(kHalfYearMillis));
  if (changed) {
    truth.updated_at = settings.changed_at;
    Rng change = StreamFor(settings.seed ^ 0xC0FFEE, kChangeStream, account.index);
    if (change.Chance(100)) {
      c["Phones"].as_array()[0].as_object()["PhoneNumber"] =
          "555-1" + std::to_string(100 + change.Below(900));
    }
  }
  c["UpdatedDateUTC"] = connectors::FormatXeroDate(truth.updated_at, true);
  c["ContactGroups"] = json::array(sp);
  c["HasAttachments"] = false;
  c["HasValidationErrors"] = false;
  return c;
}

// The SCIM user for `truth` (whose id it fills in), modified at `changed_at` when set.
json::object UserFor(Rng& rng, std::string_view external_id, std::string_view user_name,
                     std::string_view email, std::optional<reconcile::Millis> changed_at,
                     UserTruth& truth, const json::storage_ptr& sp) {
  truth.id = Uuid(rng);
  const std::string& id = truth.id;
  const reconcile::Millis created =
      kYear2026Start + static_cast<reconcile::Millis>(rng.Below(kHalfYearMillis / 2)) / 1000 * 1000;
  reconcile::Millis modified =
      created + static_cast<reconcile::Millis>(rng.Below(kHalfYearMillis / 2)) / 1000 * 1000;
  if (changed_at) modified = *changed_at;
  const std::string display = truth.given_name + " " + truth.family_name;
  json::array schemas({"urn:ietf:params:scim:schemas:core:2.0:User"}, sp);
  json::array emails(sp);
  emails.push_back(json::object({{"value", email}, {"type", "work"}, {"primary", true}}, sp));
  return json::object(
      {{"schemas", std::move(schemas)},
       {"id", id},
       {"externalId", external_id},
       {"userName", user_name},
       {"name", json::object({{"formatted", display},
                              {"givenName", truth.given_name},
                              {"familyName", truth.family_name}},
                             sp)},
       {"displayName", display},
       {"active", truth.active},
       {"emails", std::move(emails)},
       {"meta", json::object({{"resourceType", "User"},
                              {"created", connectors::FormatIsoDateTime(created)},
                              {"lastModified", connectors::FormatIsoDateTime(modified)},
                              {"location", "https://portal.example/scim/v2/Users/" + id},
                              {"version", "W/\"" + std::to_string(1 + rng.Below(9)) + "\""}},
                             sp)}},
      sp);
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

class DatasetSink : public RecordSink {
 public:
  DatasetSink(const GeneratorSettings& settings, DatasetBuilder& builder)
      : settings_(settings), builder_(builder) {}
  void Contact(const json::object& contact, const ContactTruth& truth) override {
    builder_.AddContact(contact, "generated contact");
    if (settings_.render_qbo) {
      for (const json::object& customer : QboCustomersFor(contact, truth)) {
        builder_.AddCustomer(customer, "generated QBO customer");
      }
    }
    if (settings_.render_myob) {
      builder_.AddMyobCustomer(MyobCustomerFor(contact, truth), "generated MYOB customer");
    }
  }
  void User(const json::object& user, const UserTruth&) override {
    builder_.AddUser(user, "generated user");
  }

 private:
  const GeneratorSettings& settings_;
  DatasetBuilder& builder_;
};

// Streams the records of one finance section of a data file ("customers" of qbo or myob) as a
// JSON array's elements; the caller writes the brackets.
class FinanceSectionSink : public RecordSink {
 public:
  FinanceSectionSink(bool myob, std::ostream& out) : myob_(myob), out_(out) {}
  void Contact(const json::object& contact, const ContactTruth& truth) override {
    if (myob_) {
      Write(MyobCustomerFor(contact, truth));
    } else {
      for (const json::object& customer : QboCustomersFor(contact, truth)) Write(customer);
    }
  }
  void User(const json::object& /*user*/, const UserTruth& /*truth*/) override {}

 private:
  void Write(const json::object& record) {
    out_ << (records_++ > 0 ? ",\n" : "\n") << json::serialize(record);
  }

  bool myob_;
  std::ostream& out_;
  std::uint64_t records_ = 0;
};

// MYOB holds at most five persons per customer: only a portable tenant fits.
void CheckRenderings(const GeneratorSettings& settings) {
  if (settings.render_myob && !settings.portable) {
    throw std::invalid_argument(
        "rendering the tenant as MYOB customers needs --portable: a MYOB customer holds at most 5 "
        "persons (five Addresses) and merges addresses that share an email");
  }
}

// Streams a data file: {"xero":{...,"contacts":[...]},"scim":{...,"users":[...]}}.
class DataFileSink : public RecordSink {
 public:
  DataFileSink(const GeneratorSettings& settings, std::ostream& out)
      : settings_(settings), out_(out) {
    out_ << R"({"xero":{"tenant_id":)" << json::serialize(json::string(settings_.tenant_id))
         << R"(,"access_token":)" << json::serialize(json::string(settings_.access_token))
         << ",\"contacts\":[\n";
  }
  void Contact(const json::object& contact, const ContactTruth&) override {
    out_ << (contacts_++ > 0 ? ",\n" : "") << json::serialize(contact);
  }
  void User(const json::object& user, const UserTruth&) override {
    if (users_ == 0) {
      out_ << "\n]},\n\"scim\":{\"token\":" << json::serialize(json::string(settings_.scim_token))
           << ",\"users\":[\n";
    }
    out_ << (users_++ > 0 ? ",\n" : "") << json::serialize(user);
  }
  void Finish() {
    if (users_ == 0) {
      out_ << "\n]},\n\"scim\":{\"token\":" << json::serialize(json::string(settings_.scim_token))
           << ",\"users\":[\n";
    }
    out_ << "\n]}";
  }

 private:
  const GeneratorSettings& settings_;
  std::ostream& out_;
  std::uint64_t contacts_ = 0;
  std::uint64_t users_ = 0;
};

}  // namespace

// Scratch memory for one record: JSON values are built in it and released all at once, which
// makes building a record nearly free of malloc/free.
class RecordArena {
 public:
  json::storage_ptr Fresh() {
    resource_.emplace(buffer_.data(), buffer_.size());
    return json::storage_ptr(&*resource_);
  }

 private:
  std::array<unsigned char, 16 * 1024> buffer_{};
  std::optional<json::monotonic_resource> resource_;
};

void Generate(const GeneratorSettings& settings, RecordSink& sink) {
  const ChangeSet changes(settings);
  RecordArena arena;
  {
    std::unordered_set<std::string> names;
    AccountWalk walk(settings);
    Account account;
    ContactTruth truth;
    while (walk.Next(account)) {
      // The record dies before the arena is reused.
      sink.Contact(ContactFor(settings, changes, account, names, truth, arena.Fresh()), truth);
    }
  }

  // Portal users mirroring finance persons, then their twins, then portal-only users.
  std::uint64_t external = 0;
  UserTruth truth;
  // The next user: its truth's human, key, activity and names are set by the caller.
  const auto emit = [&](Rng& rng, std::string_view user_name, std::string_view email) {
    std::optional<reconcile::Millis> changed_at;
    if (changes.ChangesUser(external)) {
      Rng change = StreamFor(settings.seed, kUserChangeStream, external + 1);
      truth.family_name = ChangedFamilyName(change, truth.family_name);
      changed_at = settings.changed_at;
    }
    const json::object user = UserFor(rng, "portal-" + std::to_string(++external), user_name, email,
                                      changed_at, truth, arena.Fresh());
    sink.User(user, truth);
  };
  AccountWalk walk(settings);
  Account account;
  while (walk.Next(account)) {
    Rng rng = StreamFor(settings.seed ^ 0x5C1A, kContactStream, account.index);
    for (const Person& p : account.persons) {
      if (!p.has_portal) continue;
      const std::string user_name = Trimmed(Lower(p.portal_email));
      truth = UserTruth{.human = p.human,
                        .email_key = p.key,
                        .active = p.portal_active,
                        .given_name = std::string(p.first.display),
                        .family_name = std::string(p.last.display)};
      emit(rng, user_name, p.portal_email);
      if (p.portal_twin) {
        // A second login for the same person, made by hand: same email, other userName.
        const std::string twin_name = user_name.substr(0, user_name.find('@')) + ".2";
        truth = UserTruth{.human = p.human,
                          .email_key = p.key,
                          .active = true,
                          .given_name = std::string(p.first.display),
                          .family_name = std::string(p.last.display)};
        emit(rng, twin_name, p.portal_email);
      }
    }
  }
  const std::uint64_t portal_only = PortalOnlyUsers(settings);
  for (std::uint64_t j = 0; j < portal_only; ++j) {
    Rng rng = StreamFor(settings.seed, kPortalOnlyStream, j);
    const Name& first = rng.Pick(kFirstNames);
    const Name& last = rng.Pick(kLastNames);
    const std::string email = std::string(first.ascii) + "." + std::string(last.ascii) + ".p" +
                              std::to_string(j) + "@" + std::string(rng.Pick(kPersonalDomains));
    // Drawn before the user's own fields, as it always was: the same seed gives the same bytes.
    const bool active = !rng.Chance(30);
    truth = UserTruth{.human = std::nullopt,
                      .email_key = email,
                      .active = active,
                      .given_name = std::string(first.display),
                      .family_name = std::string(last.display)};
    emit(rng, email, email);
  }
}

Dataset GenerateDataset(const GeneratorSettings& settings) {
  CheckRenderings(settings);
  DatasetBuilder builder;
  builder.SetXeroCredentials(settings.tenant_id, settings.access_token);
  builder.SetScimToken(settings.scim_token);
  if (settings.render_qbo) {
    builder.SetQboCredentials(settings.qbo_realm_id, settings.qbo_access_token);
  }
  if (settings.render_myob) {
    builder.SetMyobCompanyFile(settings.myob_company_file_id, settings.myob_api_key,
                               settings.myob_access_token, "");
  }
  DatasetSink sink(settings, builder);
  Generate(settings, sink);
  return std::move(builder).Finish();
}

void WriteGeneratedDataFile(const GeneratorSettings& settings, std::ostream& out) {
  CheckRenderings(settings);
  DataFileSink sink(settings, out);
  Generate(settings, sink);
  sink.Finish();
  // Each further dialect is a pass of its own: the generator is deterministic, and streaming
  // keeps a large tenant out of memory.
  if (settings.render_qbo) {
    out << ",\n\"qbo\":{\"realm_id\":" << json::serialize(json::string(settings.qbo_realm_id))
        << R"(,"access_token":)" << json::serialize(json::string(settings.qbo_access_token))
        << R"(,"customers":[)";
    FinanceSectionSink qbo(false, out);
    Generate(settings, qbo);
    out << "\n]}";
  }
  if (settings.render_myob) {
    out << ",\n\"myob\":{\"company_file_id\":"
        << json::serialize(json::string(settings.myob_company_file_id)) << R"(,"api_key":)"
        << json::serialize(json::string(settings.myob_api_key)) << R"(,"access_token":)"
        << json::serialize(json::string(settings.myob_access_token)) << R"(,"customers":[)";
    FinanceSectionSink myob(true, out);
    Generate(settings, myob);
    out << "\n]}";
  }
  out << "}\n";
}

}  // namespace concord::fake
