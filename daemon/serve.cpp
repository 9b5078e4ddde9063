#include "daemon/serve.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "daemon/admin.hpp"
#include "daemon/api.hpp"
#include "daemon/connection_pool.hpp"
#include "daemon/http_server.hpp"
#include "daemon/log.hpp"
#include "daemon/metrics.hpp"
#include "daemon/reload.hpp"
#include "daemon/render.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/tenant_runner.hpp"
#include "reconcile/email_key.hpp"
#include "store/canonical_store.hpp"
#include "store/lease.hpp"
#include "store/migrate.hpp"
#include "store/runs.hpp"

namespace concord::daemon {
namespace {
namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::chrono::seconds kShutdownWait{7};  // then give up: within 10 s in all
constexpr std::chrono::milliseconds kForcedReleaseWait{1000};
constexpr std::chrono::seconds kSchedulerTick{1};
constexpr std::chrono::seconds kStartWait{10};  // for a manual run's row to appear
constexpr std::chrono::seconds kSettleWait{2};  // for a finished run to release its lease

std::string ProcessOwner() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

struct ListenAddress {
  std::string host;
  unsigned short port = 0;
};

ListenAddress ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  auto bad = [&] {
    return ConfigError("'http.listen' must be \"HOST:PORT\" (e.g. \"127.0.0.1:8080\"), got \"" +
                       listen + "\"");
  };
  if (colon == std::string::npos || colon == 0) throw bad();
  ListenAddress out;
  out.host = listen.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  unsigned port = 0;
  auto text = std::string_view(listen).substr(colon + 1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port > 65535) throw bad();
  out.port = static_cast<unsigned short>(port);
  boost::system::error_code parse_ec;
  asio::ip::make_address(out.host, parse_ec);
  if (parse_ec) throw bad();
  return out;
}

// Each tenant's schedule settings, as the Scheduler takes them.
std::map<std::string, ScheduleTiming> ScheduleTimings(const Config& config) {
  std::map<std::string, ScheduleTiming> out;
  for (const auto& t : config.tenants) {
    out[t.id] = {.interval = t.interval, .full_interval = t.full_interval};
  }
  return out;
}

std::shared_ptr<const Tokens> ResolveTokens(const HttpConfig& http) {
  std::vector<std::string> admin, read;
  for (const auto& ref : http.admin_tokens) admin.push_back(ref.Resolve());
  for (const auto& ref : http.read_tokens) read.push_back(ref.Resolve());
  return std::make_shared<const Tokens>(std::move(admin), std::move(read));
}

// Each tenant's resolved webhook key, by tenant id. Resolved with the tokens, at start and on
// reload, so a key that cannot be read stops the start (or the reload) with its name.
using WebhookKeys = std::map<std::string, std::string>;

std::shared_ptr<const WebhookKeys> ResolveWebhookKeys(const Config& config) {
  WebhookKeys keys;
  for (const auto& t : config.tenants) {
    if (t.finance.webhook_key) keys[t.id] = t.finance.webhook_key->Resolve();
  }
  return std::make_shared<const WebhookKeys>(std::move(keys));
}

json::value ParseOr(const std::string& text, json::value fallback) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  return ec ? fallback : value;
}

json::object RunJson(const store::RunRow& run) {
  return {{"id", run.id},
          {"tenant", run.tenant_id},
          {"trigger", run.trigger},
          {"mode", run.mode},
          {"dry_run", run.dry_run},
          {"status", run.status},
          {"started_at", run.started_at},
          {"finished_at", run.finished_at ? json::value(*run.finished_at) : json::value(nullptr)},
          {"duration_seconds", run.duration_seconds},
          {"counts", ParseOr(run.counts_json, json::object{})},
          {"error", run.error ? json::value(*run.error) : json::value(nullptr)},
          {"has_plan", run.has_plan}};
}

json::object EventJson(const store::EventRow& e) {
  return {{"seq", e.seq},
          {"kind", e.kind},
          {"person_id", e.person_id ? json::value(*e.person_id) : json::value(nullptr)},
          {"subjects", ParseOr(e.subjects_json, json::array{})},
          {"rule", e.rule},
          {"reason", e.reason}};
}

// The shared schedule in PostgreSQL.
class PgScheduleStore final : public ScheduleStore {
 public:
  explicit PgScheduleStore(ConnectionPool& pool) : pool_(pool) {}

