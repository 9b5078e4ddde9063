#pragma once
// Admin decisions (issue 3): resolving a review item and undoing a merge. Each is a run of
// its tenant (mode "admin") under the tenant's lease, applied in one transaction with the
// plan it leads to, and logged like any other decision.

#include <string>

#include "daemon/config.hpp"
#include "daemon/tenant_run.hpp"
#include "store/pg.hpp"

namespace concord::daemon {

// A problem with the request itself (unknown id, already resolved): the caller's mistake.
class AdminError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Resolution {
  enum class Action { kLink, kKeepSeparate, kDismiss };
  Action action = Action::kDismiss;
  std::string person_id;  // kLink: the person the item's records are linked to (rule manual)
};

// Resolves an open review item; the next plans honour the decision (a manual link is an
// anchor; keep-separate persons never merge; a resolved situation is not reopened).
// `config` supplies the tenant's matching rules for the plan that follows.
RunOutcome ResolveReview(store::Connection& conn, const Config& config, std::int64_t review_id,
                         const Resolution& resolution, const std::string& owner);

// Undoes a merge: the loser comes back as it was with its links, and the two persons are
// kept separate from then on.
RunOutcome UndoMerge(store::Connection& conn, const Config& config, std::int64_t merge_id,
                     const std::string& owner);

}  // namespace concord::daemon
