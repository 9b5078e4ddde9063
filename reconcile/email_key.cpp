#include "reconcile/email_key.hpp"

#include <idn2.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

// Decisions where DESIGN.md §5 is silent (see also docs in email_key.hpp):
// - Trimming removes Unicode White_Space and the invisible characters that copy/paste and
//   CSV exports leave at the ends (BOM, zero-width space, word joiner, LRM/RLM). Inside the
//   address, white space, control characters and invisible format characters (other than
//   ZWJ/ZWNJ, which IDNA handles) make it invalid: they are never intended and would make
//   two visually identical addresses differ.
// - "mailto:" and the "Name <addr>" / "<addr>" wrappers are peeled in any nesting
//   ("Name <mailto:a@b>"). "<>" (an empty wrapper) counts as missing, like an empty field.
// - A quoted local part is canonicalised: if its content is a valid dot-atom the quotes are
//   dropped ("\"john\"@x" == "john@x", as RFC 5322 says), else it is re-quoted with only
//   '"' and '\' escaped. An empty quoted string is an empty local part.
// - Length limits are checked on the key (after normalisation, A-label domain): the key is
//   what we store and compare, and the DNS limits apply to A-labels.
// - Single-label domains ("john@gmail", "root@localhost") and numeric top-level labels
//   (IP addresses, "[1.2.3.4]" literals) are rejected: a contact's email must be reachable
//   from the internet, and these are almost always typos. The admin sees an invalid_email
//   review item naming the reason.

namespace concord::reconcile {
namespace {

constexpr std::size_t kMaxLocalOctets = 64;
constexpr std::size_t kMaxKeyOctets = 254;
constexpr std::size_t kMaxLabelOctets = 63;
constexpr std::size_t kMaxDomainOctets = 253;

EmailKey Invalid(std::string reason) {
  return EmailKey{EmailKey::Status::kInvalid, {}, std::move(reason)};
}

std::string CodePointName(UChar32 c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

// Invisible characters that are trimmed at the ends like white space.
bool IsTrimmableInvisible(UChar32 c) {
  return c == 0x200B || c == 0xFEFF || c == 0x2060 || c == 0x200E || c == 0x200F;
}

bool IsTrimmable(UChar32 c) { return u_isUWhiteSpace(c) || IsTrimmableInvisible(c); }

// Decodes one code point at `i` (advancing it); negative on malformed UTF-8.
UChar32 NextCodePoint(std::string_view s, std::size_t& i) {
  UChar32 c = 0;
  auto length = static_cast<int32_t>(s.size());
  auto pos = static_cast<int32_t>(i);
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), pos, length, c);
  i = static_cast<std::size_t>(pos);
  return c;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (NextCodePoint(s, i) < 0) return false;
  }
  return true;
}

std::string_view TrimUnicode(std::string_view s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    std::size_t next = begin;
    if (!IsTrimmable(NextCodePoint(s, next))) break;
    begin = next;
  }
  std::size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the last code point.
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::size_t probe = start;
    if (!IsTrimmable(NextCodePoint(s, probe))) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The position of the '<' that opens a trailing "<addr>", skipping quoted display names
// ("\"Smith <Sales>\" <a@b>"); npos when there is none.
std::size_t FindWrapperOpen(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && s[i] == '<') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Peels "mailto:" and "Name <addr>" wrappers. nullopt: unbalanced brackets.
std::optional<std::string_view> Unwrap(std::string_view s) {
  for (int round = 0; round < 4; ++round) {
    std::string_view before = s;
    if (StartsWithNoCase(s, "mailto:")) s = TrimUnicode(s.substr(7));
    if (!s.empty() && s.back() == '>') {
      std::size_t open = FindWrapperOpen(s);
      if (open == std::string_view::npos) return std::nullopt;
      s = TrimUnicode(s.substr(open + 1, s.size() - open - 2));
    }
    if (s == before) break;
  }
  return s;
}

