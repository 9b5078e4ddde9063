#pragma once
// JSON forms of the canonical model, used for merge snapshots (stored, read back to undo)
// and by the daemon for plans. One codec, so what is stored and what is shown agree.

#include <boost/json/value.hpp>

#include "reconcile/model.hpp"

namespace concord::store {

boost::json::object ToJson(const reconcile::Person& person);
boost::json::object ToJson(const reconcile::Link& link);
boost::json::array ToJson(const std::vector<reconcile::Membership>& memberships);

// Inverses of ToJson. Missing or mistyped fields read as their defaults: snapshots written
// by an older concord still load.
reconcile::Person PersonFromJson(const boost::json::value& value);
reconcile::Link LinkFromJson(const boost::json::value& value);
std::vector<reconcile::Membership> MembershipsFromJson(const boost::json::value& value);

// A merge's snapshot: {"loser": person as it was, "links": its links as they were}.
boost::json::object SnapshotJson(const reconcile::Merge& merge);
// Fills loser_before and links_before from a stored snapshot.
void ReadSnapshot(const boost::json::value& snapshot, reconcile::Merge& merge);

}  // namespace concord::store
