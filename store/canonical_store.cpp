#include "store/canonical_store.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <tuple>

#include "reconcile/neighbourhood.hpp"
#include "store/model_json.hpp"
#include "store/sql.hpp"

namespace concord::store {
namespace json = boost::json;
using reconcile::EventKind;
using reconcile::ToString;

namespace {

// Rows written by one run from which fresh planner statistics pay for themselves.
constexpr std::size_t kAnalyzeAfterRows = 10'000;
// Staged rows from which a staging table is analysed or indexed before it is joined. Below it
// any plan is cheap, and ANALYZE is not: with its catalog writes it was a tenth of
// PostgreSQL's time for a 1,000-person first sync, with 41 review items staged.
constexpr std::size_t kAnalyzeStagedFrom = 500;

std::string Str(std::string_view v) { return std::string(v); }
std::string Num(std::int64_t v) { return std::to_string(v); }

// One row of kLoadPersons / kExportPersons.
reconcile::Person ReadPerson(const Result& rows, int i) {
  reconcile::Person p;
  p.id = rows.Text(i, 0);
  p.status =
      reconcile::ParsePersonStatus(rows.Text(i, 1)).value_or(reconcile::PersonStatus::kActive);
  p.origin = reconcile::ParseOrigin(rows.Text(i, 2)).value_or(reconcile::Origin::kFinance);
  p.email = rows.OptionalText(i, 3);
  p.given_name = rows.Text(i, 4);
  p.family_name = rows.Text(i, 5);
  p.display_name = rows.Text(i, 6);
  p.created_run = rows.Int(i, 7);
  p.merged_into = rows.OptionalText(i, 8);
  p.merged_from = ParseTextArray(rows.Text(i, 9));
  p.memberships = MembershipsFromJson(json::parse(rows.Text(i, 10)));
  return p;
}

// One row of kLoadFinance / kHoodFinanceByKey / kHoodFinanceById.
reconcile::FinancePerson ReadFinance(const Result& rows, int i) {
  reconcile::FinancePerson r;
  r.source = rows.Text(i, 0);
  r.remote_id = rows.Text(i, 1);
  r.account_id = rows.Text(i, 2);
  r.account_name = rows.Text(i, 3);
  r.given_name = rows.Text(i, 4);
  r.family_name = rows.Text(i, 5);
  r.email = rows.Text(i, 6);
  r.email2 = rows.Text(i, 7);
  r.status = reconcile::ParseLinkStatus(rows.Text(i, 8)).value_or(reconcile::LinkStatus::kActive);
  r.updated_at = rows.Int(i, 9);
  return r;
}

// One row of kLoadPortal / kHoodPortalByKey / kHoodPortalById.
reconcile::PortalUser ReadPortal(const Result& rows, int i) {
  reconcile::PortalUser u;
  u.source = rows.Text(i, 0);
  u.remote_id = rows.Text(i, 1);
  u.user_name = rows.Text(i, 2);
  u.email = rows.Text(i, 3);
  u.given_name = rows.Text(i, 4);
  u.family_name = rows.Text(i, 5);
  u.display_name = rows.Text(i, 6);
  u.active = rows.Bool(i, 7);
  u.updated_at = rows.Int(i, 8);
  u.groups = ParseTextArray(rows.Text(i, 9));
  u.entitlements = ParseTextArray(rows.Text(i, 10));
  u.deleted = rows.Bool(i, 11);
  return u;
}

// One row of kLoadLinks / kHoodLinks.
reconcile::Link ReadLink(const Result& rows, int i) {
  reconcile::Link l;
  l.side = reconcile::ParseSide(rows.Text(i, 0)).value_or(reconcile::Side::kFinance);
  l.source = rows.Text(i, 1);
  l.remote_id = rows.Text(i, 2);
  l.person_id = rows.Text(i, 3);
  l.rule = reconcile::ParseLinkRule(rows.Text(i, 4)).value_or(reconcile::LinkRule::kEmailExact);
  l.status = reconcile::ParseLinkStatus(rows.Text(i, 5)).value_or(reconcile::LinkStatus::kActive);
  l.evidence = rows.Text(i, 6);
  l.permissions = ParseTextArray(rows.Text(i, 7));
  return l;
}

std::string SubjectsJson(const std::vector<reconcile::SubjectRef>& subjects) {
  json::array out;
  for (const auto& s : subjects) {
    out.push_back(
        json::object{{"side", ToString(s.side)}, {"source", s.source}, {"remote_id", s.remote_id}});
  }
  return json::serialize(out);
}

std::string StringsJson(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.push_back(json::string(s));
  return json::serialize(out);
}

// How one table takes a run's rows. A table that holds no row of the tenant yet (its first
// sync) takes them by COPY straight into the table; otherwise they are staged (same columns,
// same order) and upserted by one statement. On a first sync of 1,000 persons that took the
// statements writing the four tables from about 150 ms to 100 ms.
void BeginWrite(Connection& conn, bool direct, std::string_view stage, std::string_view copy,
                std::string_view copy_direct) {
  if (!direct) conn.Exec(stage);
  conn.CopyBegin(direct ? copy_direct : copy);
}

void EndWrite(Connection& conn, bool direct, std::string_view upsert) {
  conn.CopyEnd();
  if (!direct) conn.Exec(upsert);
}

void WriteFinance(Connection& conn, bool direct, const std::string& tenant, const std::string& run,
                  const std::vector<reconcile::FinancePerson>& records,
                  const reconcile::LooseRules& rules) {
  BeginWrite(conn, direct, sql::kStageFinance, sql::kCopyFinance, sql::kCopyFinanceDirect);
  for (const auto& r : records) {
    conn.CopyRow({r.source, r.remote_id, r.account_id, r.account_name, r.given_name, r.family_name,
                  r.email, r.email2, ToString(r.status), Num(r.updated_at), r.raw_json,
                  TextArrayLiteral(reconcile::NeighbourKeys(r, rules)), tenant, run});
  }
  EndWrite(conn, direct, sql::kUpsertFinance);
}

void WritePortal(Connection& conn, bool direct, const std::string& tenant, const std::string& run,
                 const std::vector<reconcile::PortalUser>& users,
                 const reconcile::LooseRules& rules) {
  BeginWrite(conn, direct, sql::kStagePortal, sql::kCopyPortal, sql::kCopyPortalDirect);
  for (const auto& u : users) {
    conn.CopyRow({u.source, u.remote_id, u.user_name, u.email, u.given_name, u.family_name,
                  u.display_name, u.active ? "t" : "f", u.deleted ? "t" : "f", Num(u.updated_at),
                  TextArrayLiteral(u.groups), TextArrayLiteral(u.entitlements), u.raw_json,
                  TextArrayLiteral(reconcile::NeighbourKeys(u, rules)), tenant, run});
  }
  EndWrite(conn, direct, sql::kUpsertPortal);
}

// Every record of `commit.rekey` gets its keys under the commit's rules, but those the commit
// writes anyway (they get them there); the tenant is marked as keyed so.
void Rekey(Connection& conn, const RunCommit& commit) {
  std::set<std::pair<std::string_view, std::string_view>> finance_written, portal_written;
  if (commit.finance) {
    for (const auto& r : *commit.finance) finance_written.emplace(r.source, r.remote_id);
  }
  if (commit.portal) {
    for (const auto& u : *commit.portal) portal_written.emplace(u.source, u.remote_id);
  }
  bool staged = false;
  auto stage = [&](std::string_view side, const std::string& source, const std::string& remote_id,
                   const std::vector<std::string>& keys) {
    if (!staged) {
      conn.Exec(sql::kStageRekey);
      conn.CopyBegin(sql::kCopyRekey);
      staged = true;
    }
    conn.CopyRow({side, source, remote_id, TextArrayLiteral(keys)});
  };
  for (const auto& r : commit.rekey->finance) {
    if (finance_written.contains({r.source, r.remote_id})) continue;
    stage("finance", r.source, r.remote_id, reconcile::NeighbourKeys(r, commit.rules));
  }
  for (const auto& u : commit.rekey->portal) {
    if (portal_written.contains({u.source, u.remote_id})) continue;
    stage("portal", u.source, u.remote_id, reconcile::NeighbourKeys(u, commit.rules));
  }
  if (staged) {
    conn.CopyEnd();
    conn.Exec(sql::kRekeyFinance, {commit.tenant_id});
    conn.Exec(sql::kRekeyPortal, {commit.tenant_id});
  }
  conn.Exec(sql::kSaveNeighbourKeys,
            {commit.tenant_id, reconcile::NeighbourKeyVersion(commit.rules)});
}

void WritePersons(Connection& conn, bool direct, const std::string& tenant,
                  const std::vector<reconcile::Person>& persons) {
  BeginWrite(conn, direct, sql::kStagePersons, sql::kCopyPersons, sql::kCopyPersonsDirect);
  for (const auto& p : persons) {
    conn.CopyRow({p.id, ToString(p.status), ToString(p.origin), p.email, p.given_name,
                  p.family_name, p.display_name, Num(p.created_run), p.merged_into,
                  TextArrayLiteral(p.merged_from), json::serialize(ToJson(p.memberships)), tenant});
  }
  EndWrite(conn, direct, sql::kUpsertPersons);
}

void WriteLinks(Connection& conn, bool direct, const std::string& tenant, const std::string& run,
                const std::vector<reconcile::Link>& links) {
  BeginWrite(conn, direct, sql::kStageLinks, sql::kCopyLinks, sql::kCopyLinksDirect);
  for (const auto& l : links) {
    conn.CopyRow({ToString(l.side), l.source, l.remote_id, l.person_id, ToString(l.rule),
                  ToString(l.status), l.evidence, TextArrayLiteral(l.permissions), tenant, run});
  }
  EndWrite(conn, direct, sql::kUpsertLinks);
}

std::vector<ReviewChange> ApplyReview(
    Connection& conn, const std::string& tenant, const std::string& run,
    const std::vector<reconcile::ReviewItem>& items,
    const std::optional<std::vector<reconcile::SubjectRef>>& scope) {
  if (scope) {
    conn.Exec(sql::kStageScope);
    conn.CopyBegin(sql::kCopyScope);
    for (const auto& s : *scope) conn.CopyRow({ToString(s.side), s.source, s.remote_id});
    conn.CopyEnd();
    if (scope->size() >= kAnalyzeStagedFrom) conn.Exec(sql::kAnalyzeScope);
  }
  conn.Exec(sql::kStageReview);
  conn.CopyBegin(sql::kCopyReview);
  for (const auto& item : items) {
    conn.CopyRow({ToString(item.kind), item.dedup_key, item.reason, item.email,
                  SubjectsJson(item.subjects), StringsJson(item.person_ids)});
  }
  conn.CopyEnd();
  if (items.size() >= kAnalyzeStagedFrom) conn.Exec(sql::kIndexReview);
  std::vector<ReviewChange> changes;
  for (bool opened : {true, false}) {
    auto rows = conn.Exec(opened  ? sql::kOpenReview
                          : scope ? sql::kCloseReviewInScope
                                  : sql::kCloseReview,
                          {tenant, run});
    for (int i = 0; i < rows.Rows(); ++i) {
      changes.push_back({opened, Str(rows.Text(i, 0)), Str(rows.Text(i, 1)),
                         rows.OptionalText(i, 2), Str(rows.Text(i, 3)), Str(rows.Text(i, 4))});
    }
  }
  std::sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) {
    return std::tie(b.opened, a.dedup_key) < std::tie(a.opened, b.dedup_key);
  });
  return changes;
}

