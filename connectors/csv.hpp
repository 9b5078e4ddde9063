#pragma once
// The file finance source (kind "csv"): an RFC 4180 file, UTF-8 with or without a BOM, whose
// header row names the columns. Every file is a whole copy of the finance side, so the source
// delivers it as a complete read (FetchSummary::complete) and remembers which version it read
// through its cursor, the file's modification time. The reader below is pure (bytes in, pages
// out) and separate from the file handling, so it can be tested on strings.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/malformed_page.hpp"
#include "connectors/source.hpp"

namespace concord::connectors {

// The header name each field is read from. Names match trimmed and ignoring ASCII case. An
// empty name says the file has no such column (the field stays empty); person_id can never
// be empty. Every non-empty name must be in the header, so a misspelt mapping fails the run
// instead of emptying a field on every person.
struct CsvColumns {
  std::string account_id = "account_id";
  std::string account_name = "account_name";
  std::string person_id = "person_id";
  std::string given_name = "given_name";
  std::string family_name = "family_name";
  std::string email = "email";
  std::string email2 = "email2";
  // Read for the audit copy only: a FinancePerson has no phone.
  std::string phone = "phone";
  std::string status = "status";
  std::string updated_at = "updated_at";

  [[nodiscard]] bool operator==(const CsvColumns&) const = default;
};

// How a file is read, apart from where it is.
struct CsvFormat {
  CsvColumns columns;
  char delimiter = ',';
  // Status values (trimmed, ASCII case ignored) that mean the record is archived (rule 7);
  // any other value, or none, is active.
  std::vector<std::string> archived_statuses{"archived", "inactive", "false"};

  [[nodiscard]] bool operator==(const CsvFormat&) const = default;
};

struct CsvSettings {
  // An absolute path: a file, or a directory whose newest *.csv (by modification time; ties:
  // the greatest name) is read.
  std::string path;
  CsvFormat format;
  int page_size = 1000;  // rows per page handed to the sync job, 1..1000
};

// Reads one CSV file fed in chunks of any size and hands out FinancePages of at most
// page_size rows, so a big file is never held whole. A row is a record: source "csv",
// remote_id = its person id, raw_json = the row as a JSON object of header → value. A row that
// cannot be read (wrong number of fields, not UTF-8, no person id, a person id an earlier row
// already gave, an unreadable updated_at, text after a closing quote) is quarantined with its
// physical line number (where the row starts) and the reason; the rest of the file goes on.
// Line ends are LF, CRLF or CR; quoted fields may hold the delimiter, "" and line ends; blank
// lines are skipped; a leading UTF-8 BOM is dropped. Not thread-safe.
class CsvReader {
 public:
  // file_time is the updated_at of rows whose updated_at column is empty or not mapped: the
  // row is as recent as the file. page_size must be positive.
  CsvReader(CsvFormat format, reconcile::Millis file_time, std::size_t page_size);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // The next bytes of the file; calls on_page for each page filled. Throws MalformedPage
  // when the header row lacks a mapped column or names one mapped column twice (the message
  // names the column and the setting).
  void Feed(std::string_view bytes, const std::function<void(FinancePage&&)>& on_page);

  // The end of the file: hands out the last page (possibly empty, so a caller always sees at
  // least one). Throws MalformedPage for a file without a header row, or one that ends inside
  // a quoted field: it is cut short or broken, and reading it as the whole source would
  // delete every person after that point.
  void Finish(const std::function<void(FinancePage&&)>& on_page);

  // Data rows read so far (blank lines and the header not counted).
  [[nodiscard]] std::int64_t rows() const;

 private:
  class State;
  std::unique_ptr<State> state_;
};

// An ISO-8601 date-time as connectors/wire_time.hpp reads it, also with a space instead of the
// 'T' ("2024-06-09 23:40:11", as spreadsheets write it), or a date alone (midnight UTC).
[[nodiscard]] std::optional<reconcile::Millis> ParseCsvTime(std::string_view text);

// The CSV source reading from the file system. Fetch reads the file when the request is a
// full one or the file's modification time (in ms) differs from request.since; otherwise it
// delivers no page and a summary with source_clock 0 (the cursor stays). A file read is
// delivered whole: summary.complete and exact_clock are set and source_clock is its
// modification time. Throws FetchError naming the path when there is no file to read, it
// cannot be read, it changed while it was read, or CsvReader refuses it. Throws
// std::invalid_argument when settings are unusable (path not absolute, page_size out of
// range, a delimiter that is a quote or a line end, person_id not mapped).
std::unique_ptr<FinanceSource> MakeCsvSource(CsvSettings settings);

}  // namespace concord::connectors
