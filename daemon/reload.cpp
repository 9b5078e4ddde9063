#include "daemon/reload.hpp"

#include <map>

namespace concord::daemon {
namespace {

std::map<std::string, const TenantConfig*> ById(const std::vector<TenantConfig>& tenants) {
  std::map<std::string, const TenantConfig*> out;
  for (const auto& t : tenants) out.emplace(t.id, &t);
  return out;
}

// Keeps the running value of a setting that needs a restart, naming it when the file differs.
template <typename T>
void KeepRunning(const std::string& key, const T& running, T& fresh,
                 std::vector<std::string>& restart_required) {
  if (fresh == running) return;
  restart_required.push_back(key);
  fresh = running;
}

}  // namespace

TenantChanges DiffTenants(const std::vector<TenantConfig>& running,
                          const std::vector<TenantConfig>& fresh) {
  const auto before = ById(running);
  const auto after = ById(fresh);
  TenantChanges changes;
  for (const auto& t : fresh) {
    auto it = before.find(t.id);
    if (it == before.end()) {
      changes.added.push_back(t.id);
    } else if (*it->second != t) {
      changes.changed.push_back(t.id);
    }
  }
  for (const auto& t : running) {
    if (!after.contains(t.id)) changes.removed.push_back(t.id);
  }
  return changes;
}

ReloadPlan PlanReload(const Config& running, Config fresh) {
  ReloadPlan reload;
  reload.tenants = DiffTenants(running.tenants, fresh.tenants);
  KeepRunning("database.url", running.database_url, fresh.database_url, reload.restart_required);
  KeepRunning("http.listen", running.http.listen, fresh.http.listen, reload.restart_required);
  KeepRunning("log.format", running.log.format, fresh.log.format, reload.restart_required);
  KeepRunning("log.level", running.log.level, fresh.log.level, reload.restart_required);
  KeepRunning("scheduler.concurrent_runs", running.scheduler.concurrent_runs,
              fresh.scheduler.concurrent_runs, reload.restart_required);
  reload.config = std::move(fresh);
  return reload;
}

}  // namespace concord::daemon