// Subjects of a review change back as model values, for the event.
std::vector<reconcile::SubjectRef> ParseSubjects(const std::string& text) {
  std::vector<reconcile::SubjectRef> out;
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_array()) return out;
  for (const auto& s : value.as_array()) {
    if (!s.is_object()) continue;
    const auto& o = s.as_object();
    auto text_of = [&](const char* key) -> std::string {
      auto* v = o.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    out.push_back({reconcile::ParseSide(text_of("side")).value_or(reconcile::Side::kFinance),
                   text_of("source"), text_of("remote_id")});
  }
  return out;
}

}  // namespace

std::int64_t CanonicalStore::StartRun(const std::string& tenant_id, std::string_view trigger,
                                      std::string_view mode, bool dry_run) {
  conn_.Exec(sql::kEnsureTenant, {tenant_id});
  auto run_id =
      conn_.Exec(sql::kInsertRun, {tenant_id, Str(trigger), Str(mode), dry_run ? "t" : "f"})
          .Int(0, 0);
  conn_.Exec(sql::kAbandonRuns, {tenant_id, Num(run_id)});
  return run_id;
}

void CanonicalStore::FinishRun(std::int64_t run_id, std::string_view status,
                               const std::string& counts_json,
                               const std::optional<std::string>& error,
                               const std::optional<std::string>& plan_json) {
  conn_.Exec(sql::kFinishRun, {Num(run_id), Str(status), counts_json, error, plan_json});
}

