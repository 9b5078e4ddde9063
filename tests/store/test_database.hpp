#pragma once
// A fresh database per test in the private PostgreSQL cluster the "postgres" ctest fixture
// starts (deploy/local/pg). Nothing is shared between tests.

#include <string>

namespace concord::testing {

class TestDatabase {
 public:
  // Creates an empty database with a unique name; throws when the cluster is unreachable.
  TestDatabase();
  // Drops the database (forcing out any connection left behind).
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // libpq URL of this test's database.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string url_;
};

// URL of the cluster's maintenance database, from CONCORD_TEST_PG_URL.
std::string ClusterUrl();

}  // namespace concord::testing
