#pragma once
// The tenant's canonical state in PostgreSQL: source records, persons, links, merges, review
// items, runs, events and cursors. All statements live in store/sql.hpp.

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reconcile/email_key.hpp"
#include "reconcile/model.hpp"
#include "store/lease.hpp"
#include "store/pg.hpp"

namespace concord::store {

struct Cursors {
  std::optional<reconcile::Millis> finance;
  std::optional<reconcile::Millis> portal;
};

// Everything one run commits, in one transaction (DESIGN.md §4 step 6).
struct RunCommit {
  std::string tenant_id;
  std::int64_t run_id = 0;
  Lease lease;
  const std::vector<reconcile::FinancePerson>* finance = nullptr;  // fetched this run
  const std::vector<reconcile::PortalUser>* portal = nullptr;
  const std::vector<reconcile::QuarantinedRecord>* quarantined = nullptr;
  const reconcile::Plan* plan = nullptr;
  Cursors new_cursors;               // only the sides that advance
  std::string status = "succeeded";  // the run's final status, committed with its data
  // The run's counts; Apply sets review_opened/review_closed from what it really changed.
  boost::json::object counts;
  // Admin decisions committed with the plan they led to.
  std::vector<reconcile::KeepSeparate> keep_separate;
  std::optional<std::int64_t> undone_merge_id;
  std::optional<std::int64_t> resolved_review_id;
  std::string resolution_json = "{}";
  // Records erased on request this run: tombstoned, and their copies in events and
  // quarantine erased (the record rows themselves arrive already blanked).
  std::vector<reconcile::SubjectRef> erased;
  // The tenant's rules: the neighbour keys of the records written are computed under them.
  reconcile::LooseRules rules;
  // Set when the plan saw only a neighbourhood: the records it held. Review items about
  // other records are left as they are.
  std::optional<std::vector<reconcile::SubjectRef>> review_scope;
  // Set when the stored keys do not match `rules`: the tenant's whole state (every record),
  // re-keyed under `rules` in this transaction.
  const reconcile::State* rekey = nullptr;
  // Called inside the transaction just before COMMIT (tests use it to crash at that point).
  std::function<void()> before_commit;
};

struct StoredMerge {
  std::string tenant_id;
  bool undone = false;
  reconcile::Merge merge;  // with its snapshot
};

struct StoredReviewItem {
  std::int64_t id = 0;
  std::string tenant_id, kind, dedup_key, reason, status;
  std::optional<std::string> email;
  std::vector<reconcile::SubjectRef> subjects;
  std::vector<std::string> person_ids;
};

// What `concord explain` prints about one person.
struct Explanation {
  reconcile::Person person;
  struct LinkRow {
    reconcile::Link link;
    std::int64_t run_id = 0;  // the run that made or last changed it
  };
  std::vector<LinkRow> links;
  struct EventRow {
    std::int64_t run_id = 0;
    int seq = 0;
    reconcile::Event event;
  };
  std::vector<EventRow> events;
  struct MergeRow {
    std::int64_t id = 0;
    std::string loser_id, reason;
    std::int64_t run_id = 0;
    bool undone = false;
  };
  std::vector<MergeRow> merges;
};

// What the apply actually changed in the review queue (the plan lists the situations; the
// store knows which of them are new and which went away).
struct ReviewChange {
  bool opened = true;  // false: closed
  std::string kind;
  std::string dedup_key;
  std::optional<std::string> email;
  std::string subjects_json;
  std::string person_ids_json;
};

struct AppliedRun {
  std::vector<ReviewChange> review_changes;
  boost::json::object counts;            // as committed on the run
  std::vector<reconcile::Event> events;  // the events stored, in order
};

struct ExportFinanceLink {
  std::string source, remote_id, account_id, account_name, email, status, rule;
};
struct ExportPortalLink {
  std::string source, remote_id, user_name, email, status, rule;
  bool active = true;
};
struct ExportPerson {
  reconcile::Person person;
  std::vector<ExportFinanceLink> finance;
  std::vector<ExportPortalLink> portal;
};

struct OpenReviewItem {
  std::int64_t id = 0;
  std::string kind, reason;
  std::optional<std::string> email;
  std::string subjects_json, person_ids_json;
};

// Thrown by Apply when the lease was lost: nothing was committed.
class LeaseLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An apply transaction with the run's source records written and the rest to come
// (CanonicalStore::WriteSources). Dropped unfinished, it rolls back; until it is finished or
// dropped the connection is its own.
class SourcesWritten {
 private:
  friend class CanonicalStore;
  std::unique_ptr<Transaction> tx_;
  bool persons_empty_ = false;  // persons and links hold no row of the tenant: COPY directly
  bool links_empty_ = false;
};

class CanonicalStore {
 public:
  explicit CanonicalStore(Connection& conn) : conn_(conn) {}