Cursors CanonicalStore::LoadCursors(const std::string& tenant_id) {
  Cursors cursors;
  auto rows = conn_.Exec(sql::kLoadCursors, {tenant_id});
  for (int i = 0; i < rows.Rows(); ++i) {
    (rows.Text(i, 0) == "finance" ? cursors.finance : cursors.portal) = rows.Int(i, 1);
  }
  return cursors;
}

reconcile::State CanonicalStore::LoadState(const std::string& tenant_id) {
  reconcile::State state;
  auto finance = conn_.Exec(sql::kLoadFinance, {tenant_id});
  state.finance.reserve(finance.Rows());
  for (int i = 0; i < finance.Rows(); ++i) state.finance.push_back(ReadFinance(finance, i));
  auto portal = conn_.Exec(sql::kLoadPortal, {tenant_id});
  state.portal.reserve(portal.Rows());
  for (int i = 0; i < portal.Rows(); ++i) state.portal.push_back(ReadPortal(portal, i));
  auto persons = conn_.Exec(sql::kLoadPersons, {tenant_id});
  state.persons.reserve(persons.Rows());
  for (int i = 0; i < persons.Rows(); ++i) state.persons.push_back(ReadPerson(persons, i));
  auto links = conn_.Exec(sql::kLoadLinks, {tenant_id});
  state.links.reserve(links.Rows());
  for (int i = 0; i < links.Rows(); ++i) state.links.push_back(ReadLink(links, i));
  auto separate = conn_.Exec(sql::kLoadKeepSeparate, {tenant_id});
  for (int i = 0; i < separate.Rows(); ++i) {
    state.keep_separate.push_back({Str(separate.Text(i, 0)), Str(separate.Text(i, 1))});
  }
  return state;
}

