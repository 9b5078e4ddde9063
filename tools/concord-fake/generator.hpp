#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <ostream>
#include <string>

#include "dataset.hpp"

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
namespace concord::fake {

struct GeneratorSettings {
  std::uint64_t persons = 0;
  std::uint64_t seed = 1;
  std::string tenant_id = "b5a3c1d2-0000-4000-8000-000000000001";
  std::string access_token = "demo-xero-token";
  std::string scim_token = "demo-portal-token";
};

// Receives the generated records in order: every contact, then every user.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void Contact(const boost::json::object& contact) = 0;
  virtual void User(const boost::json::object& user) = 0;
};

// Generates the records into `sink`.
void Generate(const GeneratorSettings& settings, RecordSink& sink);

// Generates straight into a servable Dataset.
[[nodiscard]] Dataset GenerateDataset(const GeneratorSettings& settings);

// Writes the generated tenant as a data file (the format of dataset.hpp), streaming.
void WriteGeneratedDataFile(const GeneratorSettings& settings, std::ostream& out);

}  // namespace concord::fake
