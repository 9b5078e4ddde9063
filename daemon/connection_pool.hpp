#pragma once
// A small pool of PostgreSQL connections for the worker threads (API requests, schedule
// claims, runs). Each borrower has its connection to itself until the handle goes; a connection
// that broke is dropped, not returned. Thread-safe.

#include <memory>
#include <mutex>
#include <vector>

#include "store/pg.hpp"

namespace concord::daemon {

class ConnectionPool {
 public:
  explicit ConnectionPool(store::ConnectionSettings settings, std::size_t max_idle = 4)
      : settings_(std::move(settings)), max_idle_(max_idle) {}

  class Handle {
   public:
    Handle(ConnectionPool* pool, std::unique_ptr<store::Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    ~Handle() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Handle(Handle&&) noexcept = default;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle& operator=(Handle&&) = delete;
    store::Connection& operator*() { return *conn_; }
    store::Connection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<store::Connection> conn_;
  };

  // An idle connection, or a new one (throws store::DbError when the database is unreachable).
  [[nodiscard]] Handle Borrow() {
    {
      std::lock_guard lock(mutex_);
      while (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        if (conn->Healthy()) return Handle(this, std::move(conn));
      }
    }
    return Handle(this, std::make_unique<store::Connection>(settings_));
  }

  const store::ConnectionSettings& settings() const { return settings_; }

 private:
  void Return(std::unique_ptr<store::Connection> conn) {
    // A connection left inside a transaction or a COPY (its user threw) is closed, not reused.
    if (!conn->Idle()) return;
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
  }

  store::ConnectionSettings settings_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<store::Connection>> idle_;
};

}  // namespace concord::daemon
