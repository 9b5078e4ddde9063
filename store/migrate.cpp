#include "store/migrate.hpp"

#include <set>
#include <string>

#include "schema/migrations.hpp"
#include "store/sql.hpp"

namespace concord::store {

SchemaStatus CheckSchema(Connection& conn) {
  SchemaStatus status;
  for (const auto& m : schema::Migrations()) status.latest = std::max(status.latest, m.version);
  if (conn.Exec(sql::kMigrationsTableExists).Bool(0, 0)) {
    status.current = static_cast<int>(conn.Exec(sql::kSchemaVersion).Int(0, 0));
  }
  return status;
}

int Migrate(Connection& conn) {
  conn.Exec(sql::kCreateMigrationsTable);
  int applied = 0;
  for (const auto& migration : schema::Migrations()) {
    Transaction tx(conn);
    conn.Exec(sql::kMigrationLock);
    std::set<std::int64_t> done;
    auto versions = conn.Exec(sql::kAppliedVersions);
    for (int i = 0; i < versions.Rows(); ++i) done.insert(versions.Int(i, 0));
    if (done.contains(migration.version)) continue;
    try {
      conn.ExecScript(migration.sql);
    } catch (const DbError& e) {
      throw DbError(e.sqlstate(), "migration " + std::to_string(migration.version) + " (" +
                                      std::string(migration.name) + ") failed: " + e.what());
    }
    conn.Exec(sql::kRecordMigration,
              {std::to_string(migration.version), std::string(migration.name)});
    tx.Commit();
    ++applied;
  }
  return applied;
}

}  // namespace concord::store
