#pragma once
// The value types every part of concord speaks: source records as connectors deliver them,
// the canonical state the store keeps, and the plan reconcile computes. Plain data only.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace concord::reconcile {

// Milliseconds since the Unix epoch, UTC. Every timestamp in the model uses it.
using Millis = std::int64_t;

enum class Side { kFinance, kPortal };

// Status of a source record as the source reports it; also the status of its link.
enum class LinkStatus { kActive, kArchived, kDeleted, kErased };

// How a link was made; fixed when the link is made (DESIGN.md §5).
enum class LinkRule { kEmailExact, kNoEmail, kPortalOrigin, kManual };

enum class PersonStatus { kActive, kInactive, kErased };
enum class Origin { kFinance, kPortal };

// One person on a finance account, as the finance connector delivered it. For Xero the
// contact's main person has remote_id = ContactID; each ContactPersons[] entry gets
// "ContactID/persons/<email key>" (or "#<index>").
struct FinancePerson {
  std::string source;     // connector kind: "xero", "qbo", "myob", "csv"
  std::string remote_id;  // unique within (tenant, source)
  std::string account_id;
  std::string account_name;
  std::string given_name;
  std::string family_name;
  std::string email;   // email 1, raw as delivered
  std::string email2;  // email 2 (personal address), raw; may be empty
  LinkStatus status = LinkStatus::kActive;
  Millis updated_at = 0;
  std::string raw_json;  // the source's own JSON for this record, kept for audit
};

// One login of the client portal (a SCIM User).
struct PortalUser {
  std::string source;  // "scim"
  std::string remote_id;
  std::string user_name;
  std::string email;  // the primary email, raw (see connectors/scim)
  std::string given_name;
  std::string family_name;
  std::string display_name;
  bool active = true;
  bool deleted = false;  // gone from the source: a full sync no longer saw it (rule 8)
  Millis updated_at = 0;
  std::vector<std::string> groups;  // SCIM groups[] (value, else display): accounts it reaches
  std::vector<std::string> entitlements;  // SCIM entitlements[] and roles[] values: permissions
  std::string raw_json;
};

// A record a connector could not turn into a FinancePerson/PortalUser (no id, wrong types).
// Kept, reported, never silently dropped.
struct QuarantinedRecord {
  Side side = Side::kFinance;
  std::string source;
  std::string remote_id;  // may be empty when the record had none
  std::string reason;
  std::string raw_json;
};

// An account a person belongs to: a finance account it is a person on, or a portal group
// its login reaches. Memberships are the union over the person's links, so they survive
// merges.
struct Membership {
  Side side = Side::kFinance;
  std::string source;
  std::string account_id;
  std::string account_name;

  bool operator==(const Membership&) const = default;
  auto operator<=>(const Membership&) const = default;
};

// The canonical person concord keeps for one real human in one tenant.
struct Person {
  std::string id;
  PersonStatus status = PersonStatus::kActive;
  Origin origin = Origin::kFinance;
  std::optional<std::string> email;  // exact email key
  std::string given_name;
  std::string family_name;
  std::string display_name;
  std::int64_t created_run = 0;            // run that created it; older persons win merges
  std::optional<std::string> merged_into;  // set when merged away
  std::vector<std::string> merged_from;    // every person merged into this one
  std::vector<Membership> memberships;     // sorted, unique

  bool operator==(const Person&) const = default;
};

// Source record → person.
struct Link {
  Side side = Side::kFinance;
  std::string source;
  std::string remote_id;
  std::string person_id;
  LinkRule rule = LinkRule::kEmailExact;
  LinkStatus status = LinkStatus::kActive;
  std::string evidence;  // the key compared, or why there was none
  // Portal links only: the permissions the portal grants this login (SCIM entitlements and
  // roles), kept per link and never widened by a merge.
  std::vector<std::string> permissions;

  bool operator==(const Link&) const = default;
};

struct SubjectRef {
  Side side = Side::kFinance;
  std::string source;
  std::string remote_id;

  bool operator==(const SubjectRef&) const = default;
  auto operator<=>(const SubjectRef&) const = default;
};

