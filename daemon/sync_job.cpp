#include "daemon/sync_job.hpp"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "daemon/log.hpp"
#include "daemon/render.hpp"
#include "reconcile/reconcile.hpp"

namespace concord::daemon {
namespace json = boost::json;
using reconcile::Millis;

namespace {

struct Fetched {
  std::vector<reconcile::FinancePerson> finance;
  std::vector<reconcile::PortalUser> portal;
  std::vector<reconcile::QuarantinedRecord> quarantined;
  connectors::FetchSummary finance_summary;
  connectors::FetchSummary portal_summary;
};

using RecordKey = std::pair<std::string_view, std::string_view>;  // (source, remote id)

struct RecordKeyHash {
  std::size_t operator()(const RecordKey& key) const {
    const std::hash<std::string_view> hash;
    return hash(key.first) * 31 + hash(key.second);
  }
};

template <typename Record>
std::set<RecordKey> KeysOf(const std::vector<Record>& records) {
  std::set<RecordKey> keys;
  for (const auto& r : records) keys.emplace(r.source, r.remote_id);
  return keys;
}

// A copy of the record without its raw JSON, which is most of its size and is only written,
// never planned on (stored records are loaded without it too).
template <typename Record>
Record WithoutRaw(Record& record) {
  std::string raw = std::move(record.raw_json);
  Record copy = record;
  record.raw_json = std::move(raw);
  return copy;
}

// Replaces stored records by this run's fresh copies and adds the new ones.
template <typename Record>
void Overlay(std::vector<Record>& stored, std::vector<Record>& fetched) {
  // Where each fetched record goes, found before `stored` changes: the index views strings
  // inside it.
  constexpr auto kNew = static_cast<std::size_t>(-1);
  std::vector<std::size_t> slot(fetched.size(), kNew);
  {
    std::unordered_map<RecordKey, std::size_t, RecordKeyHash> index;
    index.reserve(stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
      index.emplace(RecordKey(stored[i].source, stored[i].remote_id), i);
    }
    for (std::size_t i = 0; i < fetched.size(); ++i) {
      auto it = index.find({fetched[i].source, fetched[i].remote_id});
      if (it != index.end()) slot[i] = it->second;
    }
  }
  for (std::size_t i = 0; i < fetched.size(); ++i) {
    if (slot[i] == kNew) {
      stored.push_back(WithoutRaw(fetched[i]));
    } else {
      stored[slot[i]] = WithoutRaw(fetched[i]);
    }
  }
}

// A source that repeats a record on two pages (it changed during the read) must not be
// applied twice: the later copy wins. Keys are views and hashed: a 1M-person read spent
// seconds here copying every id into an ordered map.
template <typename Record>
void KeepLastCopy(std::vector<Record>& records) {
  std::vector<bool> keep(records.size(), false);
  {
    std::unordered_map<RecordKey, std::size_t, RecordKeyHash> last;
    last.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      last[{records[i].source, records[i].remote_id}] = i;
    }
    if (last.size() == records.size()) return;
    for (const auto& [key, i] : last) keep[i] = true;
  }
  std::vector<Record> unique;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (keep[i]) unique.push_back(std::move(records[i]));
  }
  records = std::move(unique);
}

// Rule 7: a record erased on request keeps only its identity; everything personal goes, and
// a tombstoned record stays erased whatever the source sends later.
void EraseOnRequest(std::vector<reconcile::FinancePerson>& records,
                    const std::set<reconcile::SubjectRef>& tombstones,
                    std::vector<reconcile::SubjectRef>& newly_erased) {
  for (auto& r : records) {
    const bool tombstoned = !tombstones.empty() &&
                            tombstones.contains({reconcile::Side::kFinance, r.source, r.remote_id});
    if (r.status != reconcile::LinkStatus::kErased && !tombstoned) continue;
    if (!tombstoned) newly_erased.push_back({reconcile::Side::kFinance, r.source, r.remote_id});
    r.status = reconcile::LinkStatus::kErased;
    r.given_name.clear();
    r.family_name.clear();
    r.email.clear();
    r.email2.clear();
    r.raw_json.clear();
  }
}

