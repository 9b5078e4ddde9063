#pragma once
// What ties source records together (DESIGN.md §4 step 4): an incremental run loads only the
// neighbourhood of the records it fetched, the smallest closed part of the stored state that
// a change can touch, so its cost follows the size of the change, not of the tenant.
//
// Two records are neighbours when they share a neighbour key; a record and a person when a
// link joins them; two persons when one was merged into the other or they are kept separate.
// The store keeps each record's keys beside it (computed here, under the tenant's rules), so
// it can follow these edges with indexed queries.

#include <string>
#include <vector>

#include "reconcile/email_key.hpp"
#include "reconcile/model.hpp"

namespace concord::reconcile {

// The record's neighbour keys, sorted and unique: the exact key of every valid address in
// email 1 and email 2, and the loose key of email 1. Every rule that relates two records by
// email (2 to 6) needs them to share one of these. Exact and loose keys share one namespace:
// most loose keys equal their exact key (one look-up instead of two), and a record whose
// exact key is another's loose key is that record's loose match anyway (the loose key of a
// loose key is itself), so the neighbourhood only ever grows by it. An erased record has none.
[[nodiscard]] std::vector<std::string> NeighbourKeys(const FinancePerson& record,
                                                     const LooseRules& rules);
[[nodiscard]] std::vector<std::string> NeighbourKeys(const PortalUser& user,
                                                     const LooseRules& rules);

// Names the rules stored keys were computed under; stored keys are usable only while it
// stays the same (a change of rules.loose_domains changes loose keys).
[[nodiscard]] std::string NeighbourKeyVersion(const LooseRules& rules);

}  // namespace concord::reconcile