reconcile::State CanonicalStore::LoadNeighbourhood(
    const std::string& tenant_id, const std::vector<reconcile::FinancePerson>& finance,
    const std::vector<reconcile::PortalUser>& portal, const reconcile::LooseRules& rules) {
  using reconcile::Side;
  reconcile::State state;
  // What is loaded, and the frontier of the next hop: keys, records and persons not yet
  // followed. A hop loads the records the frontier names or shares a key with, then the
  // links of new records and frontier persons, then those persons (and the persons merged
  // into them); whatever they name that is new is the next frontier.
  std::set<std::string> keys_seen, persons_seen, persons_loaded;
  std::set<reconcile::SubjectRef> records_seen, links_seen;
  std::vector<std::string> keys;
  std::vector<reconcile::SubjectRef> records;
  std::vector<std::string> persons;
  auto add_keys = [&](const std::vector<std::string>& record_keys) {
    for (const auto& k : record_keys) {
      if (keys_seen.insert(k).second) keys.push_back(k);
    }
  };
  auto add_person = [&](const std::string& id) {
    if (persons_seen.insert(id).second) persons.push_back(id);
  };
  for (const auto& r : finance) {
    add_keys(reconcile::NeighbourKeys(r, rules));
    records.push_back({Side::kFinance, r.source, r.remote_id});
  }
  for (const auto& u : portal) {
    add_keys(reconcile::NeighbourKeys(u, rules));
    records.push_back({Side::kPortal, u.source, u.remote_id});
  }
  Transaction snapshot(conn_, sql::kBeginHood);
  conn_.Exec(sql::kHoodWithoutJit);
  std::multimap<std::string, std::string> separate;
  auto pairs = conn_.Exec(sql::kLoadKeepSeparate, {tenant_id});
  for (int i = 0; i < pairs.Rows(); ++i) {
    reconcile::KeepSeparate k{Str(pairs.Text(i, 0)), Str(pairs.Text(i, 1))};
    separate.emplace(k.person_a, k.person_b);
    separate.emplace(k.person_b, k.person_a);
    state.keep_separate.push_back(std::move(k));
  }

  while (!keys.empty() || !records.empty() || !persons.empty()) {
    const auto key_list = TextArrayLiteral(keys);
    const bool by_key = !keys.empty();
    keys.clear();
    // Records: new ones bring their keys, and their links must be followed.
    std::vector<reconcile::SubjectRef> new_records;
    auto take = [&](reconcile::SubjectRef ref, const Result& rows, int i, int keys_column) {
      if (!records_seen.insert(ref).second) return false;
      add_keys(ParseTextArray(rows.Text(i, keys_column)));
      new_records.push_back(std::move(ref));
      return true;
    };
    auto take_finance = [&](const Result& f) {
      for (int i = 0; i < f.Rows(); ++i) {
        if (take({Side::kFinance, Str(f.Text(i, 0)), Str(f.Text(i, 1))}, f, i, 10)) {
          state.finance.push_back(ReadFinance(f, i));
        }
      }
    };
    auto take_portal = [&](const Result& p) {
      for (int i = 0; i < p.Rows(); ++i) {
        if (take({Side::kPortal, Str(p.Text(i, 0)), Str(p.Text(i, 1))}, p, i, 12)) {
          state.portal.push_back(ReadPortal(p, i));
        }
      }
    };
    if (by_key) {
      take_finance(conn_.Exec(sql::kHoodFinanceByKey, {tenant_id, key_list}));
      take_portal(conn_.Exec(sql::kHoodPortalByKey, {tenant_id, key_list}));
    }
    // Named records the keys did not bring (a changed email, none, a record new to the store)
    // are looked up by id; most fetched records come back with the keys they were stored with,
    // and probing them again cost as much as the key look-up.
    std::vector<std::string> sources[2], remote_ids[2];
    for (const auto& r : records) {
      if (records_seen.contains(r)) continue;
      const int s = r.side == Side::kFinance ? 0 : 1;
      sources[s].push_back(r.source);
      remote_ids[s].push_back(r.remote_id);
    }
    records.clear();
    if (!remote_ids[0].empty()) {
      take_finance(conn_.Exec(sql::kHoodFinanceById, {tenant_id, TextArrayLiteral(sources[0]),
                                                      TextArrayLiteral(remote_ids[0])}));
    }
    if (!remote_ids[1].empty()) {
      take_portal(conn_.Exec(sql::kHoodPortalById, {tenant_id, TextArrayLiteral(sources[1]),
                                                    TextArrayLiteral(remote_ids[1])}));
    }

    // Links of the new records and of the frontier persons.
    std::vector<std::string> link_sides, link_sources, link_remote_ids;
    for (const auto& r : new_records) {
      link_sides.push_back(Str(ToString(r.side)));
      link_sources.push_back(r.source);
      link_remote_ids.push_back(r.remote_id);
    }
    const std::vector<std::string> frontier_persons = std::move(persons);
    persons.clear();
    if (!new_records.empty() || !frontier_persons.empty()) {
      auto l = conn_.Exec(sql::kHoodLinks,
                          {tenant_id, TextArrayLiteral(link_sides), TextArrayLiteral(link_sources),
                           TextArrayLiteral(link_remote_ids), TextArrayLiteral(frontier_persons)});
      for (int i = 0; i < l.Rows(); ++i) {
        reconcile::Link link = ReadLink(l, i);
        reconcile::SubjectRef ref{link.side, link.source, link.remote_id};
        if (!links_seen.insert(ref).second) continue;
        add_person(link.person_id);
        if (!records_seen.contains(ref)) records.push_back(std::move(ref));
        state.links.push_back(std::move(link));
      }
    }
    // The frontier persons themselves, the persons merged into them, the ones they were
    // merged into, and the ones kept separate from them.
    if (!frontier_persons.empty()) {
      auto rows = conn_.Exec(sql::kHoodPersons, {tenant_id, TextArrayLiteral(frontier_persons)});
      std::set<std::string> frontier(frontier_persons.begin(), frontier_persons.end());
      for (int i = 0; i < rows.Rows(); ++i) {
        reconcile::Person person = ReadPerson(rows, i);
        if (!frontier.contains(person.id)) {
          add_person(person.id);  // merged into a frontier person: loaded with its hop
          continue;
        }
        if (!persons_loaded.insert(person.id).second) continue;  // found by both halves
        if (person.merged_into) add_person(*person.merged_into);
        auto [from, to] = separate.equal_range(person.id);
        for (auto it = from; it != to; ++it) add_person(it->second);
        state.persons.push_back(std::move(person));
      }
    }
  }
  snapshot.Commit();
  return state;
}

