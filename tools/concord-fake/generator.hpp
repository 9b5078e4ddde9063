#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "reconcile/model.hpp"

// A deterministic generator of a realistic tenant: the same settings give the same bytes on
// every platform (it uses its own SplitMix64, not <random>'s distributions).
//
// Shape for `persons` = N: N finance persons spread over Xero contacts (one main person plus
// 0-5 ContactPersons each, companies and families); about 3% of contacts ARCHIVED; about 1% of
// persons without an email and 0.5% with an invalid one; about 2% of persons reuse an earlier
// person's email (the same parent on two family accounts); some emails in mixed case and some
// on an IDN domain. About 70% of the finance persons with an email have a portal (SCIM) user,
// 15% of those with a case variant of the email and 5% padded with white space (the IDN ones
// with the A-label domain); 0.3 N portal-only users; about 1% of portal users have a twin with
// the same email (duplicate portal users); about 3% inactive. Names include non-ASCII letters.
// Timestamps fall in the first half of 2026.
//
// With `changes` = K, the same tenant is generated with K finance persons and K portal users
// changed, as the incremental benchmark needs: each gets a new (double-barrelled) family name,
// about one changed contact in ten a new phone number, and their contacts' UpdatedDateUTC and
// the users' meta.lastModified become `changed_at`. Emails and statuses never change, so no
// change merges or splits a person. Which ones change is a function of the seed alone.
//
// With `portable`, the tenant keeps to what every finance kind can hold, so the same truth can
// be served as Xero contacts, QBO customers, MYOB customers and a CSV file and must give the
// same persons (tests/e2e/finance_kinds_e2e_test.cpp). The constraints, each a limit of a
// vendor, not a simplification: at most 5 persons per account (a MYOB customer has five
// Addresses); never the same human twice on one account and never two persons with the same
// name on one account (MYOB's connector reads addresses that share an email, or lack one and
// share a ContactName, as one person, while Xero's ContactPersons stay separate records); an
// invalid email still contains '@' and '.' ("mere.tane.12@bücher", a forgotten top-level
// domain: QBO refuses a PrimaryEmailAddr without them). Without `portable` the bytes are
// exactly those of earlier versions, for the benchmark's sake.
namespace concord::fake {

struct GeneratorSettings {
  std::uint64_t persons = 0;
  std::uint64_t seed = 1;
  std::uint64_t changes = 0;         // at most `persons`, and at most the number of users
  reconcile::Millis changed_at = 0;  // later than every generated timestamp (2026-07-01)
  std::string tenant_id = "b5a3c1d2-0000-4000-8000-000000000001";
  std::string access_token = "demo-xero-token";
  std::string scim_token = "demo-portal-token";
  bool portable = false;  // keep to what every finance kind can represent (above)
  // Also serve the finance side as QBO customers / MYOB customers (renderings.hpp). MYOB needs
  // `portable`: GenerateDataset throws std::invalid_argument otherwise.
  bool render_qbo = false;
  bool render_myob = false;
  std::string qbo_realm_id = "9130350000000001";
  std::string qbo_access_token = "demo-qbo-token";
  std::string myob_company_file_id = "8f1c0d2e-0000-4000-8000-000000000001";
  std::string myob_api_key = "demo-myob-key";
  std::string myob_access_token = "demo-myob-token";
};

// What the generator knows about a finance person it wrote and concord has to find out: which
// human it is. Two persons with the same `human` are the same human (the same parent on two
// family accounts); every other pair is two humans.
struct FinancePersonTruth {
  std::uint64_t index = 0;  // position among all finance persons: the person's canonical name
  std::uint64_t human = 0;  // the index of the human's first finance person
  std::string email_key;    // the exact key of its email (A-label domain); empty: none or invalid
  std::string email;        // as finance has it: may be empty, invalid or in mixed case
  std::string given_name;
  std::string family_name;
};

// The ground truth about one generated contact.
struct ContactTruth {
  std::uint64_t account_index = 0;  // position among all accounts: the account's canonical name
  std::string contact_id;
  std::string myob_uid;  // the account's UID when rendered as a MYOB customer
  std::string name;      // the contact's Name (unique)
  bool company = false;  // a company's account, else a family's or one individual's
  bool archived = false;
  reconcile::Millis updated_at = 0;
  std::vector<FinancePersonTruth> persons;  // the main person, then ContactPersons[] in order
};

// The ground truth about one generated portal user.
struct UserTruth {
  std::string id{};
  std::optional<std::uint64_t> human;  // the finance human whose login it is; none: portal-only
  std::string email_key;
  bool active = true;
  std::string given_name;
  std::string family_name;
};

// Receives the generated records in order, each with its ground truth: every contact, then
// every user.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void Contact(const boost::json::object& contact, const ContactTruth& truth) = 0;
  virtual void User(const boost::json::object& user, const UserTruth& truth) = 0;
};

// Generates the records into `sink`. Throws std::invalid_argument when `changes` is more than
// the tenant has finance persons or users.
void Generate(const GeneratorSettings& settings, RecordSink& sink);

// Generates straight into a servable Dataset.
[[nodiscard]] Dataset GenerateDataset(const GeneratorSettings& settings);

// Writes the generated tenant as a data file (the format of dataset.hpp), streaming.
void WriteGeneratedDataFile(const GeneratorSettings& settings, std::ostream& out);

}  // namespace concord::fake
