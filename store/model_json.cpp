#include "store/model_json.hpp"

#include <boost/json.hpp>

namespace concord::store {
namespace json = boost::json;
using reconcile::ToString;

namespace {

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.push_back(json::string(s));
  return out;
}

std::string Text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::string> OptionalText(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::vector<std::string> TextList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& item : v->as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

const json::object& ObjectOrEmpty(const json::value& value) {
  static const json::object kEmpty;
  return value.is_object() ? value.as_object() : kEmpty;
}

}  // namespace

json::array ToJson(const std::vector<reconcile::Membership>& memberships) {
  json::array out;
  for (const auto& m : memberships) {
    out.push_back(json::object{{"side", ToString(m.side)},
                               {"source", m.source},
                               {"account_id", m.account_id},
                               {"account_name", m.account_name}});
  }
  return out;
}

json::object ToJson(const reconcile::Person& p) {
  return {{"person_id", p.id},
          {"status", ToString(p.status)},
          {"origin", ToString(p.origin)},
          {"email", p.email ? json::value(*p.email) : json::value(nullptr)},
          {"given_name", p.given_name},
          {"family_name", p.family_name},
          {"display_name", p.display_name},
          {"created_run", p.created_run},
          {"merged_into", p.merged_into ? json::value(*p.merged_into) : json::value(nullptr)},
          {"merged_from", Strings(p.merged_from)},
          {"memberships", ToJson(p.memberships)}};
}

json::object ToJson(const reconcile::Link& l) {
  return {{"side", ToString(l.side)}, {"source", l.source},
          {"remote_id", l.remote_id}, {"person_id", l.person_id},
          {"rule", ToString(l.rule)}, {"status", ToString(l.status)},
          {"evidence", l.evidence},   {"permissions", Strings(l.permissions)}};
}

std::vector<reconcile::Membership> MembershipsFromJson(const json::value& value) {
  std::vector<reconcile::Membership> out;
  if (!value.is_array()) return out;
  for (const auto& item : value.as_array()) {
    const auto& o = ObjectOrEmpty(item);
    out.push_back({reconcile::ParseSide(Text(o, "side")).value_or(reconcile::Side::kFinance),
                   Text(o, "source"), Text(o, "account_id"), Text(o, "account_name")});
  }
  return out;
}

reconcile::Person PersonFromJson(const json::value& value) {
  const auto& o = ObjectOrEmpty(value);
  reconcile::Person p;
  p.id = Text(o, "person_id");
  p.status = reconcile::ParsePersonStatus(Text(o, "status")).value_or(p.status);
  p.origin = reconcile::ParseOrigin(Text(o, "origin")).value_or(p.origin);
  p.email = OptionalText(o, "email");
  p.given_name = Text(o, "given_name");
  p.family_name = Text(o, "family_name");
  p.display_name = Text(o, "display_name");
  if (const auto* run = o.if_contains("created_run"); run && run->is_int64()) {
    p.created_run = run->as_int64();
  }
  p.merged_into = OptionalText(o, "merged_into");
  p.merged_from = TextList(o, "merged_from");
  if (const auto* m = o.if_contains("memberships")) p.memberships = MembershipsFromJson(*m);
  return p;
}

reconcile::Link LinkFromJson(const json::value& value) {
  const auto& o = ObjectOrEmpty(value);
  reconcile::Link l;
  l.side = reconcile::ParseSide(Text(o, "side")).value_or(l.side);
  l.source = Text(o, "source");
  l.remote_id = Text(o, "remote_id");
  l.person_id = Text(o, "person_id");
  l.rule = reconcile::ParseLinkRule(Text(o, "rule")).value_or(l.rule);
  l.status = reconcile::ParseLinkStatus(Text(o, "status")).value_or(l.status);
  l.evidence = Text(o, "evidence");
  l.permissions = TextList(o, "permissions");
  return l;
}

json::object SnapshotJson(const reconcile::Merge& merge) {
  json::array links;
  for (const auto& l : merge.links_before) links.push_back(ToJson(l));
  return {{"loser", ToJson(merge.loser_before)}, {"links", std::move(links)}};
}

void ReadSnapshot(const json::value& snapshot, reconcile::Merge& merge) {
  const auto& o = ObjectOrEmpty(snapshot);
  if (const auto* loser = o.if_contains("loser")) merge.loser_before = PersonFromJson(*loser);
  merge.links_before.clear();
  if (const auto* links = o.if_contains("links"); links && links->is_array()) {
    for (const auto& l : links->as_array()) merge.links_before.push_back(LinkFromJson(l));
  }
}

}  // namespace concord::store
