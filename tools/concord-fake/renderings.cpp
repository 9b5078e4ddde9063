#include "renderings.hpp"

#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdio>

#include "connectors/wire_time.hpp"

namespace concord::fake {
namespace {

namespace json = boost::json;

constexpr reconcile::Millis kDayMillis = 86'400'000;
// QBO writes its times in the company's (US Pacific) zone; standard time throughout keeps the
// fake simple, and the connector parses any offset.
constexpr reconcile::Millis kPacificOffsetMillis = -8 * 3'600'000LL;

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The contact's STREET address, or an empty object.
json::object StreetAddress(const json::object& contact) {
  if (const json::value* addresses = contact.if_contains("Addresses");
      addresses != nullptr && addresses->is_array()) {
    for (const json::value& a : addresses->get_array()) {
      if (a.is_object() && Text(a.get_object(), "AddressType") == "STREET") return a.get_object();
    }
  }
  return {};
}

// The contact's DEFAULT phone as one would type it ("09 555-0123"), or "".
std::string DefaultPhone(const json::object& contact) {
  if (const json::value* phones = contact.if_contains("Phones");
      phones != nullptr && phones->is_array()) {
    for (const json::value& p : phones->get_array()) {
      if (!p.is_object() || Text(p.get_object(), "PhoneType") != "DEFAULT") continue;
      const std::string number = Text(p.get_object(), "PhoneNumber");
      const std::string area = Text(p.get_object(), "PhoneAreaCode");
      return number.empty() || area.empty() ? number : area + " " + number;
    }
  }
  return {};
}

std::string QboTime(reconcile::Millis at) {
  return connectors::FormatIsoSeconds(at + kPacificOffsetMillis) + "-08:00";
}

// "2026-03-09T23:40:11.217": MYOB's LastModified, UTC without a zone.
std::string MyobTime(reconcile::Millis at) {
  std::array<char, 8> millis{};
  std::snprintf(millis.data(), millis.size(), ".%03d", static_cast<int>(at % 1000));
  return connectors::FormatIsoSeconds(at) + millis.data();
}

json::value OrNull(const std::string& text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

std::string PersonName(const FinancePersonTruth& person) {
  return person.given_name + " " + person.family_name;
}

// An RFC 4180 field: quoted when it holds a delimiter, a quote, a line end or edge spaces.
std::string CsvField(std::string_view text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

class CsvSink final : public RecordSink {
 public:
  explicit CsvSink(std::ostream& out) : out_(out) {}
  void Contact(const json::object& contact, const ContactTruth& truth) override {
    out_ << CsvRowsFor(contact, truth);
  }
  void User(const json::object& /*user*/, const UserTruth& /*truth*/) override {}

 private:
  std::ostream& out_;
};

}  // namespace

std::string QboCustomerId(const FinancePersonTruth& person) {
  return std::to_string(person.index + 1);
}

std::vector<json::object> QboCustomersFor(const json::object& contact, const ContactTruth& truth) {
  std::vector<json::object> customers;
  const FinancePersonTruth& main = truth.persons.front();
  const std::string parent_id = QboCustomerId(main);
  const std::string account_number = Text(contact, "AccountNumber");
  const json::object meta{
      {"CreateTime", QboTime(truth.updated_at - kDayMillis * static_cast<reconcile::Millis>(
                                                                 1 + truth.account_index % 300))},
      {"LastUpdatedTime", QboTime(truth.updated_at)}};
  for (std::size_t i = 0; i < truth.persons.size(); ++i) {
    const FinancePersonTruth& p = truth.persons[i];
    // DisplayName is unique across customers: a sub-customer's names its place on the account.
    const std::string display =
        i == 0 ? truth.name : PersonName(p) + " (" + account_number + "/" + std::to_string(i) + ")";
    json::object c{{"Id", QboCustomerId(p)},
                   {"SyncToken", "0"},
                   {"domain", "QBO"},
                   {"sparse", false},
                   {"DisplayName", display},
                   {"GivenName", p.given_name},
                   {"FamilyName", p.family_name}};
    if (truth.company) c["CompanyName"] = truth.name;
    if (!p.email.empty()) c["PrimaryEmailAddr"] = json::object{{"Address", p.email}};
    if (i == 0) {
      if (const std::string phone = DefaultPhone(contact); !phone.empty()) {
        c["PrimaryPhone"] = json::object{{"FreeFormNumber", phone}};
      }
      const json::object street = StreetAddress(contact);
      c["BillAddr"] = json::object{{"Id", std::to_string(truth.account_index + 1)},
                                   {"Line1", Text(street, "AddressLine1")},
                                   {"City", Text(street, "City")},
                                   {"PostalCode", Text(street, "PostalCode")},
                                   {"Country", "NZ"}};
    }
    c["Active"] = !truth.archived;
    c["Job"] = i > 0;
    c["BillWithParent"] = i > 0;
    if (i > 0) {
      c["ParentRef"] = json::object{{"value", parent_id}, {"name", truth.name}};
      c["Level"] = 1;
    }
    c["Balance"] = 0;
    c["BalanceWithJobs"] = 0;
    c["CurrencyRef"] = json::object{{"value", "NZD"}, {"name", "New Zealand Dollar"}};
    c["FullyQualifiedName"] = i == 0 ? truth.name : truth.name + ":" + display;
    c["PrintOnCheckName"] = truth.company ? truth.name : PersonName(p);
    c["MetaData"] = meta;
    customers.push_back(std::move(c));
  }
  return customers;
}

json::object MyobCustomerFor(const json::object& contact, const ContactTruth& truth) {
  const FinancePersonTruth& main = truth.persons.front();
  const bool individual = !truth.company && truth.persons.size() == 1;
  const json::object street = StreetAddress(contact);
  json::array addresses;
  for (std::size_t i = 0; i < truth.persons.size(); ++i) {
    const FinancePersonTruth& p = truth.persons[i];
    const bool first = i == 0;
    addresses.push_back(
        json::object{{"Location", static_cast<std::int64_t>(i + 1)},
                     {"Street", first ? Text(street, "AddressLine1") : ""},
                     {"City", first ? Text(street, "City") : ""},
                     {"State", ""},
                     {"PostCode", first ? Text(street, "PostalCode") : ""},
                     {"Country", first ? "New Zealand" : ""},
                     {"Phone1", first ? OrNull(DefaultPhone(contact)) : json::value(nullptr)},
                     {"Phone2", nullptr},
                     {"Phone3", nullptr},
                     {"Fax", nullptr},
                     {"Email", OrNull(p.email)},
                     {"Website", nullptr},
                     {"ContactName", PersonName(p)},
                     {"Salutation", ""}});
  }
  std::array<char, 16> display_id{};
  std::snprintf(display_id.data(), display_id.size(), "CUS%06llu",
                static_cast<unsigned long long>((truth.account_index + 1) % 1'000'000));
  return json::object{
      {"UID", truth.myob_uid},
      {"DisplayID", display_id.data()},
      {"CompanyName", individual ? json::value(nullptr) : json::value(truth.name)},
      {"FirstName", individual ? json::value(main.given_name) : json::value(nullptr)},
      {"LastName", individual ? json::value(main.family_name) : json::value(nullptr)},
      {"IsIndividual", individual},
      {"IsActive", !truth.archived},
      {"Addresses", std::move(addresses)},
      {"Notes", ""},
      {"CurrentBalance", 0},
      {"LastModified", MyobTime(truth.updated_at)},
      {"RowVersion", std::to_string(7305512281843466240ULL + truth.account_index)}};
}

std::string CsvPersonId(const FinancePersonTruth& person) {
  return "P" + std::to_string(person.index + 1);
}

std::string CsvAccountId(const ContactTruth& truth) {
  return "AC-" + std::to_string(100000 + truth.account_index);
}

std::string CsvRowsFor(const json::object& contact, const ContactTruth& truth) {
  std::string rows;
  const std::string account_id = CsvField(CsvAccountId(truth));
  const std::string account_name = CsvField(truth.name);
  const std::string status = truth.archived ? "archived" : "active";
  const std::string updated_at = connectors::FormatIsoDateTime(truth.updated_at);
  for (std::size_t i = 0; i < truth.persons.size(); ++i) {
    const FinancePersonTruth& p = truth.persons[i];
    rows += account_id + "," + account_name + "," + CsvField(CsvPersonId(p)) + "," +
            CsvField(p.given_name) + "," + CsvField(p.family_name) + "," + CsvField(p.email) +
            ",," + CsvField(i == 0 ? DefaultPhone(contact) : "") + "," + status + "," + updated_at +
            "\r\n";
  }
  return rows;
}

void WriteGeneratedCsv(const GeneratorSettings& settings, std::ostream& out) {
  out << "\xEF\xBB\xBF" << kGeneratedCsvHeader << "\r\n";
  CsvSink sink(out);
  Generate(settings, sink);
}

}  // namespace concord::fake
