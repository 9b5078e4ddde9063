#pragma once
// Deterministic ids for the persons a plan creates (DESIGN.md §5: the result never depends
// on the order records arrive in, so neither may the ids).

#include <string>
#include <string_view>

#include "reconcile/model.hpp"

namespace concord::reconcile::detail {

// The id of a person founded by the record (side, source, remote_id) in `tenant_id`: a
// 128-bit FNV-1a hash (with a final avalanche) formatted as an RFC 9562 version-8 UUID
// (lower-case 8-4-4-4-12). Part of the stored data: changing it changes future ids.
// `attempt` > 0 derives the next candidate when an earlier one is already taken.
std::string DerivePersonId(std::string_view tenant_id, Side side, std::string_view source,
                           std::string_view remote_id, int attempt);

}  // namespace concord::reconcile::detail
