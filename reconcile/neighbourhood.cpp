#include "reconcile/neighbourhood.hpp"

#include <algorithm>

namespace concord::reconcile {
namespace {

void AddExactKeys(const EmailField& field, std::vector<std::string>& keys) {
  if (field.first.valid()) keys.push_back(field.first.key);
  for (const std::string& key : field.more) keys.push_back(key);
}

std::vector<std::string> KeysOf(std::string_view email, std::string_view email2,
                                const LooseRules& rules) {
  std::vector<std::string> keys;
  const EmailField first = SplitEmailField(email);
  AddExactKeys(first, keys);
  if (first.first.valid()) keys.push_back(LooseEmailKey(first.first.key, rules));
  if (!email2.empty()) AddExactKeys(SplitEmailField(email2), keys);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

std::vector<std::string> NeighbourKeys(const FinancePerson& record, const LooseRules& rules) {
  if (record.status == LinkStatus::kErased) return {};
  return KeysOf(record.email, record.email2, rules);
}

std::vector<std::string> NeighbourKeys(const PortalUser& user, const LooseRules& rules) {
  return KeysOf(user.email, "", rules);
}

std::string NeighbourKeyVersion(const LooseRules& rules) {
  // Bump the leading version when the key format above changes.
  std::string version = "2;loose=";
  for (const auto& d : rules.loose_domains) version += d + ",";
  version += ";plus=";
  for (const auto& d : rules.plus_domains) version += d + ",";
  return version;
}

}  // namespace concord::reconcile
