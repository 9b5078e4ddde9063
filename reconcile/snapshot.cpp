#include "reconcile/snapshot.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>

namespace concord::reconcile::detail {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if it is malformed.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  std::size_t n = b < 0x80           ? 1
                  : (b >> 5) == 0x6  ? 2
                  : (b >> 4) == 0xE  ? 3
                  : (b >> 3) == 0x1E ? 4
                                     : 0;
  if (n == 0 || i + n > s.size()) return 0;
  std::uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1Fu) : n == 3 ? (b & 0x0Fu) : (b & 0x07u);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  // Reject overlong forms, surrogates and values beyond U+10FFFF.
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void Field(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += ',';
  AppendJsonString(out, name);
  out += ':';
  AppendJsonString(out, value);
}

void NullableField(std::string& out, std::string_view name,
                   const std::optional<std::string>& value) {
  out += ',';
  AppendJsonString(out, name);
  out += ':';
  if (value) {
    AppendJsonString(out, *value);
  } else {
    out += "null";
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t n = Utf8SequenceLength(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::string MergeSnapshotJson(const Person& loser, const std::vector<const Link*>& links) {
  std::string out = "{\"person\":{";
  Field(out, "id", loser.id, /*first=*/true);
  Field(out, "status", ToString(loser.status));
  Field(out, "origin", ToString(loser.origin));
  NullableField(out, "email", loser.email);
  Field(out, "given_name", loser.given_name);
  Field(out, "family_name", loser.family_name);
  Field(out, "display_name", loser.display_name);
  out += ",\"created_run\":" + std::to_string(loser.created_run);
  NullableField(out, "merged_into", loser.merged_into);
  out += ",\"merged_from\":[";
  for (std::size_t i = 0; i < loser.merged_from.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, loser.merged_from[i]);
  }
  out += "]},\"links\":[";
  for (std::size_t i = 0; i < links.size(); ++i) {
    const Link& link = *links[i];
    out += i > 0 ? ",{" : "{";
    Field(out, "side", ToString(link.side), /*first=*/true);
    Field(out, "source", link.source);
    Field(out, "remote_id", link.remote_id);
    Field(out, "person_id", link.person_id);
    Field(out, "rule", ToString(link.rule));
    Field(out, "status", ToString(link.status));
    Field(out, "evidence", link.evidence);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace concord::reconcile::detail
