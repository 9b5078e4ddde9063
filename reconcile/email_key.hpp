#pragma once
// Email keys (DESIGN.md §5): the normalised forms of an address used for matching.

#include <string>
#include <string_view>

namespace concord::reconcile {

// Outcome of normalising one raw email field.
struct EmailKey {
  enum class Status {
    kMissing,  // empty or white space only: kept, never matched, not an error
    kValid,    // key holds the exact key
    kInvalid,  // reason says why; kept, never matched, reviewed as invalid_email
  };
  Status status = Status::kMissing;
  std::string key;
  std::string reason;

  bool valid() const { return status == Status::kValid; }
};

// The exact key: trim (Unicode white space too), strip "mailto:" and a "Name <addr>"
// wrapper, split at the last '@'; domain → lower-case IDNA2008/UTS #46 A-label without a
// trailing dot; local part → NFC, case-fold, NFC. Never throws.
// Also: a quoted local part whose content is a dot-atom loses its quotes ("a"@x == a@x);
// single-label domains and numeric top-level labels (IP addresses) are invalid; limits
// (local 64, whole 254 octets) apply to the key. Thread-safe (a per-thread IDNA memo).
EmailKey ExactEmailKey(std::string_view raw);

}  // namespace concord::reconcile
