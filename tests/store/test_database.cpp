#include "tests/store/test_database.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "store/pg.hpp"

namespace concord::testing {
namespace {

// Replaces the database name in a URL of the form postgresql:///NAME?query.
std::string WithDatabase(const std::string& url, const std::string& name) {
  auto start = url.find(":///");
  if (start == std::string::npos) throw std::runtime_error("unexpected test URL " + url);
  start += 4;
  auto end = url.find('?', start);
  return url.substr(0, start) + name + (end == std::string::npos ? "" : url.substr(end));
}

}  // namespace

std::string ClusterUrl() {
  const char* url = std::getenv("CONCORD_TEST_PG_URL");
  if (!url || !*url) {
    throw std::runtime_error(
        "CONCORD_TEST_PG_URL is not set: run the pg and e2e tests through ctest, which starts "
        "the private PostgreSQL (deploy/local/pg)");
  }
  return url;
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(now % 1000000);
  auto cluster = ClusterUrl();
  store::Connection admin({.url = cluster});
  admin.Exec("CREATE DATABASE " + name_);
  url_ = WithDatabase(cluster, name_);
}

TestDatabase::~TestDatabase() {
  try {
    store::Connection admin({.url = ClusterUrl()});
    admin.Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is torn down with the test run anyway.
  }
}

}  // namespace concord::testing