  // Inserts a `running` run. Call while holding the tenant's lease: earlier runs of the
  // tenant still marked running are then known dead and are marked failed (abandoned).
  [[nodiscard]] std::int64_t StartRun(const std::string& tenant_id, std::string_view trigger,
                                      std::string_view mode, bool dry_run);
  void FinishRun(std::int64_t run_id, std::string_view status, const std::string& counts_json,
                 const std::optional<std::string>& error,
                 const std::optional<std::string>& plan_json);

  [[nodiscard]] Cursors LoadCursors(const std::string& tenant_id);

  // Stored source records (without raw JSON), persons and links of one tenant.
  [[nodiscard]] reconcile::State LoadState(const std::string& tenant_id);

  // The stored neighbourhood of these fetched records (reconcile/neighbourhood.hpp): what an
  // incremental run must load, and no more. Only valid while StoredKeysMatch(rules). Reads in
  // a read-only transaction of its own (one snapshot for every hop): call it outside one.
  [[nodiscard]] reconcile::State LoadNeighbourhood(
      const std::string& tenant_id, const std::vector<reconcile::FinancePerson>& finance,
      const std::vector<reconcile::PortalUser>& portal, const reconcile::LooseRules& rules);
  // Whether every stored record of the tenant carries neighbour keys made under `rules`.
  [[nodiscard]] bool StoredKeysMatch(const std::string& tenant_id,
                                     const reconcile::LooseRules& rules);
  // Active, not merged-away persons of the tenant (the deactivation safeguard's base).
  [[nodiscard]] std::int64_t CountActivePersons(const std::string& tenant_id);

  // The part of a run's apply transaction that needs no plan: opens the transaction, re-checks
  // the lease and writes the fetched source records (`finance`, `portal`, under `rules`) of
  // `commit`. A run does it while its plan is made; Apply then finishes the transaction.
  // Throws LeaseLost or DbError with nothing committed.
  [[nodiscard]] SourcesWritten WriteSources(const RunCommit& commit);

  // Applies a run in one transaction after re-checking the lease; throws LeaseLost or
  // DbError with nothing committed.
  AppliedRun Apply(const RunCommit& commit) { return Apply(commit, WriteSources(commit)); }
  // The same, in the transaction WriteSources(commit) opened.
  AppliedRun Apply(const RunCommit& commit, SourcesWritten sources);

  // Live persons with their links, in export order (email, then smallest linked remote id).
  [[nodiscard]] std::vector<ExportPerson> Export(const std::string& tenant_id);
  [[nodiscard]] std::vector<OpenReviewItem> OpenReviewItems(const std::string& tenant_id);

  [[nodiscard]] std::optional<StoredMerge> LoadMerge(std::int64_t merge_id);
  [[nodiscard]] std::optional<StoredReviewItem> LoadReviewItem(std::int64_t review_id);
  // Records erased on request (never imported again).
  [[nodiscard]] std::set<reconcile::SubjectRef> LoadTombstones(const std::string& tenant_id);
  // Live persons whose exact email key is `email_key`, each with links, events and merges.
  [[nodiscard]] std::vector<Explanation> Explain(const std::string& tenant_id,
                                                 const std::string& email_key);

 private:
  Connection& conn_;
};

}  // namespace concord::store
