#include "daemon/render.hpp"

#include <boost/json.hpp>
#include <map>

#include "store/model_json.hpp"

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

}  // namespace

json::array SubjectsJson(const std::vector<reconcile::SubjectRef>& subjects) {
  json::array out;
  for (const auto& s : subjects) {
    out.push_back(
        json::object{{"side", ToString(s.side)}, {"source", s.source}, {"remote_id", s.remote_id}});
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

json::object ExplanationJson(const store::Explanation& e) {
  json::array links;
  for (const auto& row : e.links) {
    auto link = store::ToJson(row.link);
    link["run_id"] = row.run_id;
    links.push_back(std::move(link));
  }
  json::array merges;
  for (const auto& m : e.merges) {
    merges.push_back(json::object{{"merge_id", m.id},
                                  {"loser_id", m.loser_id},
                                  {"reason", m.reason},
                                  {"run_id", m.run_id},
                                  {"undone", m.undone}});
  }
  json::array events;
  for (const auto& row : e.events) {
    auto fields = EventFields(row.event);
    fields["run_id"] = row.run_id;
    fields["seq"] = row.seq;
    events.push_back(std::move(fields));
  }
  return {{"person", store::ToJson(e.person)},
          {"links", std::move(links)},
          {"merges", std::move(merges)},
          {"events", std::move(events)}};
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
  return {{"created", c.created},
          {"updated", c.updated},
          {"linked", c.linked},
          {"merged", c.merged},
          {"deactivated", c.deactivated},
          {"review_opened", c.review_opened},
          {"review_closed", c.review_closed}};
}

json::array PlanJson(const reconcile::Plan& plan, const reconcile::State& before) {
  json::array out;
  std::map<std::string_view, const reconcile::Person*> persons;
  for (const auto& p : before.persons) persons.emplace(p.id, &p);
  std::map<std::tuple<reconcile::Side, std::string_view, std::string_view>, const reconcile::Link*>
      links;
  for (const auto& l : before.links) links.emplace(std::tuple(l.side, l.source, l.remote_id), &l);

  for (const auto& p : plan.persons) {
    auto it = persons.find(p.id);
    out.push_back(
        json::object{{"op", "person"},
                     {"before", it == persons.end() ? json::value(nullptr)
                                                    : json::value(store::ToJson(*it->second))},
                     {"after", store::ToJson(p)}});
  }
  for (const auto& l : plan.links) {
    auto it =
        links.find(std::tuple(l.side, std::string_view(l.source), std::string_view(l.remote_id)));
    out.push_back(
        json::object{{"op", "link"},
                     {"before", it == links.end() ? json::value(nullptr)
                                                  : json::value(store::ToJson(*it->second))},
                     {"after", store::ToJson(l)}});
  }
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
