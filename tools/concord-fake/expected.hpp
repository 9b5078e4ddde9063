#pragma once

#include <boost/json/object.hpp>
#include <compare>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "generator.hpp"

// The expected canonical result of a generated tenant after a full sync: an oracle for the
// benchmark's correctness check, independent of concord's reconcile library. It is derived from
// what the generator knows (which finance persons are one human, whose login a portal user is),
// with the rules of DESIGN.md §5 applied to that truth rather than to normalised emails.
//
// Both sides are compared as a projection of `concord export --tenant T`: per live person, what
// a wrong match, merge, split or link status would change, and nothing that legitimately varies
// between equal results (person ids, run ids, evidence text, account names, display names).
namespace concord::fake {

// One person as the check compares it.
struct PersonProjection {
  struct Link {
    std::string side;       // "finance" | "portal"
    std::string source;     // "xero", "scim"
    std::string remote_id;  // as the connector names the record (Xero: see connectors/xero.hpp)
    std::string rule;       // "email_exact" | "no_email" | "portal_origin" | "manual"
    std::string status;     // "active" | "archived" | "deleted" | "erased"

    auto operator<=>(const Link&) const = default;
    bool operator==(const Link&) const = default;
  };

  std::optional<std::string> email;  // the exact email key
  std::string status;                // "active" | "inactive" | "erased"
  std::string origin;                // "finance" | "portal"
  std::string given_name;
  std::string family_name;
  std::vector<Link> links;
};

// One JSON line (no '\n'), links sorted, so equal projections give equal text:
// {"email":…,"status":…,"origin":…,"given_name":…,"family_name":…,"links":[{"side",…},…]}.
[[nodiscard]] std::string ProjectionLine(PersonProjection person);

// The projection of one line of `concord export` (daemon/render.cpp ExportJson). Members it
// lacks read as empty.
[[nodiscard]] PersonProjection ProjectExportedPerson(const boost::json::object& exported);

// The expected persons of the tenant `settings` generates (with its changes, if any), as
// sorted projection lines.
[[nodiscard]] std::vector<std::string> ExpectedProjection(const GeneratorSettings& settings);

// Writes ExpectedProjection, one line each: what `concord-fake --expect` prints.
void WriteExpectedProjection(const GeneratorSettings& settings, std::ostream& out);

// How one finance connector names the records of a generated tenant, mapped back to the
// generator's own names: every finance person's remote_id → "person <index>" and every
// account_id → "account <index>" (FinancePersonTruth::index, ContactTruth::account_index).
// With it, exports of the same tenant through different finance kinds compare equal once each
// link's source and ids are replaced by these names.
struct CanonicalFinanceNames {
  std::unordered_map<std::string, std::string> persons;
  std::unordered_map<std::string, std::string> accounts;
};

// The names for `kind` ("xero", "qbo", "myob" or "csv"), as the connectors document them
// (connectors/xero.hpp, qbo.hpp, myob.hpp; csv: the ids renderings.hpp writes). The MYOB
// names assume `settings.portable` (one person per address). Throws std::invalid_argument for
// another kind.
[[nodiscard]] CanonicalFinanceNames FinanceNamesFor(const GeneratorSettings& settings,
                                                    std::string_view kind);

}  // namespace concord::fake
