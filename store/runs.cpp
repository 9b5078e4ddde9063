#include "store/runs.hpp"

#include "store/runs_sql.hpp"

namespace concord::store {
namespace {

std::string Num(std::int64_t value) { return std::to_string(value); }

Param OptNum(const std::optional<std::int64_t>& value) {
  return value ? Param(Num(*value)) : Param(std::nullopt);
}

RunRow ReadRun(const Result& r, int row) {
  RunRow run;
  run.id = r.Int(row, 0);
  run.tenant_id = r.Text(row, 1);
  run.trigger = r.Text(row, 2);
  run.mode = r.Text(row, 3);
  run.dry_run = r.Bool(row, 4);
  run.status = r.Text(row, 5);
  run.started_at = r.Text(row, 6);
  run.finished_at = r.OptionalText(row, 7);
  run.counts_json = r.Text(row, 8);
  run.error = r.OptionalText(row, 9);
  run.duration_seconds = std::stod(std::string(r.Text(row, 10)));
  run.has_plan = r.Bool(row, 11);
  return run;
}

}  // namespace

std::optional<RunRow> RunsStore::Run(std::int64_t run_id) {
  auto r = conn_.ExecPrepared(sql::kRunById, {Num(run_id)});
  if (r.Rows() == 0) return std::nullopt;
  return ReadRun(r, 0);
}

std::vector<RunRow> RunsStore::Runs(const std::string& tenant_id, std::int64_t before, int limit) {
  auto r = conn_.Exec(sql::kRunsOfTenant, {tenant_id, Num(before), Num(limit)});
  std::vector<RunRow> out;
  for (int i = 0; i < r.Rows(); ++i) out.push_back(ReadRun(r, i));
  return out;
}

std::optional<RunRow> RunsStore::RunningRun(const std::string& tenant_id) {
  auto r = conn_.Exec(sql::kRunningRun, {tenant_id});
  if (r.Rows() == 0) return std::nullopt;
  return ReadRun(r, 0);
}

std::int64_t RunsStore::NewestRunId(const std::string& tenant_id) {
  return conn_.Exec(sql::kNewestRunId, {tenant_id}).Int(0, 0);
}

std::optional<std::int64_t> RunsStore::FirstRunAfter(const std::string& tenant_id,
                                                     std::int64_t after) {
  auto r = conn_.Exec(sql::kFirstRunAfter, {tenant_id, Num(after)});
  if (r.Rows() == 0) return std::nullopt;
  return r.Int(0, 0);
}

std::optional<std::string> RunsStore::Plan(std::int64_t run_id) {
  auto r = conn_.Exec(sql::kRunPlan, {Num(run_id)});
  if (r.Rows() == 0) return std::nullopt;
  return r.OptionalText(0, 0);
}

std::vector<EventRow> RunsStore::Events(std::int64_t run_id, const std::optional<std::string>& kind,
                                        int after, int limit) {
  auto r = conn_.Exec(sql::kRunEvents, {Num(run_id), kind, Num(after), Num(limit)});
  std::vector<EventRow> out;
  for (int i = 0; i < r.Rows(); ++i) {
    EventRow e;
    e.seq = static_cast<int>(r.Int(i, 0));
    e.kind = r.Text(i, 1);
    e.person_id = r.OptionalText(i, 2);
    e.subjects_json = r.Text(i, 3);
    e.rule = r.Text(i, 4);
    e.reason = r.Text(i, 5);
    out.push_back(std::move(e));
  }
  return out;
}

bool RunsStore::LeaseHeld(const std::string& tenant_id) {
  return conn_.Exec(sql::kLeaseHeld, {tenant_id}).Bool(0, 0);
}

std::map<std::string, std::int64_t> RunsStore::OpenReviewCounts() {
  auto r = conn_.Exec(sql::kOpenReviewCounts);
  std::map<std::string, std::int64_t> out;
  for (int i = 0; i < r.Rows(); ++i) out[std::string(r.Text(i, 0))] = r.Int(i, 1);
  return out;
}

void ScheduleTable::Ensure(const std::string& tenant_id, std::int64_t next_run_ms,
                           std::int64_t next_full_ms) {
  conn_.Exec(sql::kEnsureTenant, {tenant_id});
  conn_.Exec(sql::kEnsureSchedule, {tenant_id, Num(next_run_ms), Num(next_full_ms)});
}

std::vector<ScheduleClaim> ScheduleTable::ClaimDue(const std::vector<std::string>& tenants,
                                                   const std::string& owner, std::int64_t now_ms,
                                                   std::int64_t claim_ms, int limit) {
  auto r = conn_.Exec(sql::kClaimDue,
                      {TextArrayLiteral(tenants), owner, Num(now_ms), Num(claim_ms), Num(limit)});
  std::vector<ScheduleClaim> out;
  for (int i = 0; i < r.Rows(); ++i) {
    out.push_back({std::string(r.Text(i, 0)), r.Bool(i, 1), static_cast<int>(r.Int(i, 2))});
  }
  return out;
}

void ScheduleTable::Record(const std::string& tenant_id, const std::string& owner,
                           const ScheduleUpdate& u) {
  conn_.Exec(sql::kRecordRun,
             {tenant_id, owner, Num(u.next_run_ms), OptNum(u.next_full_ms), Num(u.failures),
              u.last_status, Num(u.last_run_id), OptNum(u.last_success_ms)});
}

void ScheduleTable::ReleaseClaim(const std::string& tenant_id, const std::string& owner) {
  conn_.Exec(sql::kReleaseClaim, {tenant_id, owner});
}

std::optional<ScheduleRow> ScheduleTable::Load(const std::string& tenant_id) {
  auto r = conn_.Exec(sql::kLoadSchedule, {tenant_id});
  if (r.Rows() == 0) return std::nullopt;
  ScheduleRow row;
  row.tenant_id = r.Text(0, 0);
  row.next_run_ms = r.Int(0, 1);
  row.next_full_ms = r.Int(0, 2);
  row.failures = static_cast<int>(r.Int(0, 3));
  row.claimed_by = r.OptionalText(0, 4);
  row.last_status = r.OptionalText(0, 5);
  if (!r.IsNull(0, 6)) row.last_success_ms = r.Int(0, 6);
  return row;
}

}  // namespace concord::store