// Rule 8: a full read of a side that no longer sees a stored record treats it as deleted in
// the source. The deleted copies are stored with the run. A quarantined record that still
// names itself was seen (its stored copy stays as it is): bad input loses nothing.
template <typename Record>
void MarkMissingAsDeleted(std::vector<Record>& stored, std::vector<Record>& fetched,
                          const std::vector<reconcile::QuarantinedRecord>& quarantined,
                          reconcile::Side side) {
  // `stored` holds the fetched records already (Overlay), each once (KeepLastCopy): the same
  // count means every stored record was seen, as on a first sync.
  if (stored.size() == fetched.size()) return;
  auto seen = KeysOf(fetched);
  for (const auto& q : quarantined) {
    if (q.side == side && !q.remote_id.empty()) seen.emplace(q.source, q.remote_id);
  }
  std::vector<Record> gone;
  for (auto& r : stored) {
    if (seen.contains({r.source, r.remote_id})) continue;
    if constexpr (std::is_same_v<Record, reconcile::PortalUser>) {
      if (r.deleted) continue;
      r.deleted = true;
    } else {
      if (r.status == reconcile::LinkStatus::kDeleted ||
          r.status == reconcile::LinkStatus::kErased) {
        continue;
      }
      r.status = reconcile::LinkStatus::kDeleted;
    }
    gone.push_back(r);
  }
  fetched.insert(fetched.end(), gone.begin(), gone.end());
}

std::optional<Millis> NextCursor(const connectors::FetchSummary& summary,
                                 std::chrono::seconds overlap) {
  if (summary.source_clock <= 0) return std::nullopt;
  if (summary.exact_clock) return summary.source_clock;
  return summary.source_clock - std::chrono::milliseconds(overlap).count();
}

// Test hooks, so a test can stop the process at a chosen point: CONCORD_FAILPOINT=NAME, or
// NAME:MILLISECONDS for a hook that holds the run (default: an hour). The hold when the
// hook is active.
std::optional<std::chrono::milliseconds> Failpoint(std::string_view name) {
  const char* failpoint = std::getenv("CONCORD_FAILPOINT");
  if (!failpoint) return std::nullopt;
  const std::string_view value(failpoint);
  const auto colon = value.find(':');
  if (value.substr(0, colon) != name) return std::nullopt;
  std::chrono::milliseconds hold = std::chrono::hours(1);
  if (colon != std::string_view::npos) {
    hold = std::chrono::milliseconds(std::atoll(std::string(value.substr(colon + 1)).c_str()));
  }
  Log(Level::kWarn, "failpoint", {{"name", name}, {"hold_ms", hold.count()}});
  return hold;
}

// before_commit: hangs inside the apply transaction (a test kills the process there and
// checks that nothing was committed).
void MaybeStopBeforeCommit() {
  if (auto hold = Failpoint("before_commit")) std::this_thread::sleep_for(*hold);
}

