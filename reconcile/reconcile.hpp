#pragma once
// The reconciliation rules of DESIGN.md §5 as one pure function: stored source records and
// the canonical state in, a plan out. No I/O; deterministic; independent of input order.

#include <string>

#include "reconcile/email_key.hpp"
#include "reconcile/model.hpp"

namespace concord::reconcile {

struct Settings {
  std::string tenant_id;    // seeds new person ids, so they are stable and order-free
  std::int64_t run_id = 0;  // stamped on persons this plan creates (Person::created_run)
  LooseRules loose = {};    // tenant rules.loose_domains / rules.plus_domains (rule 6)
};

// Computes what must change so the canonical state agrees with the source records.
// Applying the plan to `state` and calling Reconcile again yields an empty plan.
//
// Contract with the caller (the sync job and the store):
//  - `state` is closed: every person a loaded link names is loaded (with its merged_into
//    chain), and every source record linked to a loaded person is loaded. A link whose
//    record is missing is kept as it is (it only counts for its person's status/origin), so
//    a partial load cannot lose data, but survivorship only sees the records it is given.
//  - (side, source, remote_id) should be unique within `state.finance` / `state.portal`;
//    when it is not, the record updated last is used and the others are reported.
//  - The plan is deterministic and independent of the order of every input vector. New
//    person ids derive from tenant_id and the founding record (detail::DerivePersonId).
//  - review_items is complete; the plan carries no review_opened/review_closed events and
//    leaves counts.review_opened/review_closed at 0: the store, which knows which items
//    are new, writes those.
//  - Events come grouped by person id, each person's in order: created, merged, linked /
//    relinked, updated (fields), updated (link status), deactivated / reactivated.
// Never throws on bad data and never drops a record silently: invalid emails become
// invalid_email items; unusable ids, duplicate ids, unclean or over-long text and empty
// records become invalid_record items. Every string in the plan is valid UTF-8 without
// control characters (text fields at most detail::kMaxFieldBytes).
Plan Reconcile(const State& state, const Settings& settings);

// Undoes `merge` (`concord merge undo ID`, POST /v1/merges/{id}/undo): the loser comes back
// as merge.loser_before with merged_into cleared; each link in merge.links_before that still
// names the survivor (or a person the survivor was merged into since) moves back to the
// loser with the rule and evidence it had then (status and permissions stay as the source
// reports them now; a link an admin moved elsewhere since stays where it is); the loser and
// the persons merged into it leave the merged_from of the survivor and of every person the
// survivor was merged into since; then both persons' fields, memberships and status are
// recomputed from their records, exactly as Reconcile would.
//
// `state` must hold at least what Reconcile needs for these persons (the loser, the survivor
// and its merged_into chain, their links and the source records behind them, and the
// tenant's keep_separate pairs); the whole tenant state is fine. The returned plan is
// relative to `state`, holds every change (the undo and whatever Reconcile then does with
// the pair kept separate), and its review_items are complete for `state` as Reconcile's are.
// The caller MUST record KeepSeparate{merge.loser_id, merge.survivor_id} in the same
// transaction as it applies the plan, or the next run merges the two again.
// A merge whose loser is no longer merged away (already undone) gives an empty plan.
// Applying the plan to the state right after the merge gives back the state before it:
// the loser and its links as they were, the survivor as it would be without the loser.
Plan UndoMerge(const State& state, const Merge& merge, const Settings& settings);

// Applies a plan to a state in memory, the way the store applies it to the database.
// Used by tests (idempotence) and dry runs.
State Apply(State state, const Plan& plan);

}  // namespace concord::reconcile
