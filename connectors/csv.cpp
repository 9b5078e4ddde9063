#include "connectors/csv.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <utility>

#include "connectors/wire_time.hpp"
#include "reconcile/text.hpp"

namespace concord::connectors {
namespace {

namespace json = boost::json;
using reconcile::FinancePerson;
using reconcile::LinkStatus;
using reconcile::Millis;
using reconcile::QuarantinedRecord;

constexpr std::string_view kSource = "csv";
constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr int kMaxPageSize = 1000;
// Bytes read from the file at a time; rows may straddle chunks.
constexpr std::size_t kChunkBytes = 1 << 16;

std::string_view TrimmedView(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

bool IsUtf8(std::string_view text) {
  unsigned problems = 0;
  (void)reconcile::detail::CleanText(text, std::numeric_limits<std::size_t>::max(), problems);
  return (problems & reconcile::detail::kTextBadUtf8) == 0;
}

// Text fit for the quarantine's raw copy and reason (the store refuses bytes that are not
// UTF-8), with nothing cut.
std::string Clean(std::string_view text) {
  return reconcile::detail::CleanCopy(text, std::numeric_limits<std::size_t>::max());
}

// The fields a row maps, by their setting name (used in error text as columns.<name>).
struct MappedColumn {
  std::string_view setting;
  const std::string* header;
  std::optional<std::size_t> index;
};

}  // namespace

class CsvReader::State {
 public:
  State(CsvFormat format, Millis file_time, std::size_t page_size)
      : format_(std::move(format)), file_time_(file_time), page_size_(page_size) {}

  void Feed(std::string_view bytes, const std::function<void(FinancePage&&)>& on_page) {
    on_page_ = &on_page;
    // The BOM may straddle two chunks: hold its first bytes until it is known whether they
    // are one.
    while (!bom_decided_ && !bytes.empty()) {
      bom_prefix_.push_back(bytes.front());
      bytes.remove_prefix(1);
      if (!kBom.starts_with(bom_prefix_)) {
        bom_decided_ = true;
        for (char c : bom_prefix_) Consume(c);
      } else if (bom_prefix_.size() == kBom.size()) {
        bom_decided_ = true;
      }
    }
    for (char c : bytes) Consume(c);
  }

  void Finish(const std::function<void(FinancePage&&)>& on_page) {
    on_page_ = &on_page;
    if (!bom_decided_) {
      bom_decided_ = true;
      for (char c : bom_prefix_) Consume(c);
    }
    if (mode_ == Mode::kQuoted) {
      throw MalformedPage("line " + std::to_string(row_line_) +
                          ": a quoted field on the row starting here is never closed; the file "
                          "is cut short or broken, so none of it is used");
    }
    if (row_started_) EndRow();
    if (!header_) throw MalformedPage("the file has no header row");
    on_page(std::move(page_));
    page_ = {};
  }

  std::int64_t rows() const { return rows_; }

 private:
  enum class Mode {
    kFieldStart,  // nothing of the field read yet
    kUnquoted,    // inside a field that did not start with a quote
    kQuoted,      // inside a quoted field
    kQuoteSeen,   // a quote inside a quoted field: the closing one, or the first of ""
    kAfterQuote,  // after a quoted field's closing quote
  };

  void Consume(char c) {
    // A CRLF is one line end: the LF after a CR that ended a line (or sat in a quoted field)
    // is not a second one.
    const bool lf_of_crlf = after_cr_ && c == '\n';
    after_cr_ = c == '\r';
    const bool line_end = c == '\n' || c == '\r';
    switch (mode_) {
      case Mode::kQuoted:
        if (c == '"') {
          mode_ = Mode::kQuoteSeen;
        } else {
          field_.push_back(c);
          if (line_end && !lf_of_crlf) ++line_;
        }
        return;
      case Mode::kQuoteSeen:
        if (c == '"') {
          field_.push_back('"');
          mode_ = Mode::kQuoted;
          return;
        }
        mode_ = Mode::kAfterQuote;
        [[fallthrough]];
      case Mode::kAfterQuote:
        if (c == format_.delimiter) {
          EndField();
        } else if (line_end) {
          if (!lf_of_crlf) EndRow();
        } else {
          // Kept (the row is quarantined anyway), so the raw copy shows what was there.
          if (!row_error_) {
            row_error_ =
                "field " + std::to_string(fields_.size() + 1) + " has text after its closing quote";
          }
          field_.push_back(c);
        }
        return;
      case Mode::kFieldStart:
        if (c == '"') {
          mode_ = Mode::kQuoted;
          row_started_ = true;
          return;
        }
        [[fallthrough]];
      case Mode::kUnquoted:
        if (c == format_.delimiter) {
          row_started_ = true;
          EndField();
        } else if (line_end) {
          if (lf_of_crlf) return;
          if (row_started_) {
            EndRow();
          } else {
            ++line_;  // a blank line
            row_line_ = line_;
          }
        } else {
          // A quote inside an unquoted field is kept as text, as spreadsheets read it.
          field_.push_back(c);
          mode_ = Mode::kUnquoted;
          row_started_ = true;
        }
        return;
    }
  }

