#pragma once
// JSON forms of what the CLI prints and the log writes: exported persons, review items,
// plans and events. Pure functions from values to JSON.

#include <boost/json/object.hpp>
#include <string>

#include "reconcile/model.hpp"
#include "store/canonical_store.hpp"

namespace concord::daemon {

// One line of `concord export` (the contract in issue 2; field order is fixed).
boost::json::object ExportJson(const std::string& tenant, const store::ExportPerson& person);

// One line of `concord review`.
boost::json::object ReviewItemJson(const store::OpenReviewItem& item);

// One line of `concord explain`: the person, its links (rule, status, evidence, run), the
// merges into it and every event that touched it or its records.
boost::json::object ExplanationJson(const store::Explanation& explanation);

boost::json::array SubjectsJson(const std::vector<reconcile::SubjectRef>& subjects);

// An event's fields for the reconciliation log (without ts/level/event).
boost::json::object EventFields(const reconcile::Event& event);

boost::json::object CountsJson(const reconcile::PlanCounts& counts);

// A plan as JSON Lines records: one object per change, each with its "op" and, for persons
// and links, the row "before" (null when new) and "after" (what a dry run prints and stores
// on the run).
boost::json::array PlanJson(const reconcile::Plan& plan, const reconcile::State& before);

}  // namespace concord::daemon