bool CanonicalStore::StoredKeysMatch(const std::string& tenant_id,
                                     const reconcile::LooseRules& rules) {
  auto rows = conn_.Exec(sql::kLoadNeighbourKeys, {tenant_id});
  return rows.Rows() == 1 && rows.OptionalText(0, 0) == reconcile::NeighbourKeyVersion(rules);
}

std::int64_t CanonicalStore::CountActivePersons(const std::string& tenant_id) {
  return conn_.Exec(sql::kCountActivePersons, {tenant_id}).Int(0, 0);
}

SourcesWritten CanonicalStore::WriteSources(const RunCommit& commit) {
  const std::string& tenant = commit.tenant_id;
  const std::string run = Num(commit.run_id);
  SourcesWritten sources;
  sources.tx_ = std::make_unique<Transaction>(conn_);
  // The row stays locked until the transaction ends: from here no other replica can take the
  // lease, however long the plan and the rest of the apply take.
  if (conn_.Exec(sql::kCheckLease, {tenant, commit.lease.owner, Num(commit.lease.fence)}).Rows() ==
      0) {
    throw LeaseLost("the lease on tenant '" + tenant +
                    "' was lost before commit; nothing was applied");
  }
  // Decided inside the transaction: a concurrent writer the lease did not stop would make the
  // direct COPY fail on the primary key, never write a row twice.
  const auto empty = conn_.Exec(sql::kTenantTablesEmpty, {tenant});
  if (commit.finance && !commit.finance->empty()) {
    WriteFinance(conn_, empty.Bool(0, 0), tenant, run, *commit.finance, commit.rules);
  }
  if (commit.portal && !commit.portal->empty()) {
    WritePortal(conn_, empty.Bool(0, 1), tenant, run, *commit.portal, commit.rules);
  }
  sources.persons_empty_ = empty.Bool(0, 2);
  sources.links_empty_ = empty.Bool(0, 3);
  return sources;
}

