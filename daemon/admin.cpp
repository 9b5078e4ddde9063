#include "daemon/admin.hpp"

#include <boost/json.hpp>

#include "daemon/render.hpp"
#include "daemon/sync_job.hpp"
#include "reconcile/reconcile.hpp"

namespace concord::daemon {
namespace json = boost::json;

namespace {

std::string_view ActionName(Resolution::Action action) {
  switch (action) {
    case Resolution::Action::kLink:
      return "link";
    case Resolution::Action::kKeepSeparate:
      return "keep_separate";
    case Resolution::Action::kDismiss:
      return "dismiss";
  }
  return "dismiss";
}

const reconcile::Person* LivePerson(const reconcile::State& state, const std::string& id) {
  for (const auto& p : state.persons) {
    if (p.id == id && !p.merged_into) return &p;
  }
  return nullptr;
}

// Pins the item's records to `person_id` with rule manual, in the state the plan is computed
// from, and returns the link rows to write (the plan only lists what it changes further).
std::vector<reconcile::Link> PinLinks(reconcile::State& state,
                                      const std::vector<reconcile::SubjectRef>& subjects,
                                      const std::string& person_id, std::int64_t review_id) {
  std::vector<reconcile::Link> pinned;
  for (const auto& subject : subjects) {
    for (auto& link : state.links) {
      if (link.side != subject.side || link.source != subject.source ||
          link.remote_id != subject.remote_id) {
        continue;
      }
      link.person_id = person_id;
      link.rule = reconcile::LinkRule::kManual;
      link.evidence = "admin resolved review item " + std::to_string(review_id);
      pinned.push_back(link);
    }
  }
  return pinned;
}

}  // namespace

RunOutcome ResolveReview(store::Connection& conn, const Config& config, std::int64_t review_id,
                         const Resolution& resolution, const std::string& owner) {
  store::CanonicalStore lookup(conn);
  auto item = lookup.LoadReviewItem(review_id);
  if (!item) throw AdminError("there is no review item " + std::to_string(review_id));
  if (item->status != "open") {
    throw AdminError("review item " + std::to_string(review_id) + " is " + item->status +
                     ", not open");
  }
  const auto& tenant = config.Tenant(item->tenant_id);
  RunOutcome busy;
  auto run = TenantRun::Begin(conn, item->tenant_id, owner, "manual", "admin", false, &busy);
  if (!run) return busy;

  auto state = run->store().LoadState(item->tenant_id);
  store::RunCommit commit;
  std::vector<reconcile::Link> pinned;
  std::vector<reconcile::Event> decisions;
  switch (resolution.action) {
    case Resolution::Action::kLink: {
      if (!LivePerson(state, resolution.person_id)) {
        return run->Fail("there is no live person " + resolution.person_id + " in tenant '" +
                         item->tenant_id + "'");
      }
      pinned = PinLinks(state, item->subjects, resolution.person_id, review_id);
      for (const auto& link : pinned) {
        decisions.push_back({reconcile::EventKind::kRelinked,
                             resolution.person_id,
                             {{link.side, link.source, link.remote_id}},
                             "manual",
                             "an admin linked the record to person " + resolution.person_id +
                                 " (review item " + std::to_string(review_id) + ")"});
      }
      break;
    }
    case Resolution::Action::kKeepSeparate:
      for (std::size_t i = 0; i < item->person_ids.size(); ++i) {
        for (std::size_t j = i + 1; j < item->person_ids.size(); ++j) {
          auto [a, b] = std::minmax(item->person_ids[i], item->person_ids[j]);
          commit.keep_separate.push_back({a, b});
          state.keep_separate.push_back({a, b});
        }
      }
      break;
    case Resolution::Action::kDismiss:
      break;
  }
  auto& plan = run->outcome().plan;
  plan = reconcile::Reconcile(state, ReconcileSettings(tenant, run->id()));
  // The pinned rows go first unless the plan changes them further (one row per key).
  for (auto& link : pinned) {
    bool replanned = std::any_of(plan.links.begin(), plan.links.end(), [&](const auto& l) {
      return l.side == link.side && l.source == link.source && l.remote_id == link.remote_id;
    });
    if (!replanned) plan.links.push_back(std::move(link));
  }
  plan.events.insert(plan.events.begin(), decisions.begin(), decisions.end());
  for (const auto& [key, value] : CountsJson(plan.counts)) run->outcome().counts[key] = value;

  commit.resolved_review_id = review_id;
  json::object how{{"action", ActionName(resolution.action)}};
  if (resolution.action == Resolution::Action::kLink) how["person_id"] = resolution.person_id;
  commit.resolution_json = json::serialize(how);
  return run->Apply(std::move(commit), "succeeded");
}

RunOutcome UndoMerge(store::Connection& conn, const Config& config, std::int64_t merge_id,
                     const std::string& owner) {
  store::CanonicalStore lookup(conn);
  auto stored = lookup.LoadMerge(merge_id);
  if (!stored) throw AdminError("there is no merge " + std::to_string(merge_id));
  if (stored->undone) throw AdminError("merge " + std::to_string(merge_id) + " is already undone");
  const auto& tenant = config.Tenant(stored->tenant_id);
  RunOutcome busy;
  auto run = TenantRun::Begin(conn, stored->tenant_id, owner, "manual", "admin", false, &busy);
  if (!run) return busy;

  auto state = run->store().LoadState(stored->tenant_id);
  const auto& merge = stored->merge;
  auto& plan = run->outcome().plan;
  plan = reconcile::UndoMerge(state, merge, ReconcileSettings(tenant, run->id()));
  plan.events.insert(plan.events.begin(),
                     {reconcile::EventKind::kReactivated,
                      merge.loser_id,
                      {},
                      "manual",
                      "an admin undid merge " + std::to_string(merge_id) + " of " + merge.loser_id +
                          " into " + merge.survivor_id});
  for (const auto& [key, value] : CountsJson(plan.counts)) run->outcome().counts[key] = value;

  store::RunCommit commit;
  auto [a, b] = std::minmax(merge.loser_id, merge.survivor_id);
  commit.keep_separate.push_back({a, b});
  commit.undone_merge_id = merge_id;
  return run->Apply(std::move(commit), "succeeded");
}

}  // namespace concord::daemon