  void Ensure(const std::string& tenant, const NextTimes& first) override {
    auto conn = pool_.Borrow();
    store::ScheduleTable(*conn).Ensure(tenant, first.next_run_ms,
                                       first.next_full_ms.value_or(first.next_run_ms));
  }
  std::vector<ScheduleClaimed> ClaimDue(const std::vector<std::string>& tenants,
                                        const std::string& owner, std::int64_t now_ms,
                                        std::int64_t claim_ms, int limit) override {
    auto conn = pool_.Borrow();
    std::vector<ScheduleClaimed> out;
    for (auto& c : store::ScheduleTable(*conn).ClaimDue(tenants, owner, now_ms, claim_ms, limit)) {
      out.push_back({c.tenant_id, c.full_due, c.failures});
    }
    return out;
  }
  void Record(const std::string& tenant, const std::string& owner, const NextTimes& next,
              const RunReport& report) override {
    auto conn = pool_.Borrow();
    store::ScheduleTable(*conn).Record(tenant, owner,
                                       {next.next_run_ms, next.next_full_ms, next.failures,
                                        report.status, report.run_id, next.last_success_ms});
  }
  void Release(const std::string& tenant, const std::string& owner) override {
    auto conn = pool_.Borrow();
    store::ScheduleTable(*conn).ReleaseClaim(tenant, owner);
  }

 private:
  ConnectionPool& pool_;
};

// The admin API's view of the daemon. Each request reads the configuration current when it
// looks, so a tenant a reload removed answers 404 from then on.
class ServeBackend final : public ApiBackend {
 public:
  ServeBackend(const Reloadable<Config>& config, const Reloadable<WebhookKeys>& webhook_keys,
               ConnectionPool& pool, TenantRunner& runner, Metrics& metrics)
      : config_(config),
        webhook_keys_(webhook_keys),
        pool_(pool),
        runner_(runner),
        metrics_(metrics) {}

  bool HasTenant(const std::string& tenant) override {
    return config_.Current()->FindTenant(tenant) != nullptr;
  }

  std::string NotReadyReason() override {
    try {
      auto conn = pool_.Borrow();
      auto status = store::CheckSchema(*conn);
      if (!status.UpToDate()) {
        return "the database schema is at version " + std::to_string(status.current) +
               ", this concord needs " + std::to_string(status.latest);
      }
      return "";
    } catch (const store::DbError& e) {
      return std::string("the database is unreachable: ") + e.what();
    }
  }

  std::string MetricsText() override {
    try {
      auto conn = pool_.Borrow();
      auto counts = store::RunsStore(*conn).OpenReviewCounts();
      for (const auto& t : config_.Current()->tenants) {
        auto it = counts.find(t.id);
        metrics_.Set("concord_review_items_open", {{"tenant", t.id}},
                     static_cast<double>(it == counts.end() ? 0 : it->second));
      }
    } catch (const store::DbError& e) {
      Log(Level::kWarn, "metrics_review_count_failed", {{"error", e.what()}});
    }
    return RenderPrometheus(metrics_.Snapshot());
  }

