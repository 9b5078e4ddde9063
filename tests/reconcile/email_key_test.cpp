// ExactEmailKey against the table in email_key_cases.tsv, plus the properties every key has.

#include "reconcile/email_key.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace concord::reconcile {
namespace {

struct KeyCase {
  int line = 0;
  std::string input;
  std::string status;
  std::string expected;
};

// Keeps test names and failure messages readable instead of a byte dump.
void PrintTo(const KeyCase& c, std::ostream* os) {
  *os << "line " << c.line << ": [" << c.input << "] " << c.status;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Expands the escapes described at the top of email_key_cases.tsv.
std::string Unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char e = text[++i];
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case '\\':
        out += '\\';
        break;
      case 'u':
        AppendUtf8(out, std::stoul(text.substr(i + 1, 4), nullptr, 16));
        i += 4;
        break;
      case 'x':
        out += static_cast<char>(std::stoul(text.substr(i + 1, 2), nullptr, 16));
        i += 2;
        break;
      case '{': {
        std::size_t colon = text.find(':', i);
        std::size_t close = text.find('}', colon);
        int count = std::stoi(text.substr(i + 1, colon - i - 1));
        std::string unit = text.substr(colon + 1, close - colon - 1);
        for (int n = 0; n < count; ++n) out += unit;
        i = close;
        break;
      }
      default:
        out += '\\';
        out += e;
    }
  }
  return out;
}

// The rows of a tab-separated case file (comments and blank lines skipped), each with
// `columns` unescaped fields and its line number in front.
std::vector<std::pair<int, std::vector<std::string>>> LoadRows(const std::string& file,
                                                               std::size_t columns) {
  std::vector<std::pair<int, std::vector<std::string>>> rows;
  std::ifstream in(std::string(CONCORD_RECONCILE_TESTDATA "/") + file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, '\t');) fields.push_back(Unescape(field));
    fields.resize(columns);
    rows.emplace_back(number, std::move(fields));
  }
  return rows;
}

std::vector<KeyCase> LoadCases() {
  std::vector<KeyCase> cases;
  for (auto& [line, f] : LoadRows("email_key_cases.tsv", 3)) {
    cases.push_back({line, f[0], f[1], f[2]});
  }
  return cases;
}

std::string StatusName(EmailKey::Status status) {
  switch (status) {
    case EmailKey::Status::kMissing:
      return "missing";
    case EmailKey::Status::kValid:
      return "valid";
    case EmailKey::Status::kInvalid:
      return "invalid";
  }
  return "?";
}

class EmailKeyTable : public testing::TestWithParam<KeyCase> {};