  void EndField() {
    fields_.push_back(std::move(field_));
    field_.clear();
    mode_ = Mode::kFieldStart;
  }

  void EndRow() {
    EndField();
    std::vector<std::string> fields = std::move(fields_);
    fields_.clear();
    std::optional<std::string> error = std::move(row_error_);
    row_error_.reset();
    const std::int64_t line = row_line_;
    ++line_;
    row_line_ = line_;
    row_started_ = false;
    if (!header_) {
      ReadHeader(std::move(fields), line, error);
    } else {
      ReadRow(std::move(fields), line, error);
    }
  }

  void ReadHeader(std::vector<std::string> names, std::int64_t line,
                  const std::optional<std::string>& error) {
    if (error) throw MalformedPage("the header row (line " + std::to_string(line) + "): " + *error);
    for (const std::string& name : names) {
      if (!IsUtf8(name)) {
        throw MalformedPage("the header row (line " + std::to_string(line) +
                            ") is not valid UTF-8: \"" + Clean(name) + "\"");
      }
    }
    const CsvColumns& c = format_.columns;
    if (TrimmedView(c.person_id).empty()) throw MalformedPage("columns.person_id names no column");
    columns_ = {{"account_id", &c.account_id, {}},   {"account_name", &c.account_name, {}},
                {"person_id", &c.person_id, {}},     {"given_name", &c.given_name, {}},
                {"family_name", &c.family_name, {}}, {"email", &c.email, {}},
                {"email2", &c.email2, {}},           {"phone", &c.phone, {}},
                {"status", &c.status, {}},           {"updated_at", &c.updated_at, {}}};
    std::string listed;
    for (const std::string& name : names) listed += (listed.empty() ? "\"" : ", \"") + name + "\"";
    for (MappedColumn& column : columns_) {
      const std::string_view wanted = TrimmedView(*column.header);
      if (wanted.empty()) continue;
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (!EqualsIgnoringAsciiCase(TrimmedView(names[i]), wanted)) continue;
        if (column.index) {
          throw MalformedPage("the header names column \"" + std::string(wanted) + "\" (columns." +
                              std::string(column.setting) + ") twice");
        }
        column.index = i;
      }
      if (!column.index) {
        throw MalformedPage("the header has no column \"" + std::string(wanted) + "\" (columns." +
                            std::string(column.setting) + "); it has " + listed);
      }
    }
    // The raw copy is a JSON object: a header name given twice gets " (2)", " (3)", ...
    std::unordered_map<std::string, int> uses;
    for (const std::string& name : names) {
      const int use = ++uses[name];
      raw_keys_.push_back(use == 1 ? name : name + " (" + std::to_string(use) + ")");
    }
    header_ = std::move(names);
  }

  const std::string& Field(const std::vector<std::string>& fields, std::string_view setting) const {
    static const std::string kEmpty;
    for (const MappedColumn& column : columns_) {
      if (column.setting == setting) return column.index ? fields[*column.index] : kEmpty;
    }
    return kEmpty;
  }

  std::string RawJson(const std::vector<std::string>& fields, bool clean) const {
    if (fields.size() != raw_keys_.size()) {
      json::array raw;
      for (const std::string& f : fields) raw.emplace_back(clean ? Clean(f) : f);
      return json::serialize(raw);
    }
    json::object raw;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      raw[raw_keys_[i]] = clean ? Clean(fields[i]) : fields[i];
    }
    return json::serialize(raw);
  }

