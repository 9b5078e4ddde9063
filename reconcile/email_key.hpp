#pragma once
// Email keys (DESIGN.md §5): the normalised forms of an address used for matching.

#include <string>
#include <string_view>
#include <vector>

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

// One raw email field, which may hold several addresses separated by ',' or ';' (outside
// quotes and angle brackets; "Lee, Ann <ann@x.example>" is one address).
struct EmailField {
  // Email 1: the first valid address. When no part is valid: the first invalid part (its
  // reason names it when there were several), or kMissing when every part is empty.
  EmailKey first;
  // Exact keys of the further valid addresses, in field order, without duplicates of each
  // other or of `first`.
  std::vector<std::string> more;
  // One line per part that is not a valid address while another part is ("'n/a': no '@'").
  std::vector<std::string> problems;
};

// Splits `raw` and keys each part with ExactEmailKey. A field without ',' or ';' gives
// exactly ExactEmailKey(raw) as `first`. Never throws.
EmailField SplitEmailField(std::string_view raw);

// Which mailbox providers ignore parts of the local part (DESIGN.md §5, tenant config
// `rules.loose_domains` / `rules.plus_domains`). Domains compare case-insensitively, a
// trailing dot ignored; a Unicode domain is compared as its A-label.
struct LooseRules {
  // Mailboxes that ignore dots and a "+tag" in the local part. "alias=canonical" also maps
  // the alias domain onto the canonical one; "googlemail.com" always maps to "gmail.com"
  // (Google's own alias), so the default makes both one loose key.
  std::vector<std::string> loose_domains{"gmail.com", "googlemail.com"};
  // Mailboxes that ignore a "+tag" only (sub-addressing), e.g. "fastmail.com".
  std::vector<std::string> plus_domains;
};

// The loose key of a valid exact key (ExactEmailKey(...).key): for a loose domain the local
// part loses its dots and everything from the first '+', and the domain becomes its
// canonical one; for a plus domain the local part loses everything from the first '+'. A
// quoted local part, a local part that would become empty, and every other domain are kept
// as they are, so for most addresses the loose key is the exact key. The loose key only
// ever suggests a match (rule 6), it never links.
std::string LooseEmailKey(std::string_view exact_key, const LooseRules& rules);

}  // namespace concord::reconcile
