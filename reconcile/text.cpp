#include "reconcile/text.hpp"

#include <unicode/utf8.h>

#include <cstdint>

namespace concord::reconcile::detail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool IsControl(UChar32 c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

}  // namespace

std::optional<std::string> CleanText(std::string_view text, std::size_t max_bytes,
                                     unsigned& problems) {
  problems = 0;
  bool plain = text.size() <= max_bytes;
  for (std::size_t i = 0; plain && i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    plain = c >= 0x20 && c < 0x7F;
  }
  if (plain) return std::nullopt;

  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  auto length = static_cast<int32_t>(text.size() > INT32_MAX ? INT32_MAX : text.size());
  for (int32_t i = 0; i < length;) {
    int32_t start = i;
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    std::string_view piece;
    if (c < 0) {
      problems |= kTextBadUtf8;
      piece = kReplacement;
    } else if (IsControl(c)) {
      problems |= kTextControl;
      piece = c == '\t' || c == '\n' || c == '\r' ? std::string_view(" ") : kReplacement;
    } else {
      piece = text.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start));
    }
    if (out.size() + piece.size() > max_bytes) {
      problems |= kTextTooLong;
      break;
    }
    out += piece;
  }
  if (static_cast<std::size_t>(length) < text.size()) problems |= kTextTooLong;
  if (problems == 0) return std::nullopt;  // non-ASCII but clean
  return out;
}

std::string CleanCopy(std::string_view text, std::size_t max_bytes) {
  unsigned problems = 0;
  std::optional<std::string> clean = CleanText(text, max_bytes, problems);
  return clean ? std::move(*clean) : std::string(text);
}

std::string DescribeTextProblems(unsigned problems, std::size_t max_bytes) {
  std::string out;
  auto add = [&](std::string_view what) {
    if (!out.empty()) out += ", ";
    out += what;
  };
  if (problems & kTextBadUtf8) add("not valid UTF-8 (replaced by U+FFFD)");
  if (problems & kTextControl) add("control characters (replaced)");
  if (problems & kTextTooLong) add("longer than " + std::to_string(max_bytes) + " bytes (cut)");
  return out;
}

}  // namespace concord::reconcile::detail