  StartResult StartSync(const std::string& tenant, const SyncParams& params) override {
    // A run whose row is final may still be releasing its lease for a moment: a request
    // right after it waits for that instead of getting 409 without a running run.
    const auto settle_until = std::chrono::steady_clock::now() + kSettleWait;
    for (;;) {
      bool busy = false;
      {
        auto conn = pool_.Borrow();
        store::RunsStore runs(*conn);
        if (runs.LeaseHeld(tenant)) {
          auto running = runs.RunningRun(tenant);
          if (running || std::chrono::steady_clock::now() >= settle_until) {
            return Busy(running);
          }
          busy = true;
        }
      }
      if (!busy) {
        auto started = runner_.StartManual(tenant,
                                           {.trigger = "manual",
                                            .full = params.full,
                                            .dry_run = params.dry_run,
                                            .confirm_deletes = params.confirm_deletes},
                                           kStartWait);
        if (started.admission == TenantRunner::Admission::kStopping) {
          throw ApiError(503, "shutting_down", "concord is shutting down");
        }
        auto conn = pool_.Borrow();
        store::RunsStore runs(*conn);
        if (started.admission != TenantRunner::Admission::kBusy) {
          return Started(runs, tenant, started.run_id);
        }
        auto running = runs.RunningRun(tenant);
        if (running || std::chrono::steady_clock::now() >= settle_until) return Busy(running);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  StartResult Started(store::RunsStore& runs, const std::string& tenant, std::int64_t run_id) {
    if (run_id == 0) {
      return {true, json::object{{"tenant", tenant}, {"status", "queued"}}};
    }
    auto run = runs.Run(run_id);
    return {true, run ? RunJson(*run) : json::object{{"id", run_id}}};
  }
  json::array Runs(const std::string& tenant, std::int64_t before, int limit) override {
    auto conn = pool_.Borrow();
    json::array out;
    for (const auto& run : store::RunsStore(*conn).Runs(tenant, before, limit)) {
      out.push_back(RunJson(run));
    }
    return out;
  }

  std::optional<json::object> Run(std::int64_t id) override {
    auto conn = pool_.Borrow();
    auto run = store::RunsStore(*conn).Run(id);
    if (!run) return std::nullopt;
    return RunJson(*run);
  }

  std::optional<json::array> Events(std::int64_t run_id, const std::optional<std::string>& kind,
                                    int after, int limit) override {
    auto conn = pool_.Borrow();
    store::RunsStore runs(*conn);
    if (!runs.Run(run_id)) return std::nullopt;
    json::array out;
    for (const auto& e : runs.Events(run_id, kind, after, limit)) out.push_back(EventJson(e));
    return out;
  }

  std::optional<json::value> Plan(std::int64_t run_id) override {
    auto conn = pool_.Borrow();
    store::RunsStore runs(*conn);
    if (!runs.Run(run_id)) return std::nullopt;
    auto plan = runs.Plan(run_id);
    if (!plan) return json::value(nullptr);
    return ParseOr(*plan, nullptr);
  }

  json::array OpenReview(const std::string& tenant) override {
    auto conn = pool_.Borrow();
    json::array out;
    for (const auto& item : store::CanonicalStore(*conn).OpenReviewItems(tenant)) {
      out.push_back(ReviewItemJson(item));
    }
    return out;
  }

  json::object ResolveReview(std::int64_t review_id, const ReviewAction& action) override {
    std::optional<store::StoredReviewItem> item;
    {
      auto conn = pool_.Borrow();
      item = store::CanonicalStore(*conn).LoadReviewItem(review_id);
    }
    if (!item) {
      throw ApiError(404, "unknown_review_item",
                     "there is no review item " + std::to_string(review_id));
    }
    if (item->status != "open") {
      throw ApiError(409, "review_item_not_open",
                     "review item " + std::to_string(review_id) + " is " + item->status);
    }
    // One snapshot for the check and the decision's plan.
    const auto config = config_.Current();
    if (!config->FindTenant(item->tenant_id)) {
      throw ApiError(409, "unknown_tenant",
                     "the item's tenant '" + item->tenant_id + "' is not configured");
    }
    Resolution resolution;
    if (action.action == "link") resolution = {Resolution::Action::kLink, action.person_id};
    if (action.action == "keep_separate") resolution.action = Resolution::Action::kKeepSeparate;
    RunOutcome outcome;
    std::optional<std::string> refused;
    bool ran = runner_.Exclusive(item->tenant_id, [&] {
      store::Connection conn(pool_.settings());
      try {
        outcome = daemon::ResolveReview(conn, *config, review_id, resolution, runner_.NextOwner());
      } catch (const AdminError& e) {
        refused = e.what();
      }
    });
    if (!ran || outcome.status == "busy") {
      throw ApiError(409, "run_in_progress",
                     "a run of tenant '" + item->tenant_id + "' is in progress; try again");
    }
    if (refused) throw ApiError(409, "review_item_not_open", *refused);
    if (outcome.status == "failed") throw ApiError(400, "invalid_person_id", outcome.error);
    json::object out{{"review_id", review_id}, {"status", "resolved"}};
    auto conn = pool_.Borrow();
    if (auto run = store::RunsStore(*conn).Run(outcome.run_id)) out["run"] = RunJson(*run);
    return out;
  }

  json::array Persons(const std::string& tenant, const std::string& email) override {
    auto key = reconcile::ExactEmailKey(email);
    if (!key.valid()) {
      throw ApiError(400, "invalid_email",
                     "'" + email + "' is not a usable email address" +
                         (key.reason.empty() ? "" : ": " + key.reason));
    }
    auto conn = pool_.Borrow();
    json::array out;
    for (const auto& e : store::CanonicalStore(*conn).Explain(tenant, key.key)) {
      out.push_back(ExplanationJson(e));
    }
    return out;
  }

  std::optional<WebhookSubscription> Webhook(const std::string& tenant, WebhookSource source,
                                             std::string& why) override {
    const auto config = config_.Current();
    const auto* t = config->FindTenant(tenant);
    if (!t) {
      why = "there is no tenant '" + tenant + "'";
      return std::nullopt;
    }
    if (t->finance.kind != ToString(source)) {
      why = "tenant '" + tenant + "' uses finance kind \"" + t->finance.kind + "\"";
      return std::nullopt;
    }
    const auto keys = webhook_keys_.Current();
    auto it = keys->find(tenant);
    if (it == keys->end()) {
      why = "tenant '" + tenant + "' has no [tenant.finance] " +
            (source == WebhookSource::kXero ? "webhook_key" : "verifier_token");
      return std::nullopt;
    }
    return WebhookSubscription{.key = it->second,
                               .account_id = source == WebhookSource::kXero
                                                 ? t->finance.xero_tenant_id
                                                 : t->finance.realm_id};
  }

  void QueueWebhookRun(const std::string& tenant) override {
    if (!runner_.QueueWebhookRun(tenant)) {
      throw ApiError(503, "shutting_down", "concord is shutting down");
    }
  }

  json::object UndoMerge(std::int64_t merge_id) override {
    std::optional<store::StoredMerge> merge;
    {
      auto conn = pool_.Borrow();
      merge = store::CanonicalStore(*conn).LoadMerge(merge_id);
    }
    if (!merge) {
      throw ApiError(404, "unknown_merge", "there is no merge " + std::to_string(merge_id));
    }
    if (merge->undone) {
      throw ApiError(409, "merge_already_undone",
                     "merge " + std::to_string(merge_id) + " is already undone");
    }
    const auto config = config_.Current();
    if (!config->FindTenant(merge->tenant_id)) {
      throw ApiError(409, "unknown_tenant",
                     "the merge's tenant '" + merge->tenant_id + "' is not configured");
    }
    RunOutcome outcome;
    std::optional<std::string> refused;
    bool ran = runner_.Exclusive(merge->tenant_id, [&] {
      store::Connection conn(pool_.settings());
      try {
        outcome = daemon::UndoMerge(conn, *config, merge_id, runner_.NextOwner());
      } catch (const AdminError& e) {
        refused = e.what();
      }
    });
    if (!ran || outcome.status == "busy") {
      throw ApiError(409, "run_in_progress",
                     "a run of tenant '" + merge->tenant_id + "' is in progress; try again");
    }
    if (refused) throw ApiError(409, "merge_already_undone", *refused);
    if (outcome.status == "failed") {
      throw std::runtime_error("undoing merge " + std::to_string(merge_id) +
                               " failed: " + outcome.error);
    }
    json::object out{{"merge_id", merge_id}, {"status", "undone"}};
    auto conn = pool_.Borrow();
    if (auto run = store::RunsStore(*conn).Run(outcome.run_id)) out["run"] = RunJson(*run);
    return out;
  }

 private:
  static StartResult Busy(const std::optional<store::RunRow>& running) {
    return {false, running ? RunJson(*running) : json::object{}};
  }

  const Reloadable<Config>& config_;
  const Reloadable<WebhookKeys>& webhook_keys_;
  ConnectionPool& pool_;
  TenantRunner& runner_;
  Metrics& metrics_;
};

void CheckOrMigrate(const Config& config, bool migrate) {
  store::Connection conn({.url = config.database_url});
  auto status = store::CheckSchema(conn);
  if (status.current > status.latest) {
    throw ConfigError("the database schema is at version " + std::to_string(status.current) +
                      ", newer than this concord knows (" + std::to_string(status.latest) +
                      "); run a newer concord");
  }
  if (status.UpToDate()) return;
  if (!migrate) {
    throw ConfigError("the database schema is at version " + std::to_string(status.current) +
                      ", this concord needs " + std::to_string(status.latest) +
                      "; run `concord migrate` or start with `concord serve --migrate`");
  }
  int applied = store::Migrate(conn);
  Log(Level::kInfo, "migrated", {{"applied", applied}, {"version", status.latest}});
}

// SIGHUP: the configuration file read again and applied as a whole, or not at all when it
// cannot be loaded or its tokens or webhook keys resolved (the daemon keeps running on what
// it has). New
// tenants enter the shared schedule first, as that can fail (the database); the swaps after
// it cannot. Not concurrently with itself.
void Reload(const std::string& path, Reloadable<Config>& config, Reloadable<Tokens>& tokens,
            Reloadable<WebhookKeys>& webhook_keys, Scheduler& scheduler, Metrics& metrics) {
  try {
    auto reload = PlanReload(*config.Current(), LoadConfig(path));
    auto new_tokens = ResolveTokens(reload.config.http);
    auto new_webhook_keys = ResolveWebhookKeys(reload.config);
    scheduler.SetTenants(ScheduleTimings(reload.config));
    const auto tenants = static_cast<std::int64_t>(reload.config.tenants.size());
    config.Replace(std::make_shared<const Config>(std::move(reload.config)));
    tokens.Replace(std::move(new_tokens));
    webhook_keys.Replace(std::move(new_webhook_keys));
    for (const auto& tenant : reload.tenants.removed) metrics.Forget("tenant", tenant);
    for (const auto& key : reload.restart_required) {
      Log(Level::kWarn, "restart_required",
          {{"key", key}, {"reason", "'" + key + "' changed: restart to apply; kept as it was"}});
    }
    Log(Level::kInfo, "reloaded",
        {{"tenants", tenants},
         {"added", static_cast<std::int64_t>(reload.tenants.added.size())},
         {"removed", static_cast<std::int64_t>(reload.tenants.removed.size())},
         {"changed", static_cast<std::int64_t>(reload.tenants.changed.size())}});
  } catch (const std::exception& e) {
    Log(Level::kError, "reload_failed",
        {{"error", e.what()}, {"reason", "still running on the configuration it had"}});
  }
}

}  // namespace

int Serve(const Config& config, const ServeOptions& options) {
  // The restart-only settings (database, listener, logging) are read from `config`; the rest
  // from `live`, which a SIGHUP replaces.
  const auto listen = ParseListen(config.http.listen);
  Reloadable<Tokens> tokens(ResolveTokens(config.http));
  Reloadable<WebhookKeys> webhook_keys(ResolveWebhookKeys(config));
  Reloadable<Config> live(std::make_shared<const Config>(config));
  CheckOrMigrate(config, options.migrate);

  const auto owner = ProcessOwner();
  Metrics metrics;
  ConnectionPool pool({.url = config.database_url});
  asio::thread_pool runs(config.scheduler.concurrent_runs);
  asio::thread_pool workers(2);
  asio::io_context ioc(1);

  TenantRunner runner(live, runs, config.scheduler.concurrent_runs, pool, metrics, owner);
  PgScheduleStore schedule(pool);
  SystemClock clock;
  SchedulerSettings scheduler_settings;
  scheduler_settings.owner = owner;
  scheduler_settings.tenants = ScheduleTimings(config);
  std::mt19937_64 rng{std::random_device{}()};
  std::mutex rng_mutex;
  Scheduler scheduler(std::move(scheduler_settings), clock, schedule, runner, [&] {
    std::lock_guard lock(rng_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  });
  scheduler.Init();

  // The scheduler's loop: one Step per tick, and one as soon as a run ends (its slot is free),
  // on a worker, never two at once.
  auto stepping = std::make_shared<std::atomic<bool>>(false);
  auto step = [&, stepping] {
    if (stepping->exchange(true)) return;
    asio::post(workers, [&, stepping] {
      try {
        int launched = scheduler.Step();
        if (launched > 0) metrics.Add("concord_scheduler_claims_total", {}, launched);
      } catch (const std::exception& e) {
        Log(Level::kWarn, "schedule_step_failed", {{"error", e.what()}});
      }
      stepping->store(false);
    });
  };
  runner.OnFinished([&, step](const std::string& tenant, const RunReport& report) {
    scheduler.RunFinished(tenant, report);
    asio::post(ioc, step);
  });

  ServeBackend backend(live, webhook_keys, pool, runner, metrics);
  std::optional<HttpServer> server_holder;
  try {
    server_holder.emplace(
        ioc, workers, HttpServerSettings{.address = listen.host, .port = listen.port},
        [&](const ApiRequest& request, const std::string& peer) {
          const auto started = std::chrono::steady_clock::now();
          auto response = HandleApiRequest(request, *tokens.Current(), backend);
          const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
          metrics.Add("concord_http_requests_total",
                      {{"route", response.route}, {"status", std::to_string(response.status)}});
          // The path only: a query may hold an email address.
          json::object fields{{"method", request.method},
                              {"path", request.target.substr(0, request.target.find('?'))},
                              {"route", response.route},
                              {"status", response.status},
                              {"duration_ms", ms},
                              {"peer", peer}};
          if (const auto& webhook = response.webhook) {
            // One line per delivery, with what it said (counts, never the body or signature).
            const std::string source(ToString(webhook->source));
            metrics.Add("concord_webhooks_total",
                        {{"source", source}, {"outcome", webhook->outcome}});
            fields["tenant"] = webhook->tenant;
            fields["source"] = source;
            fields["outcome"] = webhook->outcome;
            fields["events"] = webhook->notice.events;
            fields["contact_changes"] = webhook->notice.contact_changes;
            if (!response.detail.empty()) fields["reason"] = response.detail;
            const bool refused = webhook->outcome != "accepted" && webhook->outcome != "ignored";
            Log(refused ? Level::kWarn : Level::kInfo, "webhook", std::move(fields));
            return response;
          }
          if (!response.detail.empty()) fields["error"] = response.detail;
          Log(response.status >= 500 ? Level::kError : Level::kInfo, "http_request",
              std::move(fields));
          return response;
        });
  } catch (const boost::system::system_error& e) {
    throw ConfigError("cannot listen on 'http.listen' (" + config.http.listen +
                      "): " + e.code().message());
  }
  auto& server = *server_holder;
  server.Start();

  asio::steady_timer tick(ioc);
  std::function<void()> arm = [&] {
    tick.expires_after(kSchedulerTick);
    tick.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      step();
      arm();
    });
  };
  arm();

  bool shutting_down = false;
  std::mutex reload_mutex;
  std::thread waiter;
  asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        // On a worker: entering new tenants in the schedule waits for the database.
        if (!shutting_down) {
          asio::post(workers, [&] {
            std::lock_guard lock(reload_mutex);
            Reload(options.config_path, live, tokens, webhook_keys, scheduler, metrics);
          });
        }
        wait_signal();
        return;
      }
      if (shutting_down) {
        Log(Level::kWarn, "shutdown_forced", {{"signal", signal}});
        std::_Exit(1);
      }
      shutting_down = true;
      Log(Level::kInfo, "shutdown_started", {{"signal", signal}});
      server.Stop();
      tick.cancel();
      runner.StopAccepting();
      waiter = std::thread([&] {
        if (!runner.WaitIdle(kShutdownWait)) {
          // A run is stuck in a slow request: its transaction (if any) dies with the process;
          // its lease is handed back so another replica need not wait for it to expire.
          std::int64_t released = 0;
          try {
            store::Connection conn(
                {.url = config.database_url, .statement_timeout = kForcedReleaseWait});
            released = store::ReleaseLeasesOf(conn, owner + "/");
          } catch (const std::exception& e) {
            Log(Level::kWarn, "lease_release_failed", {{"error", e.what()}});
          }
          Log(Level::kWarn, "shutdown_timeout",
              {{"reason", "a run did not reach a safe point in time; nothing of it is applied"},
               {"leases_released", released}});
          std::_Exit(0);
        }
        asio::post(ioc, [&] { ioc.stop(); });
      });
      wait_signal();
    });
  };
  wait_signal();

  Log(Level::kInfo, "serving",
      {{"address", listen.host},
       {"port", server.Port()},
       {"owner", owner},
       {"tenants", static_cast<std::int64_t>(config.tenants.size())}});
  std::cout << json::serialize(json::object{{"event", "listening"}, {"port", server.Port()}})
            << std::endl;
  ioc.run();
  if (waiter.joinable()) waiter.join();
  workers.join();
  runs.join();
  Log(Level::kInfo, "stopped");
  return 0;
}

}  // namespace concord::daemon
