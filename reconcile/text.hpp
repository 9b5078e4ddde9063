#pragma once
// Text that leaves reconcile for the store, the log and the review queue must be valid UTF-8
// without control characters (PostgreSQL text refuses NUL and bad bytes) and of sane length.
// Source data need not be: these helpers say what is wrong and give a clean copy.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace concord::reconcile::detail {

// Longest text field a person, a membership or a permission keeps, in bytes.
inline constexpr std::size_t kMaxFieldBytes = 1024;

// What CleanText found (a bit set).
enum TextProblem : unsigned {
  kTextBadUtf8 = 1u,  // bytes that are not UTF-8: each ill-formed sequence became U+FFFD
  kTextControl = 2u,  // control characters: tab, CR and LF became a space, others U+FFFD
  kTextTooLong = 4u,  // cut to `max_bytes` at a character boundary
};

// A clean copy of `text`, or nullopt when it is clean already (no allocation: the common
// case). `problems` receives the TextProblem bits found. Never throws.
std::optional<std::string> CleanText(std::string_view text, std::size_t max_bytes,
                                     unsigned& problems);

// `text`, cleaned if it needs it.
std::string CleanCopy(std::string_view text, std::size_t max_bytes = kMaxFieldBytes);

// "not valid UTF-8, control characters, longer than N bytes" for the bits set; empty for 0.
std::string DescribeTextProblems(unsigned problems, std::size_t max_bytes);

}  // namespace concord::reconcile::detail
