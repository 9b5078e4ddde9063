#pragma once
// Runs syncs of the configured tenants on a thread pool, at most one per tenant in this
// process (the tenant lease keeps other processes out). A request for a tenant with a run
// queued but not started merges into it; one with a run in progress is refused, except a
// webhook's, which runs after it (the change it reports may have come after that run's
// fetch). Every run gets its own connection and a lease owner of its own, so an admin
// decision and a sync of one tenant can never both hold its lease. A run takes the
// configuration current when it starts and keeps it to its end; a queued run of a tenant a
// reload removed is dropped.

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "daemon/config.hpp"
#include "daemon/connection_pool.hpp"
#include "daemon/metrics.hpp"
#include "daemon/reload.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/sync_job.hpp"

namespace concord::daemon {

class TenantRunner final : public RunLauncher {
 public:
  // Called on the run's thread after every non-dry sync of a tenant (the scheduler), and with
  // status "cancelled" when a queued one is dropped because its tenant was removed.
  using Finished = std::function<void(const std::string& tenant, const RunReport& report)>;

  // References must outlive the runner; `owner` names this process ("host:pid");
  // `concurrent_runs` is the number of threads of `runs`.
  TenantRunner(const Reloadable<Config>& config, boost::asio::thread_pool& runs,
               int concurrent_runs, ConnectionPool& pool, Metrics& metrics, std::string owner);

  void OnFinished(Finished finished) { finished_ = std::move(finished); }

  enum class Admission { kStarted, kMerged, kBusy, kStopping };
  struct Started {
    Admission admission = Admission::kBusy;
    // The run's id once its row exists (0: not yet, or refused before it started).
    std::int64_t run_id = 0;
  };
  // A manual run: queues it (or merges it with a queued scheduled run) and waits up to
  // `wait` until its run row exists, so the caller can answer with it. Blocks; call it on a
  // worker thread.
  [[nodiscard]] Started StartManual(const std::string& tenant, const SyncRequest& request,
                                    std::chrono::milliseconds wait);

  // A webhook's incremental run: merges into a queued run, or follows the one in progress (or
  // the admin decision in progress); never waits. false: not accepted (shutting down).
  bool QueueWebhookRun(const std::string& tenant);

  bool Launch(const std::string& tenant, bool full) override;
  // One run queued per thread beside the running ones, so a thread never idles between two
  // scheduler steps.
  int Vacancies() override;

  // Runs `work` as the tenant's one activity in this process (admin decisions); false when a
  // run of the tenant is queued or running.
  [[nodiscard]] bool Exclusive(const std::string& tenant, const std::function<void()>& work);

  // A unique lease owner for one activity of this process.
  [[nodiscard]] std::string NextOwner();

  // No new runs; queued ones are dropped when their turn comes, running ones stop at their
  // next safe point with nothing applied (one already applying finishes).
  void StopAccepting();
  // Waits until nothing runs; false when `timeout` passed first.
  [[nodiscard]] bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  struct Entry {
    SyncRequest request;
    bool started = false;
    bool done = false;
    std::int64_t baseline_run_id = 0;  // newest run of the tenant before this one
    std::int64_t run_id = 0;
    bool follow_up = false;  // a webhook came after this started: run once more when done
  };
  Admission Submit(const std::string& tenant, const SyncRequest& request,
                   std::shared_ptr<Entry>* entry);
  // Submit's decision, under mutex_; `baseline`: the tenant's newest run id before the request
  // (StartManual finds its run after it).
  Admission SubmitLocked(const std::string& tenant, const SyncRequest& request,
                         std::int64_t baseline, std::shared_ptr<Entry>* entry);
  // Ends the tenant's activity `entry`, under mutex_; true when a webhook asked for a run
  // after it (the caller queues it once the lock is released).
  bool EndLocked(const std::string& tenant, const std::shared_ptr<Entry>& entry);
  // The run a webhook asked for after the tenant's last activity; never throws (the error is
  // logged: the next scheduled run sees the change).
  void QueueFollowUp(const std::string& tenant);
  void Execute(const std::string& tenant, std::shared_ptr<Entry> entry);
  // Tells finished_ (errors are logged: the run itself is over).
  void ReportFinished(const std::string& tenant, const RunReport& report);
  void Record(const std::string& tenant, const SyncRequest& request, const RunOutcome& outcome,
              double seconds);

  const Reloadable<Config>& config_;
  boost::asio::thread_pool& runs_;
  int concurrent_runs_;
  ConnectionPool& pool_;
  // One kept connection per run thread: a new backend per run (fork, page faults, cold
  // catalog caches) cost PostgreSQL about 0.12 s of CPU, 40 % of what it spent on the run of
  // a 1,000-person tenant.
  ConnectionPool run_connections_;
  Metrics& metrics_;
  std::string owner_;
  Finished finished_;
  std::atomic<std::int64_t> next_owner_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<Entry>> active_;  // queued or running, by tenant
  bool stopping_ = false;
  std::atomic<bool> stop_runs_{false};  // SyncRequest::stop of every run
};

}  // namespace concord::daemon
