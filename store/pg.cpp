#include "store/pg.hpp"

#include <charconv>
#include <cstring>

namespace concord::store {
namespace {

std::string ErrorField(const PGresult* result, int field) {
  const char* value = PQresultErrorField(result, field);
  return value ? value : "";
}

std::string TrimmedMessage(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Where the first of the characters COPY's text format escapes is in `text` (its size if
// none). They are rare, so four vectorised memchr passes beat a loop over the bytes.
std::size_t FirstSpecial(std::string_view text) {
  std::size_t first = text.size();
  for (char c : {'\\', '\t', '\n', '\r'}) {
    if (const void* at = std::memchr(text.data(), c, first)) {
      first = static_cast<std::size_t>(static_cast<const char*>(at) - text.data());
    }
  }
  return first;
}

// Escapes one field for COPY's text format, copying the runs between special characters whole.
void AppendCopyField(std::string& out, const CopyField& field) {
  if (!field) {
    out += "\\N";
    return;
  }
  std::string_view rest = *field;
  while (!rest.empty()) {
    const auto special = FirstSpecial(rest);
    out.append(rest.substr(0, special));
    if (special == rest.size()) break;
    switch (rest[special]) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += "\\r";
        break;
    }
    rest.remove_prefix(special + 1);
  }
}

// libpq's view of query parameters: C strings, null for SQL NULL.
std::vector<const char*> ParamValues(const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

// COPY data is sent to the server in blocks of this size.
constexpr std::size_t kCopyFlushBytes = 1 << 20;

}  // namespace

std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::vector<std::string> ParseTextArray(std::string_view text) {
  std::vector<std::string> items;
  if (text.size() < 2) return items;
  text = text.substr(1, text.size() - 2);
  std::string current;
  bool quoted = false, escaped = false, any = false;
  for (char c : text) {
    if (escaped) {
      current += c;
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ',' && !quoted) {
      items.push_back(std::move(current));
      current.clear();
      any = false;
    } else {
      current += c;
      any = true;
    }
  }
  if (any || !current.empty()) items.push_back(std::move(current));
  return items;
}

bool DbError::Retryable() const {
  return sqlstate_.empty() || sqlstate_.starts_with("08") || sqlstate_ == "40001" ||
         sqlstate_ == "40P01" || sqlstate_ == "57P01";
}

std::optional<std::string> Result::OptionalText(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return std::string(Text(row, column));
}

std::int64_t Result::Int(int row, int column) const {
  std::int64_t value = 0;
  auto text = Text(row, column);
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::int64_t Result::AffectedRows() const {
  const char* text = PQcmdTuples(result_.get());
  std::int64_t value = 0;
  if (text) std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

Connection::Connection(const ConnectionSettings& settings)
    : conn_(PQconnectdb(settings.url.c_str()), &PQfinish) {
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    throw DbError("", "cannot connect to the database: " +
                          TrimmedMessage(conn_ ? PQerrorMessage(conn_.get()) : "out of memory"));
  }
  Exec(
      "SELECT set_config('statement_timeout', $1, false), set_config('application_name', $2, "
      "false)",
      {std::to_string(settings.statement_timeout.count()), settings.application_name});
}

namespace {

// Turns a failed result into a DbError; the result is freed either way.
void ThrowIfFailed(PGconn* conn, PGresult* result, std::string_view what) {
  auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN) return;
  std::string sqlstate = result ? ErrorField(result, PG_DIAG_SQLSTATE) : "";
  std::string message =
      TrimmedMessage(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  if (result) PQclear(result);
  throw DbError(sqlstate, std::string(what) + ": " + message);
}

}  // namespace

Result Connection::Exec(std::string_view sql, const std::vector<Param>& params) {
  const auto values = ParamValues(params);
  std::string text(sql);
  PGresult* result = PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()),
                                  nullptr, values.data(), nullptr, nullptr, 0);
  ThrowIfFailed(conn_.get(), result, "database error");
  return Result(result);
}

Result Connection::ExecPrepared(std::string_view sql, const std::vector<Param>& params) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = "concord_" + std::to_string(prepared_.size() + 1);
    std::string text(sql);
    PGresult* result = PQprepare(conn_.get(), name.c_str(), text.c_str(),
                                 static_cast<int>(params.size()), nullptr);
    ThrowIfFailed(conn_.get(), result, "database error");
    PQclear(result);
    it = prepared_.emplace(std::move(text), std::move(name)).first;
  }
  const auto values = ParamValues(params);
  PGresult* result =
      PQexecPrepared(conn_.get(), it->second.c_str(), static_cast<int>(values.size()),
                     values.data(), nullptr, nullptr, 0);
  ThrowIfFailed(conn_.get(), result, "database error");
  return Result(result);
}

void Connection::ExecScript(std::string_view sql) {
  std::string text(sql);
  PGresult* result = PQexec(conn_.get(), text.c_str());
  ThrowIfFailed(conn_.get(), result, "database error");
  PQclear(result);
}

void Connection::CopyBegin(std::string_view copy_sql) {
  std::string text(copy_sql);
  PGresult* result = PQexec(conn_.get(), text.c_str());
  ThrowIfFailed(conn_.get(), result, "COPY failed to start");
  PQclear(result);
  copy_buffer_.clear();
}

void Connection::CopyRow(std::initializer_list<CopyField> fields) {
  bool first = true;
  for (const auto& field : fields) {
    if (!first) copy_buffer_ += '\t';
    first = false;
    AppendCopyField(copy_buffer_, field);
  }
  copy_buffer_ += '\n';
  if (copy_buffer_.size() >= kCopyFlushBytes) Flush();
}

void Connection::Flush() {
  if (copy_buffer_.empty()) return;
  if (PQputCopyData(conn_.get(), copy_buffer_.data(), static_cast<int>(copy_buffer_.size())) != 1) {
    throw DbError("", "COPY failed: " + TrimmedMessage(PQerrorMessage(conn_.get())));
  }
  copy_buffer_.clear();
}

void Connection::CopyEnd() {
  Flush();
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) {
    throw DbError("", "COPY failed: " + TrimmedMessage(PQerrorMessage(conn_.get())));
  }
  // Drain every result of the COPY; the last error wins.
  std::optional<DbError> error;
  while (PGresult* result = PQgetResult(conn_.get())) {
    try {
      ThrowIfFailed(conn_.get(), result, "COPY failed");
      PQclear(result);
    } catch (const DbError& e) {
      error = e;
    }
  }
  if (error) throw *error;
}

Transaction::Transaction(Connection& conn, std::string_view begin_sql) : conn_(conn) {
  conn_.Exec(begin_sql);
}

Transaction::~Transaction() {
  if (done_) return;
  // Best effort: if the connection is gone the server rolls back on its own.
  PGresult* result = PQexec(conn_.raw(), "ROLLBACK");
  if (result) PQclear(result);
}

void Transaction::Commit() {
  done_ = true;
  conn_.Exec("COMMIT");
}

}  // namespace concord::store