AppliedRun CanonicalStore::Apply(const RunCommit& commit, SourcesWritten sources) {
  const std::string& tenant = commit.tenant_id;
  const std::string run = Num(commit.run_id);
  AppliedRun applied;

  const reconcile::Plan& plan = *commit.plan;
  if (!plan.persons.empty()) WritePersons(conn_, sources.persons_empty_, tenant, plan.persons);
  if (!plan.links.empty()) WriteLinks(conn_, sources.links_empty_, tenant, run, plan.links);
  for (const auto& m : plan.merges) {
    conn_.Exec(sql::kInsertMerge, {tenant, run, m.loser_id, m.survivor_id, m.reason,
                                   json::serialize(SnapshotJson(m))});
  }
  for (const auto& k : commit.keep_separate) {
    conn_.Exec(sql::kInsertKeepSeparate,
               {tenant, k.person_a, k.person_b,
                commit.undone_merge_id ? "merge " + Num(*commit.undone_merge_id) + " undone"
                                       : "review item resolved: keep separate"});
  }
  if (commit.undone_merge_id &&
      conn_.Exec(sql::kMarkMergeUndone, {Num(*commit.undone_merge_id)}).AffectedRows() != 1) {
    throw DbError("", "merge " + Num(*commit.undone_merge_id) + " was undone meanwhile");
  }
  if (commit.resolved_review_id && conn_.Exec(sql::kResolveReview, {Num(*commit.resolved_review_id),
                                                                    run, commit.resolution_json})
                                           .AffectedRows() != 1) {
    throw DbError(
        "", "review item " + Num(*commit.resolved_review_id) + " was resolved or closed meanwhile");
  }
  for (const auto& e : commit.erased) {
    std::vector<Param> key{tenant, Str(ToString(e.side)), e.source, e.remote_id};
    conn_.Exec(sql::kEraseEvents, key);
    conn_.Exec(sql::kEraseQuarantine, key);
    key.push_back(run);
    conn_.Exec(sql::kInsertTombstone, key);
  }
  applied.review_changes = ApplyReview(conn_, tenant, run, plan.review_items, commit.review_scope);
  if (commit.rekey) Rekey(conn_, commit);

  // The run's events: the plan's decisions, then quarantined records, then review changes.
  for (const auto& e : plan.events) {
    if (e.kind != EventKind::kReviewOpened && e.kind != EventKind::kReviewClosed) {
      applied.events.push_back(e);
    }
  }
  if (commit.quarantined && !commit.quarantined->empty()) {
    conn_.CopyBegin(sql::kCopyQuarantine);
    for (const auto& q : *commit.quarantined) {
      conn_.CopyRow({tenant, run, ToString(q.side), q.source, q.remote_id, q.reason, q.raw_json});
      applied.events.push_back(
          {EventKind::kQuarantined, "", {{q.side, q.source, q.remote_id}}, "", q.reason});
    }
    conn_.CopyEnd();
  }
  for (const auto& change : applied.review_changes) {
    auto ids = json::parse(change.person_ids_json);
    std::string person = ids.is_array() && !ids.as_array().empty() && ids.as_array()[0].is_string()
                             ? std::string(ids.as_array()[0].as_string())
                             : std::string();
    applied.events.push_back(
        {change.opened ? EventKind::kReviewOpened : EventKind::kReviewClosed, person,
         ParseSubjects(change.subjects_json), change.kind,
         (change.opened ? "review opened: " : "review closed, the situation went away: ") +
             change.dedup_key});
  }
  conn_.CopyBegin(sql::kCopyEvents);
  int seq = 0;
  for (const auto& e : applied.events) {
    conn_.CopyRow({run, Num(++seq), tenant, ToString(e.kind),
                   e.person_id.empty() ? CopyField() : CopyField(e.person_id),
                   SubjectsJson(e.subjects), e.rule, e.reason});
  }
  conn_.CopyEnd();

  if (commit.new_cursors.finance) {
    conn_.Exec(sql::kSaveCursor, {tenant, "finance", Num(*commit.new_cursors.finance), run});
  }
  if (commit.new_cursors.portal) {
    conn_.Exec(sql::kSaveCursor, {tenant, "portal", Num(*commit.new_cursors.portal), run});
  }
  applied.counts = commit.counts;
  std::int64_t opened = 0;
  for (const auto& change : applied.review_changes) opened += change.opened ? 1 : 0;
  applied.counts["review_opened"] = opened;
  applied.counts["review_closed"] =
      static_cast<std::int64_t>(applied.review_changes.size()) - opened;
  conn_.Exec(sql::kFinishRun,
             {run, commit.status, json::serialize(applied.counts), Param(), Param()});
  if (commit.before_commit) commit.before_commit();
  sources.tx_->Commit();
  const auto written = (commit.finance ? commit.finance->size() : 0) +
                       (commit.portal ? commit.portal->size() : 0) + plan.persons.size();
  if (written >= kAnalyzeAfterRows) {
    try {
      conn_.Exec(sql::kAnalyzeCanonical);
    } catch (const DbError&) {
      // Only an optimisation: autovacuum analyses the tables a little later anyway.
    }
  }
  return applied;
}