  void ReadRow(std::vector<std::string> fields, std::int64_t line,
               const std::optional<std::string>& row_error) {
    ++rows_;
    const std::string where = "line " + std::to_string(line) + ": ";
    // The person id as far as it can be read, so a quarantined row still names its record.
    std::string id;
    if (const std::size_t at = *Column("person_id").index; at < fields.size()) {
      id = std::string(TrimmedView(fields[at]));
    }
    std::optional<std::string> reason;
    if (row_error) {
      reason = *row_error;
    } else if (fields.size() != header_->size()) {
      reason = std::to_string(fields.size()) + " fields where the header has " +
               std::to_string(header_->size());
    } else {
      for (std::size_t i = 0; i < fields.size() && !reason; ++i) {
        if (!IsUtf8(fields[i])) reason = "column \"" + (*header_)[i] + "\" is not valid UTF-8";
      }
    }
    Millis updated_at = file_time_;
    if (!reason) {
      if (id.empty()) {
        reason = "no person id (column \"" + *Column("person_id").header + "\")";
      } else if (const std::string_view at = TrimmedView(Field(fields, "updated_at"));
                 !at.empty()) {
        if (const auto parsed = ParseCsvTime(at)) {
          updated_at = *parsed;
        } else {
          reason = "updated_at \"" + std::string(at) + "\" is not a date-time (column \"" +
                   *Column("updated_at").header + "\")";
        }
      }
    }
    if (!reason) {
      const auto [first, inserted] = lines_by_id_.emplace(id, line);
      if (!inserted) {
        reason = "person id \"" + id + "\" is already on line " + std::to_string(first->second) +
                 ", which is the one used";
      }
    }
    if (reason) {
      page_.quarantined.push_back(QuarantinedRecord{reconcile::Side::kFinance, std::string(kSource),
                                                    Clean(id), where + *reason,
                                                    RawJson(fields, true)});
    } else {
      FinancePerson person;
      person.source = std::string(kSource);
      person.remote_id = id;
      person.account_id = std::string(TrimmedView(Field(fields, "account_id")));
      person.account_name = std::string(TrimmedView(Field(fields, "account_name")));
      person.given_name = std::string(TrimmedView(Field(fields, "given_name")));
      person.family_name = std::string(TrimmedView(Field(fields, "family_name")));
      person.email = Field(fields, "email");
      person.email2 = Field(fields, "email2");
      person.status =
          Archived(Field(fields, "status")) ? LinkStatus::kArchived : LinkStatus::kActive;
      person.updated_at = updated_at;
      person.raw_json = RawJson(fields, false);
      page_.persons.push_back(std::move(person));
    }
    if (page_.persons.size() + page_.quarantined.size() >= page_size_) {
      (*on_page_)(std::move(page_));
      page_ = {};
    }
  }

  const MappedColumn& Column(std::string_view setting) const {
    return *std::find_if(columns_.begin(), columns_.end(),
                         [&](const MappedColumn& c) { return c.setting == setting; });
  }

  bool Archived(std::string_view status) const {
    status = TrimmedView(status);
    if (status.empty()) return false;
    return std::any_of(format_.archived_statuses.begin(), format_.archived_statuses.end(),
                       [&](const std::string& value) {
                         return EqualsIgnoringAsciiCase(TrimmedView(value), status);
                       });
  }

  CsvFormat format_;
  Millis file_time_;
  std::size_t page_size_;
  const std::function<void(FinancePage&&)>* on_page_ = nullptr;

  bool bom_decided_ = false;
  std::string bom_prefix_;

  Mode mode_ = Mode::kFieldStart;
  bool after_cr_ = false;
  bool row_started_ = false;
  std::string field_;
  std::vector<std::string> fields_;
  std::optional<std::string> row_error_;
  std::int64_t line_ = 1;      // the physical line being read
  std::int64_t row_line_ = 1;  // the line the current row started on

  std::optional<std::vector<std::string>> header_;
  std::vector<std::string> raw_keys_;
  std::vector<MappedColumn> columns_;
  std::unordered_map<std::string, std::int64_t> lines_by_id_;
  std::int64_t rows_ = 0;
  FinancePage page_;
};

CsvReader::CsvReader(CsvFormat format, Millis file_time, std::size_t page_size)
    : state_(std::make_unique<State>(std::move(format), file_time, page_size)) {}

CsvReader::~CsvReader() = default;

void CsvReader::Feed(std::string_view bytes, const std::function<void(FinancePage&&)>& on_page) {
  state_->Feed(bytes, on_page);
}

void CsvReader::Finish(const std::function<void(FinancePage&&)>& on_page) {
  state_->Finish(on_page);
}

std::int64_t CsvReader::rows() const { return state_->rows(); }

std::optional<Millis> ParseCsvTime(std::string_view text) {
  constexpr std::size_t kDateLength = 10;  // YYYY-MM-DD
  if (text.size() == kDateLength) return ParseIsoDateTime(std::string(text) + "T00:00:00Z");
  if (text.size() > kDateLength && text[kDateLength] == ' ') {
    std::string with_t(text);
    with_t[kDateLength] = 'T';
    return ParseIsoDateTime(with_t);
  }
  return ParseIsoDateTime(text);
}