TEST_P(EmailKeyTable, MatchesExpectation) {
  const KeyCase& c = GetParam();
  EmailKey key = ExactEmailKey(c.input);
  SCOPED_TRACE("email_key_cases.tsv line " + std::to_string(c.line));
  ASSERT_EQ(StatusName(key.status), c.status) << "key=" << key.key << " reason=" << key.reason;
  if (c.status == "valid") {
    EXPECT_EQ(key.key, c.expected);
    EXPECT_TRUE(key.reason.empty());
    // A key is a fixed point: normalising it again changes nothing.
    EXPECT_EQ(ExactEmailKey(key.key).key, key.key);
  } else if (c.status == "invalid") {
    EXPECT_NE(key.reason.find(c.expected), std::string::npos) << "reason: " << key.reason;
    EXPECT_TRUE(key.key.empty());
  } else {
    EXPECT_TRUE(key.key.empty());
    EXPECT_TRUE(key.reason.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, EmailKeyTable, testing::ValuesIn(LoadCases()),
                         [](const testing::TestParamInfo<KeyCase>& info) {
                           return "line" + std::to_string(info.param.line);
                         });

TEST(EmailKeyTableFile, IsLoaded) { EXPECT_GT(LoadCases().size(), 60u); }

TEST(ExactEmailKey, SameAddressInDifferentSpellingsGivesOneKey) {
  const char* spellings[] = {
      "Jürgen.Müller@BÜCHER.example", "  mailto:jürgen.müller@xn--bcher-kva.example ",
      "Jürgen Müller <JÜRGEN.MÜLLER@Bücher.Example.>", "\"jürgen.müller\"@bücher.example"};
  for (const char* s : spellings) {
    EXPECT_EQ(ExactEmailKey(s).key, "jürgen.müller@xn--bcher-kva.example") << s;
  }
}

TEST(ExactEmailKey, NeverThrowsOnArbitraryBytes) {
  std::uint32_t state = 12345;
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    int len = static_cast<int>(state % 40);
    for (int i = 0; i < len; ++i) {
      state = state * 1664525u + 1013904223u;
      const char alphabet[] = "aZ@.\"<> \\-_x\x01\xC3\xA4\xE3\x80\x80";
      s += alphabet[(state >> 16) % (sizeof alphabet - 1)];
    }
    EmailKey key;
    EXPECT_NO_THROW(key = ExactEmailKey(s));
    if (key.valid()) {
      EXPECT_EQ(ExactEmailKey(key.key).key, key.key) << s;
    }
  }
}

std::vector<std::string> Words(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  for (std::string word; std::getline(stream, word, separator);) {
    if (!word.empty()) out.push_back(word);
  }
  return out;
}

// loose_key_cases.tsv: exact key, loose domains ("default" or a comma list, "-" for none),
// plus domains (comma list), expected loose key.
TEST(LooseEmailKey, MatchesTable) {
  auto rows = LoadRows("loose_key_cases.tsv", 4);
  ASSERT_GT(rows.size(), 15u);
  for (const auto& [line, f] : rows) {
    LooseRules rules;
    if (f[1] != "default") rules.loose_domains = Words(f[1] == "-" ? "" : f[1], ',');
    rules.plus_domains = Words(f[2], ',');
    EXPECT_EQ(LooseEmailKey(f[0], rules), f[3]) << "loose_key_cases.tsv line " << line;
    // Loose keys are a fixed point too.
    EXPECT_EQ(LooseEmailKey(f[3], rules), f[3]) << "loose_key_cases.tsv line " << line;
  }
}

// email_field_cases.tsv: raw field, status of email 1, its key (valid) or a reason
// substring (invalid), the further keys (space-separated), the number of problems.
TEST(SplitEmailField, MatchesTable) {
  auto rows = LoadRows("email_field_cases.tsv", 5);
  ASSERT_GT(rows.size(), 15u);
  for (const auto& [line, f] : rows) {
    SCOPED_TRACE("email_field_cases.tsv line " + std::to_string(line));
    EmailField field = SplitEmailField(f[0]);
    ASSERT_EQ(StatusName(field.first.status), f[1]) << field.first.key << field.first.reason;
    if (f[1] == "valid") {
      EXPECT_EQ(field.first.key, f[2]);
    } else if (f[1] == "invalid") {
      EXPECT_NE(field.first.reason.find(f[2]), std::string::npos) << field.first.reason;
    }
    EXPECT_EQ(field.more, Words(f[3], ' '));
    EXPECT_EQ(std::to_string(field.problems.size()), f[4].empty() ? "0" : f[4]);
  }
}

TEST(SplitEmailField, OnePartIsExactlyTheExactKey) {
  for (const char* raw : {"a@example.com", "  A@Example.com ", "Lee <a@example.com>", "", "x",
                          "\"a,b\"@example.com", "\"a;b\" <a@example.com>"}) {
    EmailField field = SplitEmailField(raw);
    EmailKey key = ExactEmailKey(raw);
    EXPECT_EQ(field.first.status, key.status) << raw;
    EXPECT_EQ(field.first.key, key.key) << raw;
    EXPECT_EQ(field.first.reason, key.reason) << raw;
    EXPECT_TRUE(field.more.empty());
    EXPECT_TRUE(field.problems.empty());
  }
}

TEST(SplitEmailField, NeverThrowsOnArbitraryBytes) {
  std::uint32_t state = 777;
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    int len = static_cast<int>(state % 60);
    for (int i = 0; i < len; ++i) {
      state = state * 1664525u + 1013904223u;
      const char alphabet[] = "a@.,;\"<> \\x\x01\xC3\xA4";
      s += alphabet[(state >> 16) % (sizeof alphabet - 1)];
    }
    EmailField field;
    EXPECT_NO_THROW(field = SplitEmailField(s));
    for (const std::string& more : field.more) EXPECT_TRUE(ExactEmailKey(more).valid()) << s;
    EXPECT_NO_THROW(LooseEmailKey(field.first.key, LooseRules{}));
  }
}

}  // namespace
}  // namespace concord::reconcile