enum class ReviewKind {
  kInvalidEmail,
  kDuplicatePortalUsers,
  kEmailDrift,
  kSecondaryEmailMatch,
  kLooseEmailMatch,
  kPortalUserWithoutContact,
  // A source record reconcile could not take as it is: no usable id (empty, not UTF-8,
  // control characters, too long), an id given twice, text fields that are not clean UTF-8
  // or are too long (kept cleaned), or nothing at all to identify the person by.
  kInvalidRecord,
};

// A decision concord refused to make alone. dedup_key identifies "the same situation"
// across runs, so a second run does not open a second item.
struct ReviewItem {
  ReviewKind kind = ReviewKind::kInvalidEmail;
  std::string dedup_key;
  std::string reason;
  std::optional<std::string> email;
  std::vector<SubjectRef> subjects;
  std::vector<std::string> person_ids;

  bool operator==(const ReviewItem&) const = default;
};

// The loser of a merge keeps merged_into; the snapshot is the loser and its links as they
// were just before the merge, so the merge can be explained and undone.
struct Merge {
  std::int64_t id = 0;  // assigned by the store; 0 in a plan
  std::string loser_id;
  std::string survivor_id;
  std::string reason;
  Person loser_before;
  std::vector<Link> links_before;

  bool operator==(const Merge&) const = default;
};

// Two persons an admin decided are different people (a merge undone, or a review item
// resolved "keep separate"): reconcile never merges them again.
struct KeepSeparate {
  std::string person_a;
  std::string person_b;

  bool operator==(const KeepSeparate&) const = default;
};

enum class EventKind {
  kCreated,
  kLinked,
  kRelinked,
  kMerged,
  kUpdated,
  kDeactivated,
  kReactivated,
  kReviewOpened,
  kReviewClosed,
  kQuarantined,
};

// One decision in a run; what the reconciliation log prints and the events table keeps.
struct Event {
  EventKind kind = EventKind::kCreated;
  std::string person_id;
  std::vector<SubjectRef> subjects;
  std::string rule;    // the link rule or review kind involved, as text; may be empty
  std::string reason;  // human-readable why
};

// Everything reconcile needs: the stored source records (after this run's fetch) and the
// canonical state as it stands.
struct State {
  std::vector<FinancePerson> finance;
  std::vector<PortalUser> portal;
  std::vector<Person> persons;  // including merged-away and inactive ones
  std::vector<Link> links;
  std::vector<KeepSeparate> keep_separate;
};

struct PlanCounts {
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t linked = 0;
  std::int64_t merged = 0;
  std::int64_t deactivated = 0;
  std::int64_t review_opened = 0;
  std::int64_t review_closed = 0;
};

// What to change. Persons and links are full rows (upserts); review_items is the complete
// set of situations that need review now (the store opens new ones and closes the rest).
struct Plan {
  std::vector<Person> persons;  // created or changed persons, full rows
  std::vector<Link> links;      // created or changed links, full rows
  std::vector<Merge> merges;
  std::vector<ReviewItem> review_items;
  std::vector<Event> events;
  PlanCounts counts;

  bool Empty() const { return persons.empty() && links.empty() && merges.empty(); }
};

// Text forms used in the database, logs and exports.
std::string_view ToString(Side side);
std::string_view ToString(LinkStatus status);
std::string_view ToString(LinkRule rule);
std::string_view ToString(PersonStatus status);
std::string_view ToString(Origin origin);
std::string_view ToString(ReviewKind kind);
std::string_view ToString(EventKind kind);

// Inverse of ToString; nullopt for text that names no value.
std::optional<Side> ParseSide(std::string_view text);
std::optional<LinkStatus> ParseLinkStatus(std::string_view text);
std::optional<LinkRule> ParseLinkRule(std::string_view text);
std::optional<PersonStatus> ParsePersonStatus(std::string_view text);
std::optional<Origin> ParseOrigin(std::string_view text);
std::optional<ReviewKind> ParseReviewKind(std::string_view text);
std::optional<EventKind> ParseEventKind(std::string_view text);

}  // namespace concord::reconcile