namespace {

// What identifies one version of the file: a file replaced in place or rewritten while it
// was read differs in one of them.
struct FileVersion {
  Millis mtime_ms = 0;
  std::uintmax_t size = 0;

  bool operator==(const FileVersion&) const = default;
};

std::string Describe(const std::filesystem::path& path) { return "csv: " + path.string(); }

FileVersion VersionOf(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw FetchError(Describe(path) + " cannot be read: " + std::strerror(errno));
  }
  return {static_cast<Millis>(info.st_mtim.tv_sec) * 1000 + info.st_mtim.tv_nsec / 1'000'000,
          static_cast<std::uintmax_t>(info.st_size)};
}

// The file a path names: itself, or the newest *.csv in the directory it names.
std::filesystem::path FileToRead(const std::filesystem::path& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    throw FetchError(Describe(path) + " does not exist");
  }
  if (error) throw FetchError(Describe(path) + " cannot be read: " + error.message());
  if (!std::filesystem::is_directory(status)) return path;
  std::optional<std::filesystem::path> newest;
  Millis newest_time = 0;
  std::filesystem::directory_iterator entries(path, error);
  if (error) throw FetchError(Describe(path) + " cannot be listed: " + error.message());
  for (const auto& entry : entries) {
    const std::string extension = entry.path().extension().string();
    if (!EqualsIgnoringAsciiCase(extension, ".csv") || !entry.is_regular_file(error)) continue;
    const Millis time = VersionOf(entry.path()).mtime_ms;
    if (!newest || time > newest_time || (time == newest_time && entry.path() > *newest)) {
      newest = entry.path();
      newest_time = time;
    }
  }
  if (!newest) throw FetchError(Describe(path) + " holds no *.csv file");
  return *newest;
}

class CsvSource final : public FinanceSource {
 public:
  explicit CsvSource(CsvSettings settings) : settings_(std::move(settings)) {}

  FetchSummary Fetch(const FetchRequest& request,
                     const std::function<void(FinancePage&&)>& on_page) override {
    const std::filesystem::path file = FileToRead(settings_.path);
    const FileVersion before = VersionOf(file);
    FetchSummary summary;
    // The cursor is the version last committed: the same file is not read again until it
    // changes, and a crash before the commit leaves the old cursor, so it is read again.
    if (request.since && *request.since == before.mtime_ms) return summary;

    std::ifstream in(file, std::ios::binary);
    if (!in) throw FetchError(Describe(file) + " cannot be opened: " + std::strerror(errno));
    CsvReader reader(settings_.format, before.mtime_ms,
                     static_cast<std::size_t>(settings_.page_size));
    const auto count_and_pass = [&](FinancePage&& page) {
      ++summary.pages;
      summary.records += static_cast<std::int64_t>(page.persons.size() + page.quarantined.size());
      on_page(std::move(page));
    };
    std::string chunk(kChunkBytes, '\0');
    try {
      while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        reader.Feed(std::string_view(chunk.data(), static_cast<std::size_t>(in.gcount())),
                    count_and_pass);
      }
      if (in.bad()) throw FetchError(Describe(file) + " could not be read to its end");
      // Checked before the last page is handed out: a file rewritten while it was read is a
      // mix of two versions, and taking it as the whole source would be wrong.
      if (VersionOf(file) != before) {
        throw FetchError(Describe(file) +
                         " changed while it was read; nothing of it is used, the next run reads "
                         "it again (write it elsewhere and rename it into place)");
      }
      reader.Finish(count_and_pass);
    } catch (const MalformedPage& error) {
      throw FetchError(Describe(file) + ": " + error.what());
    }
    summary.source_clock = before.mtime_ms;
    summary.complete = true;
    summary.exact_clock = true;
    return summary;
  }

 private:
  CsvSettings settings_;
};

}  // namespace

std::unique_ptr<FinanceSource> MakeCsvSource(CsvSettings settings) {
  if (!std::filesystem::path(settings.path).is_absolute()) {
    throw std::invalid_argument("csv: path must be absolute, got \"" + settings.path + "\"");
  }
  if (settings.page_size < 1 || settings.page_size > kMaxPageSize) {
    throw std::invalid_argument("csv: page_size must be between 1 and 1000, got " +
                                std::to_string(settings.page_size));
  }
  const char d = settings.format.delimiter;
  if (d == '"' || d == '\r' || d == '\n') {
    throw std::invalid_argument("csv: the delimiter cannot be a quote or a line end");
  }
  if (TrimmedView(settings.format.columns.person_id).empty()) {
    throw std::invalid_argument("csv: columns.person_id must name a column");
  }
  return std::make_unique<CsvSource>(std::move(settings));
}

}  // namespace concord::connectors
