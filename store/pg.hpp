#pragma once
// A thin RAII layer over libpq: connections, results, transactions and COPY. Every SQL text
// comes from store/sql.hpp; values always travel as $n parameters.

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace concord::store {

// A database error with its SQLSTATE ("" when the connection itself failed).
class DbError : public std::runtime_error {
 public:
  DbError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  // Connection loss, serialization failure or deadlock: the whole unit may be retried.
  bool Retryable() const;

 private:
  std::string sqlstate_;
};

// A query parameter: text or SQL NULL.
using Param = std::optional<std::string>;
// A COPY field: text or SQL NULL. A view: CopyRow encodes it before returning, so a row can
// be written without copying its strings.
using CopyField = std::optional<std::string_view>;

class Result {
 public:
  explicit Result(PGresult* result) : result_(result, &PQclear) {}
  int Rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column); }
  std::string_view Text(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
  }
  std::optional<std::string> OptionalText(int row, int column) const;
  std::int64_t Int(int row, int column) const;
  bool Bool(int row, int column) const { return Text(row, column) == "t"; }
  std::int64_t AffectedRows() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

struct ConnectionSettings {
  std::string url;  // libpq conninfo or URI
  std::chrono::milliseconds statement_timeout{std::chrono::minutes(5)};
  std::string application_name = "concord";
};

// A PostgreSQL text[] literal of `items`, every element quoted, so any text travels safely
// as a $n parameter or a COPY field.
std::string TextArrayLiteral(const std::vector<std::string>& items);
// Parses a text[] value as PostgreSQL prints it.
std::vector<std::string> ParseTextArray(std::string_view text);

// One libpq connection. Not thread-safe: one owner at a time.
class Connection {
 public:
  // Connects and sets statement_timeout; throws DbError naming the problem on failure.
  explicit Connection(const ConnectionSettings& settings);

  Result Exec(std::string_view sql, const std::vector<Param>& params = {});
  // Exec for a statement run many times on a long-lived connection (the API's reads): it is
  // prepared on its first use here, and later calls skip parsing and planning.
  Result ExecPrepared(std::string_view sql, const std::vector<Param>& params = {});
  // Runs several statements without parameters (migrations).
  void ExecScript(std::string_view sql);

  // COPY ... FROM STDIN in text format. Rows are written with CopyRow; Finish ends it.
  void CopyBegin(std::string_view copy_sql);
  void CopyRow(std::initializer_list<CopyField> fields);
  void CopyEnd();

  // False once the server connection is lost.
  bool Healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  // Healthy, and outside any transaction or COPY: safe to hand to the next borrower.
  bool Idle() const { return Healthy() && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE; }

  PGconn* raw() { return conn_.get(); }

 private:
  void Flush();

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
  std::string copy_buffer_;
  std::unordered_map<std::string, std::string> prepared_;  // statement -> its name here
};

// BEGIN on construction; ROLLBACK in the destructor unless Commit() was called.
class Transaction {
 public:
  explicit Transaction(Connection& conn, std::string_view begin_sql = "BEGIN");
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void Commit();

 private:
  Connection& conn_;
  bool done_ = false;
};

}  // namespace concord::store