std::vector<ExportPerson> CanonicalStore::Export(const std::string& tenant_id) {
  std::map<std::string, ExportPerson> by_id;
  auto persons = conn_.Exec(sql::kExportPersons, {tenant_id});
  for (int i = 0; i < persons.Rows(); ++i) {
    ExportPerson e{ReadPerson(persons, i), {}, {}};
    std::sort(e.person.merged_from.begin(), e.person.merged_from.end());
    auto id = e.person.id;
    by_id.emplace(std::move(id), std::move(e));
  }
  auto finance = conn_.Exec(sql::kExportFinanceLinks, {tenant_id});
  for (int i = 0; i < finance.Rows(); ++i) {
    auto it = by_id.find(Str(finance.Text(i, 0)));
    if (it == by_id.end()) continue;
    it->second.finance.push_back({Str(finance.Text(i, 1)), Str(finance.Text(i, 2)),
                                  Str(finance.Text(i, 3)), Str(finance.Text(i, 4)),
                                  Str(finance.Text(i, 5)), Str(finance.Text(i, 6)),
                                  Str(finance.Text(i, 7))});
  }
  auto portal = conn_.Exec(sql::kExportPortalLinks, {tenant_id});
  for (int i = 0; i < portal.Rows(); ++i) {
    auto it = by_id.find(Str(portal.Text(i, 0)));
    if (it == by_id.end()) continue;
    ExportPortalLink link{Str(portal.Text(i, 1)), Str(portal.Text(i, 2)), Str(portal.Text(i, 3)),
                          Str(portal.Text(i, 4)), Str(portal.Text(i, 6)), Str(portal.Text(i, 7)),
                          portal.Bool(i, 5)};
    it->second.portal.push_back(std::move(link));
  }

  std::vector<ExportPerson> out;
  out.reserve(by_id.size());
  for (auto& [id, e] : by_id) {
    auto by_remote = [](const auto& a, const auto& b) {
      return std::tie(a.source, a.remote_id) < std::tie(b.source, b.remote_id);
    };
    std::sort(e.finance.begin(), e.finance.end(), by_remote);
    std::sort(e.portal.begin(), e.portal.end(), by_remote);
    out.push_back(std::move(e));
  }
  // Export order: by email (persons without one last), then by the smallest linked remote id.
  auto sort_key = [](const ExportPerson& e) {
    std::string smallest;
    for (const auto& l : e.finance) {
      if (smallest.empty() || l.remote_id < smallest) smallest = l.remote_id;
    }
    for (const auto& l : e.portal) {
      if (smallest.empty() || l.remote_id < smallest) smallest = l.remote_id;
    }
    return std::make_tuple(!e.person.email.has_value(), e.person.email.value_or(""), smallest,
                           e.person.id);
  };
  std::sort(out.begin(), out.end(), [&](const ExportPerson& a, const ExportPerson& b) {
    return sort_key(a) < sort_key(b);
  });
  return out;
}

std::optional<StoredMerge> CanonicalStore::LoadMerge(std::int64_t merge_id) {
  auto rows = conn_.Exec(sql::kLoadMerge, {Num(merge_id)});
  if (rows.Rows() == 0) return std::nullopt;
  StoredMerge stored;
  stored.merge.id = rows.Int(0, 0);
  stored.tenant_id = rows.Text(0, 1);
  stored.merge.loser_id = rows.Text(0, 2);
  stored.merge.survivor_id = rows.Text(0, 3);
  stored.merge.reason = rows.Text(0, 4);
  ReadSnapshot(json::parse(rows.Text(0, 5)), stored.merge);
  stored.undone = rows.Bool(0, 6);
  return stored;
}

