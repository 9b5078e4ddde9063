#include "daemon/render.hpp"

#include <boost/json.hpp>

namespace concord::daemon {
namespace json = boost::json;
using reconcile::ToString;

namespace {

json::value OptionalString(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.push_back(json::string(s));
  return out;
}

json::object PersonJson(const reconcile::Person& p) {
  return {{"person_id", p.id},
          {"status", ToString(p.status)},
          {"origin", ToString(p.origin)},
          {"email", OptionalString(p.email)},
          {"given_name", p.given_name},
          {"family_name", p.family_name},
          {"display_name", p.display_name},
          {"merged_into", OptionalString(p.merged_into)},
          {"merged_from", Strings(p.merged_from)}};
}

json::object LinkJson(const reconcile::Link& l) {
  return {{"side", ToString(l.side)},     {"source", l.source},
          {"remote_id", l.remote_id},     {"person_id", l.person_id},
          {"rule", ToString(l.rule)},     {"status", ToString(l.status)},
          {"evidence", l.evidence}};
}

}  // namespace

json::array SubjectsJson(const std::vector<reconcile::SubjectRef>& subjects) {
  json::array out;
  for (const auto& s : subjects) {
    out.push_back(json::object{
        {"side", ToString(s.side)}, {"source", s.source}, {"remote_id", s.remote_id}});
  }
  return out;
}

json::object ExportJson(const std::string& tenant, const store::ExportPerson& e) {
  const auto& p = e.person;
  json::array finance;
  for (const auto& l : e.finance) {
    finance.push_back(json::object{{"source", l.source},
                                   {"remote_id", l.remote_id},
                                   {"account_id", l.account_id},
                                   {"account_name", l.account_name},
                                   {"email", l.email},
                                   {"status", l.status},
                                   {"rule", l.rule}});
  }
  json::array portal;
  for (const auto& l : e.portal) {
    portal.push_back(json::object{{"source", l.source},
                                  {"remote_id", l.remote_id},
                                  {"user_name", l.user_name},
                                  {"email", l.email},
                                  {"active", l.active},
                                  {"status", l.status},
                                  {"rule", l.rule}});
  }
  return {{"tenant", tenant},
          {"person_id", p.id},
          {"status", ToString(p.status)},
          {"origin", ToString(p.origin)},
          {"email", OptionalString(p.email)},
          {"given_name", p.given_name},
          {"family_name", p.family_name},
          {"display_name", p.display_name},
          {"finance", std::move(finance)},
          {"portal", std::move(portal)},
          {"merged_from", Strings(p.merged_from)}};
}

json::object ReviewItemJson(const store::OpenReviewItem& item) {
  return {{"id", item.id},
          {"kind", item.kind},
          {"reason", item.reason},
          {"email", OptionalString(item.email)},
          {"subjects", json::parse(item.subjects_json)},
          {"person_ids", json::parse(item.person_ids_json)}};
}

json::object EventFields(const reconcile::Event& e) {
  json::object out{{"kind", ToString(e.kind)}, {"subjects", SubjectsJson(e.subjects)}};
  if (!e.person_id.empty()) out["person_id"] = e.person_id;
  out["rule"] = e.rule;
  out["reason"] = e.reason;
  return out;
}

json::object CountsJson(const reconcile::PlanCounts& c) {
  return {{"created", c.created},         {"updated", c.updated},
          {"linked", c.linked},           {"merged", c.merged},
          {"deactivated", c.deactivated}, {"review_opened", c.review_opened},
          {"review_closed", c.review_closed}};
}

json::array PlanJson(const reconcile::Plan& plan) {
  json::array out;
  for (const auto& p : plan.persons) out.push_back(json::object{{"op", "person"}, {"after", PersonJson(p)}});
  for (const auto& l : plan.links) out.push_back(json::object{{"op", "link"}, {"after", LinkJson(l)}});
  for (const auto& m : plan.merges) {
    out.push_back(json::object{{"op", "merge"},
                               {"loser_id", m.loser_id},
                               {"survivor_id", m.survivor_id},
                               {"reason", m.reason}});
  }
  for (const auto& r : plan.review_items) {
    out.push_back(json::object{{"op", "review"},
                               {"kind", ToString(r.kind)},
                               {"dedup_key", r.dedup_key},
                               {"reason", r.reason},
                               {"email", OptionalString(r.email)},
                               {"subjects", SubjectsJson(r.subjects)},
                               {"person_ids", Strings(r.person_ids)}});
  }
  for (const auto& e : plan.events) {
    auto fields = EventFields(e);
    fields["op"] = "event";
    out.push_back(std::move(fields));
  }
  return out;
}

}  // namespace concord::daemon
