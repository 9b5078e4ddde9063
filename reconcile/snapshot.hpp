#pragma once
// The JSON a merge keeps of its loser (Merge::snapshot_json), written by hand: reconcile/
// has no JSON library, and the shape is small and fixed.

#include <string>
#include <string_view>
#include <vector>

#include "reconcile/model.hpp"

namespace concord::reconcile::detail {

// Appends `text` as a JSON string literal. Invalid UTF-8 bytes become U+FFFD, so the result
// is always valid JSON (the store keeps snapshots in a jsonb column).
void AppendJsonString(std::string& out, std::string_view text);

// {"person":{...every Person field...},"links":[{...every Link field...},...]}: the loser as
// it was before the merge, enough to undo it.
std::string MergeSnapshotJson(const Person& loser, const std::vector<const Link*>& links);

}  // namespace concord::reconcile::detail