// White space, control and invisible format characters make an address invalid.
std::optional<std::string> ForbiddenCharacter(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    UChar32 c = NextCodePoint(s, i);
    if (u_isUWhiteSpace(c)) return "contains white space (" + CodePointName(c) + ")";
    int8_t type = u_charType(c);
    if (type == U_CONTROL_CHAR) return "contains a control character (" + CodePointName(c) + ")";
    if (type == U_FORMAT_CHAR && c != 0x200C && c != 0x200D) {
      return "contains an invisible formatting character (" + CodePointName(c) + ")";
    }
  }
  return std::nullopt;
}

// RFC 5322 atext; non-ASCII bytes are allowed for internationalised addresses (RFC 6531).
bool IsAtext(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// Why `s` is not a dot-atom, or nullopt when it is one.
std::optional<std::string> DotAtomError(std::string_view s) {
  if (s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) {
    return "local part has a leading, trailing or doubled dot";
  }
  for (unsigned char c : s) {
    if (c != '.' && !IsAtext(c)) {
      return std::string("local part contains an unquoted '") + static_cast<char>(c) +
             "' (neither a dot-atom nor a quoted string)";
    }
  }
  return std::nullopt;
}

// Validates a dot-atom or quoted-string local part and returns its canonical spelling.
std::optional<std::string> CanonicalLocal(std::string_view local, std::string& error) {
  if (local.front() != '"') {
    if (auto e = DotAtomError(local)) {
      error = *e;
      return std::nullopt;
    }
    return std::string(local);
  }
  std::string content;
  std::size_t i = 1;
  for (; i < local.size() && local[i] != '"'; ++i) {
    unsigned char c = static_cast<unsigned char>(local[i]);
    if (c == '\\') {
      if (++i == local.size()) break;
      content += local[i];  // quoted-pair: any visible character
    } else {
      content += static_cast<char>(c);  // qtext; white space was rejected earlier
    }
  }
  if (i + 1 != local.size()) {
    error = "local part is neither a dot-atom nor a quoted string";
    return std::nullopt;
  }
  if (content.empty()) {
    error = "empty local part";
    return std::nullopt;
  }
  if (!DotAtomError(content)) return content;
  std::string quoted = "\"";
  for (char c : content) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

void AsciiLower(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

// NFC, case-fold, NFC (DESIGN.md §5). ASCII needs only lower-casing, the common fast path.
std::optional<std::string> FoldLocal(std::string local) {
  if (IsAscii(local)) {
    AsciiLower(local);
    return local;
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return std::nullopt;
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(local);
  icu::UnicodeString folded = nfc->normalize(text, status);
  if (U_FAILURE(status)) return std::nullopt;
  folded.foldCase(U_FOLD_CASE_DEFAULT);
  icu::UnicodeString result = nfc->normalize(folded, status);
  if (U_FAILURE(status)) return std::nullopt;
  std::string out;
  result.toUTF8String(out);
  return out;
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

struct IdnaResult {
  int rc = IDN2_OK;
  std::string ascii;  // lower-case A-label form when rc == IDN2_OK
};

IdnaResult ToAscii(const std::string& domain) {
  char* raw_out = nullptr;
  IdnaResult result;
  result.rc =
      idn2_lookup_u8(reinterpret_cast<const uint8_t*>(domain.c_str()),
                     reinterpret_cast<uint8_t**>(&raw_out), IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  std::unique_ptr<char, FreeDeleter> out(raw_out);
  if (result.rc == IDN2_OK && !out) result.rc = IDN2_MALLOC;
  if (result.rc == IDN2_OK) {
    result.ascii = out.get();
    AsciiLower(result.ascii);
  }
  return result;
}

// A tenant has few distinct domains but many addresses, and libidn2 costs microseconds per
// call: remember recent answers. Per thread, so no locking; bounded, so no growth.
const IdnaResult& ToAsciiCached(const std::string& domain) {
  constexpr std::size_t kMaxEntries = 4096;
  thread_local std::unordered_map<std::string, IdnaResult> cache;
  if (auto it = cache.find(domain); it != cache.end()) return it->second;
  if (cache.size() >= kMaxEntries) cache.clear();
  return cache.emplace(domain, ToAscii(domain)).first->second;
}

// Why a domain label is unusable, or nullopt.
std::optional<std::string> LabelError(std::string_view label) {
  if (label.empty()) return "domain has an empty label";
  if (label.size() > kMaxLabelOctets) return "domain label longer than 63 octets";
  if (label.front() == '-' || label.back() == '-') {
    return "domain label starts or ends with a hyphen";
  }
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return std::string("domain label contains '") + c + "'";
    }
  }
  return std::nullopt;
}

// The lower-case A-label form of `domain` (UTS #46 non-transitional), or an error.
std::optional<std::string> CanonicalDomain(std::string_view domain, std::string& error) {
  std::string ascii(domain);
  if (IsAscii(ascii)) AsciiLower(ascii);
  // Pure LDH input without A-labels only needs lower-casing: skip libidn2 (the hot path).
  if (!IsAscii(ascii) || ascii.find("xn--") != std::string::npos) {
    const IdnaResult& idna = ToAsciiCached(ascii);
    if (idna.rc != IDN2_OK) {
      error = std::string("bad domain: ") + idn2_strerror(idna.rc);
      return std::nullopt;
    }
    ascii = idna.ascii;
  }
  // One trailing dot (the DNS root) is allowed; after UTS #46 so "。" counts as a dot too.
  if (!ascii.empty() && ascii.back() == '.') ascii.pop_back();
  if (ascii.empty()) {
    error = "empty domain";
    return std::nullopt;
  }
  if (ascii.size() > kMaxDomainOctets) {
    error = "domain longer than 253 octets";
    return std::nullopt;
  }
  std::size_t labels = 0;
  std::string_view last;
  std::string_view rest = ascii;
  while (true) {
    std::size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (auto e = LabelError(label)) {
      error = "bad domain label: " + *e;
      return std::nullopt;
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2) {
    error = "domain has a single label (no dot)";
    return std::nullopt;
  }
  if (last.find_first_not_of("0123456789") == std::string_view::npos) {
    error = "top-level domain label is numeric (IP addresses are not accepted)";
    return std::nullopt;
  }
  return ascii;
}

// Where `raw` splits into addresses: ',' and ';' outside quoted strings, angle brackets
// and quoted-pairs. A part without '@' that is followed by a "<addr>" part is a display
// name that held a separator ("Lee, Ann <ann@x.example>") and is joined to it again.
std::vector<std::string_view> SplitParts(std::string_view raw) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  int angle = 0;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (angle > 0) --angle;
    } else if ((c == ',' || c == ';') && angle == 0) {
      parts.push_back(raw.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  parts.push_back(raw.substr(begin));
  std::vector<std::string_view> joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    while (part.find('@') == std::string_view::npos && i + 1 < parts.size() &&
           parts[i + 1].find('<') != std::string_view::npos) {
      // Contiguous views into `raw`: widen `part` over the separator and the next part.
      ++i;
      part = std::string_view(
          part.data(), static_cast<std::size_t>(parts[i].data() - part.data()) + parts[i].size());
    }
    joined.push_back(part);
  }
  return joined;
}

// A configured domain as the key spells domains: lower-case A-label, no trailing dot.
std::string ConfiguredDomain(std::string_view domain) {
  domain = TrimUnicode(domain);
  std::string error;
  if (std::optional<std::string> canonical = CanonicalDomain(domain, error)) return *canonical;
  std::string out(domain);
  AsciiLower(out);
  return out;
}

// Whether the configured `name` is the key's `domain`. ASCII names (the usual case) compare
// without allocating; this runs once per record and configured domain.
bool IsConfiguredDomain(std::string_view name, std::string_view domain) {
  name = TrimUnicode(name);
  if (!IsAscii(name)) return ConfiguredDomain(name) == domain;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.size() != domain.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != domain[i]) return false;
  }
  return true;
}

// Cut `local` at its first '+', unless that would leave nothing.
std::string_view DropPlusTag(std::string_view local) {
  std::size_t plus = local.find('+');
  return plus == 0 || plus == std::string_view::npos ? local : local.substr(0, plus);
}

}  // namespace

EmailField SplitEmailField(std::string_view raw) {
  EmailField field;
  if (raw.find_first_of(",;") == std::string_view::npos) {
    field.first = ExactEmailKey(raw);
    return field;
  }
  std::vector<std::string_view> parts = SplitParts(raw);
  if (parts.size() == 1) {
    field.first = ExactEmailKey(raw);
    return field;
  }
  std::optional<EmailKey> first_invalid;
  std::vector<std::string> invalid;  // "'part': reason"
  std::size_t non_empty = 0;
  for (std::string_view part : parts) {
    EmailKey key = ExactEmailKey(part);
    if (key.status == EmailKey::Status::kMissing) continue;
    ++non_empty;
    if (key.status == EmailKey::Status::kInvalid) {
      std::string shown(TrimUnicode(part).substr(0, 80));
      if (!IsValidUtf8(shown)) shown = "(not UTF-8)";
      invalid.push_back("'" + shown + "': " + key.reason);
      if (!first_invalid) first_invalid = std::move(key);
      continue;
    }
    if (!field.first.valid()) {
      field.first = std::move(key);
    } else if (key.key != field.first.key &&
               std::find(field.more.begin(), field.more.end(), key.key) == field.more.end()) {
      field.more.push_back(std::move(key.key));
    }
  }
  if (field.first.valid()) {
    field.problems = std::move(invalid);
  } else if (first_invalid) {
    field.first = std::move(*first_invalid);
    if (non_empty > 1) {
      field.first.reason = "none of the " + std::to_string(non_empty) +
                           " addresses in the field is valid; the first: " + field.first.reason;
    }
  }
  return field;
}

std::string LooseEmailKey(std::string_view exact_key, const LooseRules& rules) {
  std::size_t at = exact_key.rfind('@');
  if (at == std::string_view::npos || at == 0 || exact_key.front() == '"') {
    return std::string(exact_key);
  }
  std::string_view local = exact_key.substr(0, at);
  std::string_view domain = exact_key.substr(at + 1);
  for (const std::string& entry : rules.loose_domains) {
    std::string_view name = entry;
    std::string_view canonical;
    if (std::size_t eq = name.find('='); eq != std::string_view::npos) {
      canonical = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (!IsConfiguredDomain(name, domain)) continue;
    std::string out;
    for (char c : DropPlusTag(local)) {
      if (c != '.') out += c;
    }
    if (out.empty()) out = std::string(local);
    out += '@';
    if (!canonical.empty()) {
      out += ConfiguredDomain(canonical);
    } else if (domain == "googlemail.com") {
      out += "gmail.com";
    } else {
      out += domain;
    }
    return out;
  }
  for (const std::string& entry : rules.plus_domains) {
    if (!IsConfiguredDomain(entry, domain)) continue;
    std::string out(DropPlusTag(local));
    out += '@';
    out += domain;
    return out;
  }
  return std::string(exact_key);
}

EmailKey ExactEmailKey(std::string_view raw) {
  if (!IsValidUtf8(raw)) return Invalid("not valid UTF-8");
  std::string_view s = TrimUnicode(raw);
  if (s.empty()) return EmailKey{};
  std::optional<std::string_view> unwrapped = Unwrap(s);
  if (!unwrapped) return Invalid("unbalanced angle brackets around the address");
  s = *unwrapped;
  if (s.empty()) return EmailKey{};
  if (auto e = ForbiddenCharacter(s)) return Invalid(*e);

  std::size_t at = s.rfind('@');
  if (at == std::string_view::npos) return Invalid("no '@'");
  std::string_view local_raw = s.substr(0, at);
  std::string_view domain_raw = s.substr(at + 1);
  if (local_raw.empty()) return Invalid("empty local part");
  if (domain_raw.empty()) return Invalid("empty domain");

  std::string error;
  std::optional<std::string> local = CanonicalLocal(local_raw, error);
  if (!local) return Invalid(error);
  local = FoldLocal(std::move(*local));
  if (!local) return Invalid("local part could not be normalised");
  if (local->size() > kMaxLocalOctets) return Invalid("local part longer than 64 octets");

  std::optional<std::string> domain = CanonicalDomain(domain_raw, error);
  if (!domain) return Invalid(error);

  std::string key = std::move(*local);
  key += '@';
  key += *domain;
  if (key.size() > kMaxKeyOctets) return Invalid("address longer than 254 octets");
  return EmailKey{EmailKey::Status::kValid, std::move(key), {}};
}

}  // namespace concord::reconcile