// after_fetch: holds the run between fetching and planning, until it is asked to stop or
// the hold is over (a paused process, for the lease tests).
void MaybeHoldAfterFetch(const SyncRequest& request) {
  auto hold = Failpoint("after_fetch");
  if (!hold) return;
  const auto until = std::chrono::steady_clock::now() + *hold;
  while (!(request.stop && request.stop->load()) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The run was asked to stop at a safe point (SyncRequest::stop).
struct Stopped {};

// The other side's fetch failed, so this one stops at its next page.
struct Abandoned {};

// How often the lease is prolonged while the finance side waits for the portal side.
constexpr std::chrono::seconds kLeaseKeeping{10};

void StopIfAsked(const SyncRequest& request) {
  if (request.stop && request.stop->load()) throw Stopped{};
}

// Fetches both sides at once, the portal on a thread of its own: they are different vendors,
// and each spends most of its time waiting on the network. Only the calling thread touches
// the database (the lease), so the run's connection is never shared. When one side fails,
// the other stops at its next page and the first failure is thrown.
Fetched FetchBoth(connectors::FinanceSource& finance, connectors::PortalSource& portal,
                  const std::string& tenant, const SyncRequest& request, TenantRun& run,
                  const connectors::FetchRequest& finance_request,
                  const connectors::FetchRequest& portal_request) {
  Fetched fetched;
  std::vector<reconcile::QuarantinedRecord> portal_quarantined;
  std::atomic<bool> finance_failed{false};
  std::atomic<bool> portal_failed{false};
  const auto page_fetched = [&](std::string_view side, std::size_t records) {
    Log(Level::kDebug, "page_fetched",
        {{"tenant", tenant},
         {"run_id", run.id()},
         {"side", side},
         {"records", static_cast<std::int64_t>(records)}});
  };
  auto portal_fetch = std::async(std::launch::async, [&] {
    try {
      return portal.Fetch(portal_request, [&](connectors::PortalPage&& page) {
        StopIfAsked(request);
        if (finance_failed.load()) throw Abandoned{};
        for (auto& u : page.users) fetched.portal.push_back(std::move(u));
        for (auto& q : page.quarantined) portal_quarantined.push_back(std::move(q));
        page_fetched("portal", fetched.portal.size());
      });
    } catch (...) {
      portal_failed = true;
      throw;
    }
  });
  try {
    fetched.finance_summary = finance.Fetch(finance_request, [&](connectors::FinancePage&& page) {
      StopIfAsked(request);
      if (portal_failed.load()) throw Abandoned{};
      run.KeepLease();
      for (auto& p : page.persons) fetched.finance.push_back(std::move(p));
      for (auto& q : page.quarantined) fetched.quarantined.push_back(std::move(q));
      page_fetched("finance", fetched.finance.size());
    });
    while (portal_fetch.wait_for(kLeaseKeeping) != std::future_status::ready) run.KeepLease();
  } catch (const Abandoned&) {
    portal_fetch.get();  // throws the portal side's failure, the reason the finance side stopped
    throw;
  } catch (...) {
    finance_failed = true;
    portal_fetch.wait();  // its outcome no longer matters: this failure is the run's
    throw;
  }
  fetched.portal_summary = portal_fetch.get();
  for (auto& q : portal_quarantined) fetched.quarantined.push_back(std::move(q));
  run.KeepLease();
  return fetched;
}

}  // namespace

reconcile::Settings ReconcileSettings(const TenantConfig& tenant, std::int64_t run_id) {
  reconcile::Settings settings{tenant.id, run_id};
  settings.loose.loose_domains = tenant.rules.loose_domains;
  settings.loose.plus_domains = tenant.rules.plus_domains;
  return settings;
}

std::optional<std::string> SafeguardHolds(const RulesConfig& rules, std::int64_t active,
                                          std::int64_t deactivations) {
  if (deactivations > rules.max_deactivations) {
    return "the plan deactivates " + std::to_string(deactivations) + " persons, more than " +
           "max_deactivations (" + std::to_string(rules.max_deactivations) +
           "); run again with --confirm-deletes to apply it";
  }
  constexpr std::int64_t kRatioAppliesFrom = 100;
  if (active >= kRatioAppliesFrom &&
      static_cast<double>(deactivations) > rules.max_deactivation_ratio * active) {
    return "the plan deactivates " + std::to_string(deactivations) + " of " +
           std::to_string(active) + " active persons, more than max_deactivation_ratio (" +
           std::to_string(rules.max_deactivation_ratio) +
           "); run again with --confirm-deletes to apply it";
  }
  return std::nullopt;
}

SyncJob::SyncJob(store::Connection& conn, const TenantConfig& tenant,
                 connectors::FinanceSource& finance, connectors::PortalSource& portal,
                 std::string owner)
    : conn_(conn), tenant_(tenant), finance_(finance), portal_(portal), owner_(std::move(owner)) {}

RunOutcome SyncJob::Run(const SyncRequest& request) {
  RunOutcome busy;
  auto run = TenantRun::Begin(conn_, tenant_.id, owner_, request.trigger,
                              request.full ? "full" : "incremental", request.dry_run, &busy);
  if (!run) return busy;
  try {
    return Execute(request, *run);
  } catch (const Stopped&) {
    auto outcome = run->Fail(
        "cancelled: concord is shutting down; nothing was applied, the next run redoes the work");
    outcome.cancelled = true;
    return outcome;
  }
}

RunOutcome SyncJob::Execute(const SyncRequest& request, TenantRun& frame) {
  auto* run = &frame;
  auto& store = run->store();
  auto& outcome = run->outcome();

  Fetched fetched;
  try {
    auto cursors = store.LoadCursors(tenant_.id);
    connectors::FetchRequest finance_request, portal_request;
    if (!request.full) {
      finance_request.since = cursors.finance;
      portal_request.since = cursors.portal;
    }
    fetched =
        FetchBoth(finance_, portal_, tenant_.id, request, *run, finance_request, portal_request);
    run->EndPhase("fetch");
  } catch (const connectors::FetchError& e) {
    return run->Fail(e.what());
  } catch (const store::LeaseLost& e) {
    return run->Fail(e.what());
  }
  KeepLastCopy(fetched.finance);
  KeepLastCopy(fetched.portal);
  outcome.counts["fetched_finance"] = static_cast<std::int64_t>(fetched.finance.size());
  outcome.counts["fetched_portal"] = static_cast<std::int64_t>(fetched.portal.size());
  outcome.counts["quarantined"] = static_cast<std::int64_t>(fetched.quarantined.size());

  MaybeHoldAfterFetch(request);
  StopIfAsked(request);
  store::RunCommit commit;
  EraseOnRequest(fetched.finance, store.LoadTombstones(tenant_.id), commit.erased);
  const auto settings = ReconcileSettings(tenant_, run->id());
  // An incremental run plans over the neighbourhood of what it fetched, so its cost follows
  // the change; a full run (it must see what is gone) and a run whose stored keys were made
  // under other rules (it re-keys them) plan over everything.
  const bool keys_match = store.StoredKeysMatch(tenant_.id, settings.loose);
  // A source that delivered itself whole (a CSV file) is read as in a full run even when the
  // run is incremental: what it no longer holds is deleted, so the plan must see everything.
  const bool finance_whole = request.full || fetched.finance_summary.complete;
  const bool portal_whole = request.full || fetched.portal_summary.complete;
  const bool whole = finance_whole || portal_whole || !keys_match;
  auto state =
      whole ? store.LoadState(tenant_.id)
            : store.LoadNeighbourhood(tenant_.id, fetched.finance, fetched.portal, settings.loose);
  run->EndPhase("load");
  Overlay(state.finance, fetched.finance);
  Overlay(state.portal, fetched.portal);
  if (finance_whole) {
    MarkMissingAsDeleted(state.finance, fetched.finance, fetched.quarantined,
                         reconcile::Side::kFinance);
  }
  if (portal_whole) {
    MarkMissingAsDeleted(state.portal, fetched.portal, fetched.quarantined,
                         reconcile::Side::kPortal);
  }
  commit.finance = &fetched.finance;
  commit.portal = &fetched.portal;
  commit.quarantined = &fetched.quarantined;
  commit.rules = settings.loose;
  // The source records do not depend on the plan, so they are written while it is made: on a
  // first sync of 1,000,000 persons that hides most of their COPY behind the plan.
  std::future<store::SourcesWritten> sources;
  if (!request.dry_run) sources = run->StartApply(commit);
  outcome.plan = reconcile::Reconcile(state, settings);
  run->EndPhase("plan");
  for (const auto& [key, value] : CountsJson(outcome.plan.counts)) outcome.counts[key] = value;

  if (request.dry_run) {
    return run->FinishWithoutApply("succeeded", std::nullopt, state);
  }
  if (!request.confirm_deletes && outcome.plan.counts.deactivated > 0) {
    // The safeguard counts what is committed, on the connection the source writes hold: they
    // are rolled back, and written again by Apply if the plan is not held. Plans that
    // deactivate anyone are rare and mostly small.
    sources = {};
    const auto active = store.CountActivePersons(tenant_.id);
    if (auto why = SafeguardHolds(tenant_.rules, active, outcome.plan.counts.deactivated)) {
      return run->FinishWithoutApply("held", *why, state);
    }
  }
  StopIfAsked(request);  // the last safe point: from here the run finishes
  if (!whole) {
    commit.review_scope.emplace();
    for (const auto& r : state.finance) {
      commit.review_scope->push_back({reconcile::Side::kFinance, r.source, r.remote_id});
    }
    for (const auto& u : state.portal) {
      commit.review_scope->push_back({reconcile::Side::kPortal, u.source, u.remote_id});
    }
  }
  if (!keys_match) commit.rekey = &state;
  commit.new_cursors.finance = NextCursor(fetched.finance_summary, tenant_.overlap);
  commit.new_cursors.portal = NextCursor(fetched.portal_summary, tenant_.overlap);
  commit.before_commit = MaybeStopBeforeCommit;
  return run->Apply(std::move(commit),
                    fetched.quarantined.empty() ? "succeeded" : "succeeded_with_warnings",
                    std::move(sources));
}

}  // namespace concord::daemon
