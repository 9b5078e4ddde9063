#pragma once
// The reconciliation rules of DESIGN.md §5 as one pure function: stored source records and
// the canonical state in, a plan out. No I/O; deterministic; independent of input order.

#include <string>

#include "reconcile/model.hpp"

namespace concord::reconcile {

struct Settings {
  std::string tenant_id;     // seeds new person ids, so they are stable and order-free
  std::int64_t run_id = 0;   // stamped on persons this plan creates (Person::created_run)
};

// Computes what must change so the canonical state agrees with the source records.
// Applying the plan to `state` and calling Reconcile again yields an empty plan.
Plan Reconcile(const State& state, const Settings& settings);

// Applies a plan to a state in memory, the way the store applies it to the database.
// Used by tests (idempotence) and dry runs.
State Apply(State state, const Plan& plan);

}  // namespace concord::reconcile