std::optional<StoredReviewItem> CanonicalStore::LoadReviewItem(std::int64_t review_id) {
  auto rows = conn_.Exec(sql::kLoadReviewItem, {Num(review_id)});
  if (rows.Rows() == 0) return std::nullopt;
  StoredReviewItem item;
  item.id = rows.Int(0, 0);
  item.tenant_id = rows.Text(0, 1);
  item.kind = rows.Text(0, 2);
  item.dedup_key = rows.Text(0, 3);
  item.reason = rows.Text(0, 4);
  item.email = rows.OptionalText(0, 5);
  item.subjects = ParseSubjects(Str(rows.Text(0, 6)));
  auto ids = json::parse(rows.Text(0, 7));
  if (ids.is_array()) {
    for (const auto& id : ids.as_array()) {
      if (id.is_string()) item.person_ids.emplace_back(id.as_string());
    }
  }
  item.status = rows.Text(0, 8);
  return item;
}

std::set<reconcile::SubjectRef> CanonicalStore::LoadTombstones(const std::string& tenant_id) {
  std::set<reconcile::SubjectRef> out;
  auto rows = conn_.Exec(sql::kLoadTombstones, {tenant_id});
  for (int i = 0; i < rows.Rows(); ++i) {
    out.insert({reconcile::ParseSide(rows.Text(i, 0)).value_or(reconcile::Side::kFinance),
                Str(rows.Text(i, 1)), Str(rows.Text(i, 2))});
  }
  return out;
}

std::vector<Explanation> CanonicalStore::Explain(const std::string& tenant_id,
                                                 const std::string& email_key) {
  std::vector<Explanation> out;
  auto persons = conn_.Exec(sql::kPersonsByEmail, {tenant_id, email_key});
  for (int i = 0; i < persons.Rows(); ++i) {
    Explanation e;
    e.person = ReadPerson(persons, i);
    auto links = conn_.Exec(sql::kPersonLinks, {tenant_id, e.person.id});
    for (int j = 0; j < links.Rows(); ++j) {
      reconcile::Link l;
      l.side = reconcile::ParseSide(links.Text(j, 0)).value_or(reconcile::Side::kFinance);
      l.source = links.Text(j, 1);
      l.remote_id = links.Text(j, 2);
      l.person_id = e.person.id;
      l.rule = reconcile::ParseLinkRule(links.Text(j, 3)).value_or(l.rule);
      l.status = reconcile::ParseLinkStatus(links.Text(j, 4)).value_or(l.status);
      l.evidence = links.Text(j, 5);
      l.permissions = ParseTextArray(links.Text(j, 7));
      e.links.push_back({std::move(l), links.Int(j, 6)});
    }
    auto events = conn_.Exec(sql::kPersonEvents, {tenant_id, e.person.id});
    for (int j = 0; j < events.Rows(); ++j) {
      reconcile::Event event;
      event.kind = reconcile::ParseEventKind(events.Text(j, 2)).value_or(event.kind);
      event.person_id = events.OptionalText(j, 3).value_or("");
      event.subjects = ParseSubjects(Str(events.Text(j, 4)));
      event.rule = events.Text(j, 5);
      event.reason = events.Text(j, 6);
      e.events.push_back({events.Int(j, 0), static_cast<int>(events.Int(j, 1)), std::move(event)});
    }
    auto merges = conn_.Exec(sql::kPersonMerges, {tenant_id, e.person.id});
    for (int j = 0; j < merges.Rows(); ++j) {
      e.merges.push_back({merges.Int(j, 0), Str(merges.Text(j, 1)), Str(merges.Text(j, 2)),
                          merges.Int(j, 3), merges.Bool(j, 4)});
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<OpenReviewItem> CanonicalStore::OpenReviewItems(const std::string& tenant_id) {
  std::vector<OpenReviewItem> items;
  auto rows = conn_.Exec(sql::kOpenReviewItems, {tenant_id});
  for (int i = 0; i < rows.Rows(); ++i) {
    items.push_back({rows.Int(i, 0), Str(rows.Text(i, 1)), Str(rows.Text(i, 2)),
                     rows.OptionalText(i, 3), Str(rows.Text(i, 4)), Str(rows.Text(i, 5))});
  }
  return items;
}

}  // namespace concord::store
