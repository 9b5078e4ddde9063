#include "reconcile/reconcile.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "reconcile/email_key.hpp"
#include "reconcile/person_id.hpp"
#include "reconcile/text.hpp"

// The rules of DESIGN.md §5 (1–8 and survivorship) as one pass over the whole state
// (docs/reconciliation.md explains them for operators):
//
//  1. Every source record is screened (usable id, one record per id; else invalid_record)
//     and gets its exact email key (email 1: the first valid address of its field) and, for
//     finance, its secondary keys (email 2, further addresses); problems are reviewed.
//     Erased records (rule 7) give nothing but their identity.
//  2. Anchors: a record's existing link names its person (followed through merged_into).
//  3. Finance records are grouped (union-find) by shared key and by shared anchor person;
//     each group is one person: a new one, its anchor, or the merge of several anchors
//     (the person created first survives). Anchors kept separate split the group.
//  4. Portal users stay on their anchor when it is finance-backed or manual; otherwise a
//     user whose key is not contested by another active user joins the finance person with
//     that key (unless kept separate from it); everyone else keeps or founds a portal-origin
//     person. A portal-origin person left without links by that move is merged into the
//     finance person (finance wins).
//  5. Fields, memberships and status by survivorship; link status and permissions from the
//     source; the plan lists the differences against the input.
//  6. Review items: invalid emails and records, drift, duplicate users, suggestions
//     (rule 6), active logins without an active contact (rule 7).
//
// Decisions the design leaves open (see also docs in reconcile.hpp):
//  - A key is "contested" when two or more ACTIVE portal users share it. Inactive users
//    never contest a key and follow the same rule as active ones: while a key is not
//    contested, every user with it (active or not) joins the finance person with that key.
//    An inactive login with the same address is an old login of the same human; treating
//    it like that keeps the result independent of the order users were deactivated in.
//  - Links that move because their person is merged away keep their rule and evidence: the
//    rule records how the record came to the person, and the merge event records the move.
//    Only a portal user moved by rule 5 gets a new link (rule email_exact), as §5 says.
//  - A kept link keeps its evidence too (it explains why the link was made); only its status
//    follows the source record.
//  - email_drift is reviewed for active portal users with a valid key whose person's email
//    is another key; a deactivated login drifting is not worth an admin's time.
//  - Review events are not emitted here: review_items is the complete set, and the store,
//    which knows which are new, writes review_opened / review_closed events.

namespace concord::reconcile {
namespace {

constexpr int kNone = -1;

// The evidence of an erased record's link: the key it held was personal data (rule 7).
constexpr std::string_view kErasedEvidence = "erased on request";

// A source record's identity: (side, source, remote id). Views into the input state.
struct RecordKey {
  Side side = Side::kFinance;
  std::string_view source;
  std::string_view remote_id;

  bool operator==(const RecordKey&) const = default;
  auto operator<=>(const RecordKey&) const = default;
};

struct RecordKeyHash {
  std::size_t operator()(const RecordKey& k) const {
    std::size_t h = std::hash<std::string_view>{}(k.remote_id);
    h ^= std::hash<std::string_view>{}(k.source) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h ^ static_cast<std::size_t>(k.side);
  }
};

// How a record came to its person in this plan: decides its link's rule and its event.
enum class Placement {
  kAnchored,     // stays with the person its link names (or that person's survivor)
  kJoinedByKey,  // joined a person by its exact key
  kFounded,      // founded a new person
};

// What this plan does to a record's link.
enum class LinkChange {
  kNone,    // the stored link is right as it is
  kNew,     // the record had no link
  kMoved,   // the link now names another person
  kStatus,  // same person, the source reports another status
};

// Why a person is merged away in this plan.
enum class MergeCause {
  kFinanceDuplicates,  // rule 2: finance records of two persons share a key or an anchor
  kPortalIntoFinance,  // rule 5: a portal-origin person's user joined a finance person
};

struct Record {
  Side side = Side::kFinance;
  std::size_t index = 0;  // into State::finance or State::portal
  RecordKey id;
  std::string_view raw_email;
  EmailKey key;
  int key_id = kNone;      // the key interned (valid keys only): cheap joins by key
  bool active = true;      // the source reports it active (portal: active and not deleted)
  bool erased = false;     // erased on request (rule 7): none of its data is used
  std::string_view given;  // name fields, trimmed and cleaned (empty when erased)
  std::string_view family;
  std::string_view display;  // the portal's own display name
  LinkStatus link_status = LinkStatus::kActive;
  Millis updated_at = 0;
  int link = kNone;    // its link in State::links
  int anchor = kNone;  // the live person its link names, before this plan
  int person = kNone;  // its person after this plan
  Placement placement = Placement::kAnchored;
  LinkChange change = LinkChange::kNone;
};

// One person as this plan leaves it.
struct WorkPerson {
  const Person* before = nullptr;  // nullptr for persons this plan creates
  Person after;
  int founder = kNone;          // record that founded it (created persons only)
  bool finance_backed = false;  // holds finance records after this plan
  int orphan_links = 0;         // links whose source record is not in the state
  int orphan_erased = 0;        // ... of them with status erased
  bool orphan_active = false;
  bool orphan_finance = false;
  bool orphan_finance_active = false;
  int merged_into = kNone;  // set when this plan merges it away
  MergeCause merge_cause = MergeCause::kFinanceDuplicates;
  std::string merge_key;    // the email key that made the merge, when there is one
  int first_moved = kNone;  // smallest portal user that rule 5 moved away from it
  int member_begin = 0;     // its records: members_[member_begin, member_end)
  int member_end = 0;
  bool has_events = false;  // something about it goes into the plan
};

// An invalid_record review item being assembled: its reasons, each with how many records.
struct InvalidRecord {
  ReviewItem item;
  std::map<std::string, int> reasons;
};

// A link whose record is not in the state but whose person was merged away.
struct OrphanMove {
  int person = kNone;  // the live person it now names
  int link = kNone;    // in State::links
};

class UnionFind {
 public:
  explicit UnionFind(std::size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0u); }
  std::uint32_t Find(std::uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];  // path halving keeps the trees flat
      x = parent_[x];
    }
    return x;
  }
  void Unite(std::uint32_t a, std::uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<std::uint32_t> parent_;
};

std::string_view TrimAscii(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  std::size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// "given family", trimmed, one space between; empty if both are empty.
std::string JoinName(std::string_view given, std::string_view family) {
  given = TrimAscii(given);
  family = TrimAscii(family);
  std::string out(given);
  if (!given.empty() && !family.empty()) out += ' ';
  out += family;
  return out;
}

std::string SubjectText(const RecordKey& k) {
  std::string out(ToString(k.side));
  out += ':';
  out += k.source;
  out += ':';
  out += k.remote_id;
  return out;
}

SubjectRef ToSubject(const RecordKey& k) {
  return SubjectRef{k.side, std::string(k.source), std::string(k.remote_id)};
}

// Survivorship order (DESIGN.md §5): finance over portal, active over archived/deleted, the
// most recently updated, then the smaller (source, remote id) so page order never matters.
bool Outranks(const Record& a, const Record& b) {
  if (a.side != b.side) return a.side == Side::kFinance;
  if (a.active != b.active) return a.active;
  if (a.updated_at != b.updated_at) return a.updated_at > b.updated_at;
  return std::tie(a.id.source, a.id.remote_id) < std::tie(b.id.source, b.id.remote_id);
}

class Planner {
 public:
  Planner(const State& state, const Settings& settings) : state_(state), settings_(settings) {}

  Plan Run() {
    IndexPersons();
    ResolveKeepSeparate();
    LoadRecords();
    NoteOrphanLinks();
    GroupFinance();
    NoteSeparatedNow();
    PlacePortalUsers();
    IndexMembers();
    MergeEmptiedPortalPersons();
    AssignNewIds();
    FinishMerges();
    ComputeFields();
    Plan plan;
    EmitLinks(plan);
    EmitPersons(plan);
    EmitReviewItems(plan);
    return plan;
  }

 private:
  // ---- indexing the input ----------------------------------------------------------------

  void IndexPersons() {
    persons_.reserve(state_.persons.size());
    person_index_.reserve(state_.persons.size());
    for (const Person& p : state_.persons) {
      if (!person_index_.try_emplace(p.id, static_cast<int>(persons_.size())).second) continue;
      WorkPerson w;
      w.before = &p;
      w.after = p;
      persons_.push_back(std::move(w));
    }
  }

  // The live person `id` names before this plan: merged_into followed to its end. kNone when
  // the id or a step of the chain is not in the state, or the chain loops.
  int LiveBefore(std::string_view id) const {
    auto it = person_index_.find(id);
    if (it == person_index_.end()) return kNone;
    int index = it->second;
    for (std::size_t steps = 0; steps <= persons_.size(); ++steps) {
      const Person& p = *persons_[static_cast<std::size_t>(index)].before;
      if (!p.merged_into) return index;
      auto next = person_index_.find(*p.merged_into);
      if (next == person_index_.end()) return kNone;
      index = next->second;
    }
    return kNone;
  }

  // `index` after the merges this plan has decided so far.
  int LiveNow(int index) const {
    while (index != kNone && At(index).merged_into != kNone) {
      index = At(index).merged_into;
    }
    return index;
  }

  void LoadRecords() {
    link_index_.reserve(state_.links.size());
    for (std::size_t i = 0; i < state_.links.size(); ++i) {
      const Link& l = state_.links[i];
      link_index_.try_emplace(RecordKey{l.side, l.source, l.remote_id}, static_cast<int>(i));
    }
    link_used_.assign(state_.links.size(), false);
    records_.reserve(state_.finance.size() + state_.portal.size());
    std::vector<bool> use = Screen(Side::kFinance, state_.finance, [](const FinancePerson& f) {
      return std::tie(f.status, f.email, f.email2, f.given_name, f.family_name, f.account_id,
                      f.account_name, f.raw_json);
    });
    for (std::size_t i = 0; i < state_.finance.size(); ++i) {
      if (!use[i]) continue;
      const FinancePerson& f = state_.finance[i];
      std::vector<std::string> problems;
      Record r = MakeRecord(Side::kFinance, i, f.source, f.remote_id, f.status, f.updated_at);
      if (!r.erased) {
        LoadEmails(r, f.email, f.email2);
        LoadNames(r, f.given_name, f.family_name, {}, problems);
        NoteTextProblem(f.account_id, "account_id", problems);
        NoteTextProblem(f.account_name, "account_name", problems);
        if (!r.key.valid() && r.key.status == EmailKey::Status::kMissing &&
            TrimAscii(f.email2).empty() && r.given.empty() && r.family.empty()) {
          problems.emplace_back("no email and no name: nothing identifies the person");
        }
      }
      AddRecord(std::move(r), std::move(problems));
    }
    finance_count_ = records_.size();
    use = Screen(Side::kPortal, state_.portal, [](const PortalUser& u) {
      return std::tie(u.deleted, u.active, u.email, u.user_name, u.given_name, u.family_name,
                      u.display_name, u.groups, u.entitlements, u.raw_json);
    });
    for (std::size_t i = 0; i < state_.portal.size(); ++i) {
      if (!use[i]) continue;
      const PortalUser& u = state_.portal[i];
      // Rule 8: a user a full sync no longer saw is deleted, whatever it said before.
      LinkStatus status = u.deleted  ? LinkStatus::kDeleted
                          : u.active ? LinkStatus::kActive
                                     : LinkStatus::kArchived;
      std::vector<std::string> problems;
      Record r = MakeRecord(Side::kPortal, i, u.source, u.remote_id, status, u.updated_at);
      LoadEmails(r, u.email, {});
      LoadNames(r, u.given_name, u.family_name, u.display_name, problems);
      NoteTextProblem(u.user_name, "user_name", problems);
      for (const std::string& g : u.groups) NoteTextProblem(g, "a group", problems);
      for (const std::string& e : u.entitlements) NoteTextProblem(e, "an entitlement", problems);
      if (r.key.status == EmailKey::Status::kMissing && r.given.empty() && r.family.empty() &&
          r.display.empty() && TrimAscii(u.user_name).empty()) {
        problems.emplace_back("no email, no name and no user name: nothing identifies the person");
      }
      AddRecord(std::move(r), std::move(problems));
    }
    InternKeys();
  }

  // ---- bad input: every problem is reported, none stops the plan ---------------------------

  // Which records to use: not those without a usable id, and of several with one id only
  // the one updated last (ties: the smaller content, so input order never matters). Each
  // record left out is reported as invalid_record.
  template <typename Source, typename Content>
  std::vector<bool> Screen(Side side, const std::vector<Source>& records, Content content) {
    std::vector<bool> use(records.size(), true);
    std::unordered_map<RecordKey, std::size_t, RecordKeyHash> first;
    std::unordered_map<RecordKey, int, RecordKeyHash> copies;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Source& r = records[i];
      if (std::optional<std::string> problem = IdProblem(r.source, r.remote_id)) {
        use[i] = false;
        NoteInvalidRecord(side, r.source, r.remote_id, *problem + "; the record is not used");
        continue;
      }
      RecordKey id{side, r.source, r.remote_id};
      auto [it, inserted] = first.try_emplace(id, i);
      if (inserted) continue;
      ++copies[id];
      const Source& other = records[it->second];
      bool better = r.updated_at != other.updated_at ? r.updated_at > other.updated_at
                                                     : content(r) < content(other);
      use[better ? it->second : i] = false;
      if (better) it->second = i;
    }
    for (const auto& [id, extra] : copies) {
      NoteInvalidRecord(side, id.source, id.remote_id,
                        std::to_string(extra + 1) +
                            " records share this id; the one updated last is used, the others "
                            "are not");
    }
    return use;
  }

  static constexpr std::size_t kMaxIdBytes = 1024;
  static constexpr std::size_t kMaxSourceBytes = 64;

  static std::optional<std::string> IdProblem(std::string_view source, std::string_view remote_id) {
    if (TrimAscii(remote_id).empty()) return "empty remote id";
    if (source.empty()) return "empty source";
    unsigned problems = 0;
    if (detail::CleanText(remote_id, kMaxIdBytes, problems)) {
      return "remote id unusable: " + detail::DescribeTextProblems(problems, kMaxIdBytes);
    }
    if (detail::CleanText(source, kMaxSourceBytes, problems)) {
      return "source unusable: " + detail::DescribeTextProblems(problems, kMaxSourceBytes);
    }
    return std::nullopt;
  }

  // An invalid_record item (merged with any other for the same record). The subject names
  // the record as cleanly as it can; for an unusable id that is a cleaned, shortened copy.
  void NoteInvalidRecord(Side side, std::string_view source, std::string_view remote_id,
                         const std::string& reason, const std::string* person = nullptr) {
    SubjectRef subject{side, detail::CleanCopy(source, kMaxSourceBytes),
                       detail::CleanCopy(remote_id, 200)};
    std::string key = "invalid_record:" + std::string(ToString(side)) + ":" + subject.source + ":" +
                      subject.remote_id;
    auto [it, inserted] = invalid_records_.try_emplace(key);
    InvalidRecord& record = it->second;
    if (inserted) {
      record.item.kind = ReviewKind::kInvalidRecord;
      record.item.dedup_key = key;
      record.item.subjects = {std::move(subject)};
    }
    ++record.reasons[reason];
    if (person != nullptr) record.item.person_ids = {*person};
  }

  // The reasons of one invalid_record item in a fixed order (several bad records can share
  // a cleaned id, and their input order must not show).
  static ReviewItem FinishInvalidRecord(InvalidRecord& record) {
    ReviewItem& item = record.item;
    for (const auto& [reason, count] : record.reasons) {
      if (!item.reason.empty()) item.reason += "; ";
      item.reason += reason;
      if (count > 1) item.reason += " (" + std::to_string(count) + " records)";
    }
    return std::move(item);
  }

  // A text field that is not clean: reported (the value itself is cleaned where it is used).
  static void NoteTextProblem(std::string_view text, std::string_view field,
                              std::vector<std::string>& problems) {
    unsigned found = 0;
    if (detail::CleanText(text, detail::kMaxFieldBytes, found)) {
      problems.push_back(std::string(field) + ": " +
                         detail::DescribeTextProblems(found, detail::kMaxFieldBytes));
    }
  }

  // The name fields survivorship reads, cleaned (kept in cleaned_ when they needed it).
  void LoadNames(Record& r, std::string_view given, std::string_view family,
                 std::string_view display, std::vector<std::string>& problems) {
    auto clean = [&](std::string_view text, std::string_view field) -> std::string_view {
      unsigned found = 0;
      std::optional<std::string> cleaned = detail::CleanText(text, detail::kMaxFieldBytes, found);
      if (!cleaned) return TrimAscii(text);
      problems.push_back(std::string(field) + ": " +
                         detail::DescribeTextProblems(found, detail::kMaxFieldBytes));
      cleaned_.push_back(std::move(*cleaned));
      return TrimAscii(cleaned_.back());
    };
    r.given = clean(given, "given_name");
    r.family = clean(family, "family_name");
    r.display = clean(display, "display_name");
  }

  // Numbers the distinct valid keys, so later steps join by index instead of hashing text.
  // Runs once records_ is complete: the views point into its elements.
  void InternKeys() {
    std::unordered_map<std::string_view, int>& ids = key_ids_;
    ids.reserve(records_.size() + secondary_keys_.size());
    for (std::size_t i = 0; i < records_.size(); ++i) {
      Record& r = records_[i];
      if (!r.key.valid()) continue;
      r.key_id = ids.try_emplace(r.key.key, static_cast<int>(ids.size())).first->second;
      if (r.side == Side::kFinance) finance_by_key_.emplace_back(r.key_id, static_cast<int>(i));
    }
    for (const auto& [key, record] : secondary_keys_) {
      int id = ids.try_emplace(key, static_cast<int>(ids.size())).first->second;
      secondary_by_key_.emplace_back(id, record);
    }
    std::sort(finance_by_key_.begin(), finance_by_key_.end());
    std::sort(secondary_by_key_.begin(), secondary_by_key_.end());
    secondary_by_key_.erase(std::unique(secondary_by_key_.begin(), secondary_by_key_.end()),
                            secondary_by_key_.end());
    finance_person_by_key_.assign(ids.size(), kNone);
    active_users_by_key_.assign(ids.size(), 0);
    // Rule 6: finance keys whose loose form differs from them, by loose form. A finance key
    // that is its own loose form is found through key_ids_ instead.
    for (std::size_t i = 0; i < finance_count_; ++i) {
      const Record& r = records_[i];
      if (!r.key.valid()) continue;
      std::string loose = LooseEmailKey(r.key.key, settings_.loose);
      if (loose != r.key.key) finance_by_loose_[std::move(loose)].push_back(static_cast<int>(i));
    }
  }

  // A record's identity and status. An erased record's data is never loaded, whatever the
  // store still holds of it (rule 7).
  Record MakeRecord(Side side, std::size_t index, std::string_view source,
                    std::string_view remote_id, LinkStatus status, Millis updated_at) {
    Record r;
    r.side = side;
    r.index = index;
    r.id = RecordKey{side, source, remote_id};
    r.erased = status == LinkStatus::kErased;
    r.active = status == LinkStatus::kActive;
    r.link_status = status;
    r.updated_at = updated_at;
    if (auto it = link_index_.find(r.id); it != link_index_.end()) {
      r.link = it->second;
      link_used_[static_cast<std::size_t>(r.link)] = true;
      r.anchor = LiveBefore(state_.links[static_cast<std::size_t>(r.link)].person_id);
    }
    return r;
  }

  void AddRecord(Record r, std::vector<std::string> problems) {
    if (!problems.empty()) {
      record_problems_.emplace_back(static_cast<int>(records_.size()), std::move(problems));
    }
    records_.push_back(std::move(r));
  }

  // Email 1 is the first valid address of the field; a finance record's further addresses
  // and its email 2 are secondary keys, used for suggestions only (rule 6). A portal login
  // has one address: further ones in its field are not used. Parts that are not addresses
  // are kept as problems for the record's invalid_email item.
  void LoadEmails(Record& r, std::string_view email, std::string_view email2) {
    const int record = static_cast<int>(records_.size());
    r.raw_email = email;
    EmailField field = SplitEmailField(email);
    r.key = std::move(field.first);
    std::vector<std::string> problems = std::move(field.problems);
    auto add_secondary = [&](std::string key) {
      if (!(r.key.valid() && key == r.key.key))
        secondary_keys_.emplace_back(std::move(key), record);
    };
    if (r.side == Side::kFinance) {
      for (std::string& key : field.more) add_secondary(std::move(key));
      if (!email2.empty()) {
        EmailField second = SplitEmailField(email2);
        if (second.first.valid()) add_secondary(std::move(second.first.key));
        for (std::string& key : second.more) add_secondary(std::move(key));
        if (second.first.status == EmailKey::Status::kInvalid) {
          problems.push_back("email 2: " + second.first.reason);
        }
        for (std::string& p : second.problems) problems.push_back("email 2: " + p);
      }
    }
    if (!problems.empty()) email_problems_.emplace_back(record, std::move(problems));
  }

  // Links whose record is not in the state (the caller loaded only part of a person's
  // records). They are left as they are, but still count for their person's status and
  // origin, and keep a person from being treated as empty.
  void NoteOrphanLinks() {
    for (std::size_t i = 0; i < state_.links.size(); ++i) {
      if (link_used_[i]) continue;
      const Link& l = state_.links[i];
      int person = LiveBefore(l.person_id);
      if (person == kNone) continue;
      WorkPerson& w = At(person);
      ++w.orphan_links;
      w.orphan_erased += l.status == LinkStatus::kErased ? 1 : 0;
      w.orphan_active = w.orphan_active || l.status == LinkStatus::kActive;
      w.orphan_finance = w.orphan_finance || l.side == Side::kFinance;
      w.orphan_finance_active =
          w.orphan_finance_active || (l.side == Side::kFinance && l.status == LinkStatus::kActive);
    }
  }

  // ---- rules 1–3: finance groups -----------------------------------------------------------

  void GroupFinance() {
    UnionFind groups(finance_count_);
    std::vector<int> first_with_key(finance_person_by_key_.size(), kNone);
    std::unordered_map<int, std::uint32_t> by_anchor;
    for (std::uint32_t i = 0; i < finance_count_; ++i) {
      const Record& r = records_[i];
      if (r.key_id != kNone) {
        int& first = first_with_key[static_cast<std::size_t>(r.key_id)];
        if (first == kNone) {
          first = static_cast<int>(i);
        } else {
          groups.Unite(static_cast<std::uint32_t>(first), i);
        }
      }
      if (r.anchor != kNone) {
        auto [it, inserted] = by_anchor.try_emplace(r.anchor, i);
        if (!inserted) groups.Unite(it->second, i);
      }
    }
    // Members of each group as one slice of `order` (counting sort by group), so a million
    // groups cost no million small vectors.
    std::vector<int> group_of(finance_count_, kNone);
    std::vector<std::uint32_t> offset(1, 0);
    for (std::uint32_t i = 0; i < finance_count_; ++i) {
      std::uint32_t root = groups.Find(i);
      if (group_of[root] == kNone) {
        group_of[root] = static_cast<int>(offset.size()) - 1;
        offset.push_back(0);
      }
      ++offset[static_cast<std::size_t>(group_of[root]) + 1];
    }
    std::partial_sum(offset.begin(), offset.end(), offset.begin());
    std::vector<std::uint32_t> order(finance_count_);
    std::vector<std::uint32_t> next(offset.begin(), offset.end() - 1);
    for (std::uint32_t i = 0; i < finance_count_; ++i) {
      order[next[static_cast<std::size_t>(group_of[groups.Find(i)])]++] = i;
    }
    for (std::size_t g = 0; g + 1 < offset.size(); ++g) {
      PlaceFinanceGroup(
          std::span<const std::uint32_t>(order).subspan(offset[g], offset[g + 1] - offset[g]));
    }
  }

  void PlaceFinanceGroup(std::span<const std::uint32_t> group) {
    std::vector<int> anchors;
    for (std::uint32_t i : group) {
      if (records_[i].anchor != kNone) anchors.push_back(records_[i].anchor);
    }
    std::sort(anchors.begin(), anchors.end());
    anchors.erase(std::unique(anchors.begin(), anchors.end()), anchors.end());
    if (anchors.size() >= 2 && AnySeparated(anchors)) {
      SplitFinanceGroup(group, std::move(anchors));
    } else {
      PlaceFinanceClass(group, anchors);
    }
  }

  // ---- keep_separate: admin decisions that two persons are different people ----------------

  // The pairs as live persons before this plan (a pair naming a person merged away since
  // holds for its survivor: a part of it is still not the other person).
  void ResolveKeepSeparate() {
    for (const KeepSeparate& k : state_.keep_separate) {
      int a = LiveBefore(k.person_a);
      int b = LiveBefore(k.person_b);
      if (a == kNone || b == kNone || a == b) continue;
      separated_before_.insert(PairKey(a, b));
    }
  }

  static std::uint64_t PairKey(int a, int b) {
    if (a > b) std::swap(a, b);
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }

  bool AnySeparated(const std::vector<int>& anchors) const {
    if (separated_before_.empty()) return false;
    for (std::size_t i = 0; i < anchors.size(); ++i) {
      for (std::size_t j = i + 1; j < anchors.size(); ++j) {
        if (separated_before_.count(PairKey(anchors[i], anchors[j])) > 0) return true;
      }
    }
    return false;
  }

  // After rule 2's merges: the pairs between the persons that now hold them.
  void NoteSeparatedNow() {
    for (std::uint64_t key : separated_before_) {
      int a = LiveNow(static_cast<int>(key >> 32));
      int b = LiveNow(static_cast<int>(key & 0xffffffffu));
      if (a != b) separated_now_.insert(PairKey(a, b));
    }
  }

  // Whether persons `a` and `b` (as they stand after rule 2) must never be merged.
  bool SeparatedNow(int a, int b) const {
    return !separated_now_.empty() && separated_now_.count(PairKey(a, b)) > 0;
  }

  // Rule 2 with keep_separate: a group of finance records that share keys but whose anchors
  // include persons kept separate. Anchors are taken in survivor order (created first, then
  // smaller id); each one not yet placed starts a class and takes the anchors it shares a
  // key with (transitively, smallest first) unless one of them is kept separate from a member.
  // Each class becomes one person, as an ordinary group would. A record without an anchor
  // joins the class of the first anchor (survivor order) holding its key. No review item:
  // the admin already decided these are different people who share an address.
  void SplitFinanceGroup(std::span<const std::uint32_t> group, std::vector<int> anchors) {
    auto survivor_order = [&](int a, int b) {
      const Person& pa = At(a).after;
      const Person& pb = At(b).after;
      return std::tie(pa.created_run, pa.id) < std::tie(pb.created_run, pb.id);
    };
    std::sort(anchors.begin(), anchors.end(), survivor_order);
    std::unordered_map<int, std::size_t> rank;  // anchor -> position in survivor order
    for (std::size_t i = 0; i < anchors.size(); ++i) rank.emplace(anchors[i], i);
    std::unordered_map<int, std::vector<std::size_t>> anchors_by_key;  // key id -> ranks
    for (std::uint32_t i : group) {
      const Record& r = records_[i];
      if (r.anchor != kNone && r.key_id != kNone)
        anchors_by_key[r.key_id].push_back(rank[r.anchor]);
    }
    std::vector<std::vector<int>> keys_of(anchors.size());  // rank -> key ids
    for (auto& [key, ranks] : anchors_by_key) {
      std::sort(ranks.begin(), ranks.end());
      ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
      for (std::size_t r : ranks) keys_of[r].push_back(key);
    }
    std::vector<int> class_of(anchors.size(), kNone);
    std::vector<std::vector<std::size_t>> classes;
    for (std::size_t start = 0; start < anchors.size(); ++start) {
      if (class_of[start] != kNone) continue;
      const int c = static_cast<int>(classes.size());
      classes.push_back({});
      std::set<std::size_t> frontier{start};
      while (!frontier.empty()) {
        std::size_t next = *frontier.begin();
        frontier.erase(frontier.begin());
        if (class_of[next] != kNone) continue;
        bool separated = false;
        for (std::size_t member : classes[static_cast<std::size_t>(c)]) {
          separated =
              separated || separated_before_.count(PairKey(anchors[member], anchors[next])) > 0;
        }
        if (separated) continue;
        class_of[next] = c;
        classes[static_cast<std::size_t>(c)].push_back(next);
        for (int key : keys_of[next]) {
          for (std::size_t other : anchors_by_key[key]) {
            if (class_of[other] == kNone) frontier.insert(other);
          }
        }
      }
    }
    std::vector<std::vector<std::uint32_t>> members(classes.size());
    for (std::uint32_t i : group) {
      const Record& r = records_[i];
      std::size_t at = 0;  // (a key without an anchored record cannot be in this group)
      if (r.anchor != kNone) {
        at = rank[r.anchor];
      } else if (auto it = anchors_by_key.find(r.key_id); it != anchors_by_key.end()) {
        at = it->second.front();
      }
      members[static_cast<std::size_t>(class_of[at])].push_back(i);
    }
    for (std::size_t c = 0; c < classes.size(); ++c) {
      std::vector<int> class_anchors;
      for (std::size_t r : classes[c]) class_anchors.push_back(anchors[r]);
      std::sort(class_anchors.begin(), class_anchors.end());
      PlaceFinanceClass(members[c], class_anchors);
    }
  }

  // One class of finance records that is one person: a new one, its only anchor, or the
  // merge of its anchors into the one created first.
  void PlaceFinanceClass(std::span<const std::uint32_t> group, const std::vector<int>& anchors) {
    int person = kNone;
    if (anchors.empty()) {
      std::uint32_t founder = *std::min_element(group.begin(), group.end(), [&](auto a, auto b) {
        return records_[a].id < records_[b].id;
      });
      person = NewPerson(Origin::kFinance, static_cast<int>(founder));
    } else {
      // Rule 2: the person created first survives (ties: smaller id).
      person = *std::min_element(anchors.begin(), anchors.end(), [&](int a, int b) {
        const Person& pa = At(a).after;
        const Person& pb = At(b).after;
        return std::tie(pa.created_run, pa.id) < std::tie(pb.created_run, pb.id);
      });
      for (int loser : anchors) {
        if (loser != person) {
          MergeInto(loser, person, MergeCause::kFinanceDuplicates, BridgeKey(group, loser));
        }
      }
    }
    At(person).finance_backed = true;
    for (std::uint32_t i : group) {
      Record& r = records_[i];
      r.person = person;
      if (r.anchor != kNone) {
        r.placement = Placement::kAnchored;
      } else {
        r.placement = At(person).founder == static_cast<int>(i) ? Placement::kFounded
                                                                : Placement::kJoinedByKey;
      }
      // With keep_separate a key can be on several classes: the first (survivor order) has it.
      if (r.key_id != kNone &&
          finance_person_by_key_[static_cast<std::size_t>(r.key_id)] == kNone) {
        finance_person_by_key_[static_cast<std::size_t>(r.key_id)] = person;
      }
    }
  }

  // The key that ties `loser`'s records to the rest of the group: the smallest key one of
  // its records shares with a record anchored elsewhere (or not at all). Empty if none.
  std::string BridgeKey(std::span<const std::uint32_t> group, int loser) const {
    std::unordered_set<std::string_view> outside;
    for (std::uint32_t i : group) {
      if (records_[i].anchor != loser && records_[i].key.valid()) {
        outside.insert(records_[i].key.key);
      }
    }
    std::string best;
    for (std::uint32_t i : group) {
      const Record& r = records_[i];
      if (r.anchor == loser && r.key.valid() && outside.count(r.key.key) > 0 &&
          (best.empty() || r.key.key < best)) {
        best = r.key.key;
      }
    }
    return best;
  }

  int NewPerson(Origin origin, int founder) {
    WorkPerson w;
    w.after.origin = origin;
    w.after.created_run = settings_.run_id;
    w.founder = founder;
    persons_.push_back(std::move(w));
    return static_cast<int>(persons_.size()) - 1;
  }

  void MergeInto(int loser, int survivor, MergeCause cause, std::string key) {
    WorkPerson& w = At(loser);
    w.merged_into = survivor;
    w.merge_cause = cause;
    w.merge_key = std::move(key);
    losers_.push_back(loser);
  }

  // ---- rules 1, 3, 4, 5: portal users ------------------------------------------------------

  void PlacePortalUsers() {
    for (std::size_t i = finance_count_; i < records_.size(); ++i) {
      const Record& r = records_[i];
      if (r.key_id != kNone && r.active) ++active_users_by_key_[static_cast<std::size_t>(r.key_id)];
    }
    for (std::size_t i = finance_count_; i < records_.size(); ++i) PlacePortalUser(i);
  }

  // Rule 3: two or more active portal users share the key.
  bool Contested(int key_id) const {
    return key_id != kNone && active_users_by_key_[static_cast<std::size_t>(key_id)] >= 2;
  }

  void PlacePortalUser(std::size_t i) {
    Record& r = records_[i];
    int anchor = LiveNow(r.anchor);
    bool manual =
        r.link != kNone && state_.links[static_cast<std::size_t>(r.link)].rule == LinkRule::kManual;
    // Rule 1: an anchor on a finance-backed person, or an admin's link, always holds.
    if (anchor != kNone && (manual || At(anchor).finance_backed || At(anchor).orphan_finance)) {
      Place(r, anchor, Placement::kAnchored);
      return;
    }
    // Rules 3 and 4: an uncontested key joins the finance person with that key.
    if (r.key_id != kNone && !Contested(r.key_id)) {
      if (int finance = finance_person_by_key_[static_cast<std::size_t>(r.key_id)];
          finance != kNone) {
        // Rule 5 never merges persons kept separate: the user stays on its anchor.
        if (anchor == kNone || !SeparatedNow(anchor, finance)) {
          Place(r, finance, Placement::kJoinedByKey);
          if (anchor != kNone) NoteMovedAway(anchor, static_cast<int>(i));
          return;
        }
      }
    }
    // Rule 5: a portal user without a finance match is (or stays) a person of its own.
    if (anchor != kNone) {
      Place(r, anchor, Placement::kAnchored);
    } else {
      Place(r, NewPerson(Origin::kPortal, static_cast<int>(i)), Placement::kFounded);
    }
  }

  static void Place(Record& r, int person, Placement placement) {
    r.person = person;
    r.placement = placement;
  }

  void NoteMovedAway(int person, int record) {
    WorkPerson& w = At(person);
    if (w.first_moved == kNone || records_[static_cast<std::size_t>(record)].id <
                                      records_[static_cast<std::size_t>(w.first_moved)].id) {
      w.first_moved = record;
    }
  }

  // Rule 5: a portal-origin person whose users all moved to finance persons is merged into
  // the one that took the first of them (finance wins), so it is never silently dropped.
  void MergeEmptiedPortalPersons() {
    for (std::size_t p = 0; p < persons_.size(); ++p) {
      WorkPerson& w = persons_[p];
      if (w.first_moved == kNone || w.member_end > w.member_begin || w.orphan_links > 0) continue;
      const Record& moved = records_[static_cast<std::size_t>(w.first_moved)];
      MergeInto(static_cast<int>(p), moved.person, MergeCause::kPortalIntoFinance, moved.key.key);
    }
  }

  // ---- ids, merges, fields -----------------------------------------------------------------

  // members_ lists every record by person, so each person's records are one slice.
  void IndexMembers() {
    std::vector<int> count(persons_.size() + 1, 0);
    for (const Record& r : records_) ++count[static_cast<std::size_t>(r.person) + 1];
    std::partial_sum(count.begin(), count.end(), count.begin());
    members_.assign(records_.size(), 0);
    std::vector<int> next(count.begin(), count.end() - 1);
    for (std::size_t i = 0; i < records_.size(); ++i) {
      members_[static_cast<std::size_t>(next[static_cast<std::size_t>(records_[i].person)]++)] =
          static_cast<int>(i);
    }
    for (std::size_t p = 0; p < persons_.size(); ++p) {
      persons_[p].member_begin = count[p];
      persons_[p].member_end = count[p + 1];
      // Record order is input order; sort so events never depend on it.
      std::sort(members_.begin() + count[p], members_.begin() + count[p + 1],
                [&](int a, int b) { return Rec(a).id < Rec(b).id; });
    }
  }

  const Record& Rec(int index) const { return records_[static_cast<std::size_t>(index)]; }

  // Ids of created persons derive from the founding record; they are assigned in founder
  // order, so even the (astronomically unlikely) collision counter is order-independent.
  void AssignNewIds() {
    // Sorted with the founders' keys at hand, not looked up through persons and records at
    // every comparison (cache misses, at 1M persons).
    std::vector<std::pair<RecordKey, int>> created;
    for (std::size_t p = 0; p < persons_.size(); ++p) {
      const int person = static_cast<int>(p);
      if (persons_[p].before == nullptr) created.emplace_back(FounderOf(person).id, person);
    }
    std::sort(created.begin(), created.end());
    std::unordered_set<std::string_view> taken_new;  // views into persons_, complete by now
    taken_new.reserve(created.size());
    for (const auto& [f, p] : created) {
      std::string& id = At(p).after.id;
      for (int attempt = 0;; ++attempt) {
        id = detail::DerivePersonId(settings_.tenant_id, f.side, f.source, f.remote_id, attempt);
        if (person_index_.count(id) == 0 && taken_new.insert(id).second) break;
      }
    }
  }

  const Record& FounderOf(int person) const {
    return records_[static_cast<std::size_t>(At(person).founder)];
  }

  void FinishMerges() {
    std::sort(losers_.begin(), losers_.end(),
              [&](int a, int b) { return At(a).after.id < At(b).after.id; });
    std::vector<int> survivors;
    for (int loser : losers_) {
      WorkPerson& l = At(loser);
      WorkPerson& s = At(l.merged_into);
      l.after.merged_into = s.after.id;
      s.after.merged_from.push_back(l.after.id);
      s.after.merged_from.insert(s.after.merged_from.end(), l.after.merged_from.begin(),
                                 l.after.merged_from.end());
      survivors.push_back(l.merged_into);
    }
    for (int s : survivors) {
      auto& from = At(s).after.merged_from;
      std::sort(from.begin(), from.end());
      from.erase(std::unique(from.begin(), from.end()), from.end());
    }
  }

  void ComputeFields() {
    for (WorkPerson& w : persons_) {
      if (w.member_end == w.member_begin) continue;  // nothing here to recompute it from
      ComputeFields(w);
    }
  }

  // Survivorship, field by field: the best-ranked record with a non-empty value wins.
  void ComputeFields(WorkPerson& w) {
    const Record* email = nullptr;
    const Record* given = nullptr;
    const Record* family = nullptr;
    const Record* display = nullptr;
    bool active = w.orphan_active;
    bool finance = w.orphan_finance;
    bool all_erased = w.orphan_erased == w.orphan_links;
    auto consider = [](const Record*& best, const Record& r, bool has_value) {
      if (has_value && (best == nullptr || Outranks(r, *best))) best = &r;
    };
    for (int m = w.member_begin; m < w.member_end; ++m) {
      const Record& r = records_[static_cast<std::size_t>(members_[static_cast<std::size_t>(m)])];
      active = active || r.link_status == LinkStatus::kActive;
      finance = finance || r.side == Side::kFinance;
      all_erased = all_erased && r.erased;
      consider(email, r, r.key.valid());
      consider(given, r, !TrimAscii(GivenName(r)).empty());
      consider(family, r, !TrimAscii(FamilyName(r)).empty());
      consider(display, r, !DisplayName(r).empty());
    }
    Person& p = w.after;
    p.email = email == nullptr ? std::nullopt : std::optional<std::string>(email->key.key);
    p.given_name = given == nullptr ? std::string() : std::string(TrimAscii(GivenName(*given)));
    p.family_name = family == nullptr ? std::string() : std::string(TrimAscii(FamilyName(*family)));
    p.display_name = display == nullptr ? std::string() : DisplayName(*display);
    p.origin = finance ? Origin::kFinance : Origin::kPortal;
    p.memberships = Memberships(w);
    // Rules 7 and 8: a person lives while one of its links is active; when every link is
    // erased, so is the person (its fields are empty by now: erased records give nothing).
    p.status = active       ? PersonStatus::kActive
               : all_erased ? PersonStatus::kErased
                            : PersonStatus::kInactive;
  }

  // The accounts of the person's records whose links are active or archived (a deleted or
  // erased record's accounts are gone with it): finance accounts and portal groups. One
  // membership per (side, source, account id), named by its best-ranked record
  // (survivorship order), so two records naming one account differently give one entry.
  std::vector<Membership> Memberships(const WorkPerson& w) const {
    std::vector<std::pair<Membership, const Record*>> all;
    ForEachMember(w, [&](const Record& r) {
      if (r.link_status != LinkStatus::kActive && r.link_status != LinkStatus::kArchived) return;
      if (r.side == Side::kFinance) {
        const FinancePerson& f = state_.finance[r.index];
        std::string_view account = TrimAscii(f.account_id);
        if (account.empty()) return;
        all.push_back({Membership{Side::kFinance, f.source, detail::CleanCopy(account),
                                  detail::CleanCopy(TrimAscii(f.account_name))},
                       &r});
      } else {
        const PortalUser& u = state_.portal[r.index];
        for (const std::string& raw : u.groups) {
          std::string_view group = TrimAscii(raw);
          if (group.empty()) continue;
          std::string clean = detail::CleanCopy(group);
          all.push_back({Membership{Side::kPortal, u.source, clean, clean}, &r});
        }
      }
    });
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      const Membership& x = a.first;
      const Membership& y = b.first;
      if (std::tie(x.side, x.source, x.account_id) != std::tie(y.side, y.source, y.account_id)) {
        return std::tie(x.side, x.source, x.account_id) < std::tie(y.side, y.source, y.account_id);
      }
      if (a.second != b.second) return Outranks(*a.second, *b.second);
      return x.account_name < y.account_name;
    });
    std::vector<Membership> out;
    for (auto& [m, r] : all) {
      if (!out.empty() && out.back().side == m.side && out.back().source == m.source &&
          out.back().account_id == m.account_id) {
        continue;
      }
      out.push_back(std::move(m));
    }
    return out;
  }

  // A portal link's permissions: the user's entitlements and roles, sorted and unique.
  std::vector<std::string> Permissions(const Record& r) const {
    std::vector<std::string> out;
    if (r.side != Side::kPortal) return out;
    for (const std::string& raw : state_.portal[r.index].entitlements) {
      std::string_view e = TrimAscii(raw);
      if (!e.empty()) out.push_back(detail::CleanCopy(e));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  static std::string_view GivenName(const Record& r) { return r.given; }
  static std::string_view FamilyName(const Record& r) { return r.family; }

  // The record's candidate display name: the portal's own (SCIM displayName) where it has
  // one, else "given family".
  static std::string DisplayName(const Record& r) {
    if (!r.display.empty()) return std::string(r.display);
    return detail::CleanCopy(JoinName(r.given, r.family));  // two long names: cut the join
  }

  // ---- the plan: links ---------------------------------------------------------------------

  void EmitLinks(Plan& plan) {
    // The links are sorted through their keys and positions, not moved around themselves: at
    // 30,000 persons that took EmitLinks from 357 M to 229 M instructions (callgrind).
    std::vector<Link> changed;
    std::vector<std::pair<RecordKey, std::size_t>> order;
    auto add = [&](const RecordKey& key, Link link) {
      order.emplace_back(key, changed.size());
      changed.push_back(std::move(link));
    };
    for (Record& r : records_) {
      if (std::optional<Link> link = DecideLink(r)) add(r.id, std::move(*link));
    }
    // Orphan links follow their person when it was merged away (now or earlier).
    for (std::size_t i = 0; i < state_.links.size(); ++i) {
      if (link_used_[i]) continue;
      const Link& old = state_.links[i];
      int person = LiveNow(LiveBefore(old.person_id));
      if (person == kNone || At(person).after.id == old.person_id) continue;
      Link link = old;
      link.person_id = At(person).after.id;
      add(RecordKey{old.side, old.source, old.remote_id}, std::move(link));
      orphan_moves_.push_back({person, static_cast<int>(i)});
      At(person).has_events = true;
    }
    std::sort(order.begin(), order.end());
    plan.links.reserve(changed.size());
    for (const auto& [key, i] : order) plan.links.push_back(std::move(changed[i]));
  }

  // The record's link as this plan leaves it, or nullopt when the stored one is right.
  std::optional<Link> DecideLink(Record& r) {
    const Link* old = r.link == kNone ? nullptr : &state_.links[static_cast<std::size_t>(r.link)];
    WorkPerson& person = At(r.person);
    std::vector<std::string> permissions = Permissions(r);
    if (old != nullptr && r.placement == Placement::kAnchored &&
        old->person_id == person.after.id && old->status == r.link_status &&
        old->permissions == permissions && !(r.erased && old->evidence != kErasedEvidence)) {
      return std::nullopt;  // the common case on a quiet run
    }
    Link link;
    link.side = r.side;
    link.source = std::string(r.id.source);
    link.remote_id = std::string(r.id.remote_id);
    link.person_id = person.after.id;
    link.status = r.link_status;
    link.permissions = std::move(permissions);
    if (old != nullptr && r.placement == Placement::kAnchored) {
      link.rule = old->rule;
      link.evidence = r.erased ? std::string(kErasedEvidence) : old->evidence;
    } else {
      link.rule = NewLinkRule(r);
      link.evidence = Evidence(r);
    }
    if (old != nullptr && link == *old) return std::nullopt;
    r.change = old == nullptr                     ? LinkChange::kNew
               : old->person_id != link.person_id ? LinkChange::kMoved
                                                  : LinkChange::kStatus;
    person.has_events = true;
    return link;
  }

  LinkRule NewLinkRule(const Record& r) const {
    if (r.side == Side::kFinance) return r.key.valid() ? LinkRule::kEmailExact : LinkRule::kNoEmail;
    return r.placement == Placement::kJoinedByKey ? LinkRule::kEmailExact : LinkRule::kPortalOrigin;
  }

  std::string Evidence(const Record& r) const {
    if (r.erased) return std::string(kErasedEvidence);
    switch (r.key.status) {
      case EmailKey::Status::kMissing:
        return "no email";
      case EmailKey::Status::kInvalid:
        return "invalid email: " + r.key.reason;
      case EmailKey::Status::kValid:
        break;
    }
    std::string out = "email_key=" + r.key.key;
    if (r.side == Side::kPortal && r.placement == Placement::kFounded) {
      out += Contested(r.key_id) ? "; shared by several active portal users"
                                 : "; no finance person has this key";
    }
    return out;
  }

  // ---- the plan: persons, merges, events ---------------------------------------------------

  void EmitPersons(Plan& plan) {
    std::vector<int> order;
    for (std::size_t p = 0; p < persons_.size(); ++p) {
      WorkPerson& w = persons_[p];
      if (w.before == nullptr || !(w.after == *w.before)) w.has_events = true;
      if (w.has_events) order.push_back(static_cast<int>(p));
    }
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return At(a).after.id < At(b).after.id; });

    EmitMerges(plan);
    std::sort(orphan_moves_.begin(), orphan_moves_.end(), [&](const auto& a, const auto& b) {
      return std::tie(At(a.person).after.id, state_.links[a.link].remote_id) <
             std::tie(At(b.person).after.id, state_.links[b.link].remote_id);
    });
    auto orphan = orphan_moves_.begin();
    auto merge = merges_by_survivor_.begin();
    for (int p : order) {
      WorkPerson& w = At(p);
      if (w.before == nullptr) {
        EmitCreated(plan, w);
      } else if (!(w.after == *w.before) && w.merged_into == kNone) {
        ++plan.counts.updated;
      }
      for (; merge != merges_by_survivor_.end() && merge->first == p; ++merge) {
        plan.events.push_back(std::move(merge->second));
      }
      ForEachMember(w, [&](const Record& r) {
        if (r.change != LinkChange::kNew && r.change != LinkChange::kMoved) return;
        if (FoundedBy(w, r)) {
          ++plan.counts.linked;  // the `created` event explains this link
          return;
        }
        EmitLinked(plan, r);
      });
      for (; orphan != orphan_moves_.end() && orphan->person == p; ++orphan) {
        const Link& old = state_.links[static_cast<std::size_t>(orphan->link)];
        plan.events.push_back(
            {EventKind::kRelinked,
             w.after.id,
             {SubjectRef{old.side, old.source, old.remote_id}},
             std::string(ToString(old.rule)),
             "link follows its person " + old.person_id + ", merged into " + w.after.id});
        ++plan.counts.linked;
      }
      if (w.before != nullptr) EmitFieldChanges(plan, w);
      ForEachMember(w, [&](const Record& r) {
        if (r.change == LinkChange::kStatus) EmitLinkStatus(plan, r);
      });
      if (w.before != nullptr) EmitStatusChange(plan, w);
      if (w.before == nullptr || !(w.after == *w.before)) plan.persons.push_back(w.after);
    }
  }

  template <typename Fn>
  void ForEachMember(const WorkPerson& w, Fn fn) const {
    for (int m = w.member_begin; m < w.member_end; ++m) {
      fn(records_[static_cast<std::size_t>(members_[static_cast<std::size_t>(m)])]);
    }
  }

  // Whether `r` founded the new person `w` with a link of its own making. The person's
  // `created` event names that record, its rule and its email key, so a `linked` event would
  // say it all again: a first sync would log two events for most persons. A founder whose
  // link moved from another person keeps its `relinked` event, which names where it was.
  bool FoundedBy(const WorkPerson& w, const Record& r) const {
    return w.before == nullptr && w.founder != kNone && r.link == kNone &&
           &r == &records_[static_cast<std::size_t>(w.founder)];
  }

  void EmitCreated(Plan& plan, const WorkPerson& w) {
    const Record& f = records_[static_cast<std::size_t>(w.founder)];
    std::string reason = w.after.origin == Origin::kFinance
                             ? "new person for finance record " + SubjectText(f.id)
                             : "new portal-origin person for portal user " + SubjectText(f.id);
    reason += f.key.valid() ? " with email key " + f.key.key : " without a usable email";
    plan.events.push_back({EventKind::kCreated,
                           w.after.id,
                           {ToSubject(f.id)},
                           std::string(ToString(NewLinkRule(f))),
                           std::move(reason)});
    ++plan.counts.created;
  }

  void EmitLinked(Plan& plan, const Record& r) {
    const Link* old = r.link == kNone ? nullptr : &state_.links[static_cast<std::size_t>(r.link)];
    const std::string& person = At(r.person).after.id;
    LinkRule rule =
        old != nullptr && r.placement == Placement::kAnchored ? old->rule : NewLinkRule(r);
    std::string reason;
    if (old == nullptr) {
      reason = LinkReason(r);
    } else if (r.placement == Placement::kAnchored) {
      reason = "link follows its person " + old->person_id + ", merged into " + person;
    } else {
      reason = LinkReason(r) + " (was on person " + old->person_id + ")";
    }
    plan.events.push_back({old == nullptr ? EventKind::kLinked : EventKind::kRelinked,
                           person,
                           {ToSubject(r.id)},
                           std::string(ToString(rule)),
                           std::move(reason)});
    ++plan.counts.linked;
  }

  std::string LinkReason(const Record& r) const {
    const std::string& person = At(r.person).after.id;
    if (r.side == Side::kFinance) {
      if (!r.key.valid()) return "finance record without a usable email founded person " + person;
      if (r.placement == Placement::kFounded) {
        return "finance record founded person " + person + " with exact email key " + r.key.key;
      }
      return "finance record joined person " + person + " by exact email key " + r.key.key;
    }
    if (r.placement == Placement::kJoinedByKey) {
      return "portal user joined finance person " + person + " by exact email key " + r.key.key;
    }
    if (r.placement == Placement::kFounded) {
      if (!r.key.valid()) return "portal user without a usable email founded person " + person;
      if (Contested(r.key_id)) {
        return "portal user founded person " + person + ": email key " + r.key.key +
               " is shared by several active portal users (no link by email)";
      }
      return "portal user founded person " + person + ": no finance person has email key " +
             r.key.key;
    }
    return "portal user stays with person " + person;
  }

  // A kept link whose status, permissions or evidence changed.
  void EmitLinkStatus(Plan& plan, const Record& r) {
    const Link& old = state_.links[static_cast<std::size_t>(r.link)];
    std::string reason;
    auto add = [&](const std::string& part) { reason += (reason.empty() ? "" : "; ") + part; };
    if (old.status != r.link_status) {
      add("link status " + std::string(ToString(old.status)) + " -> " +
          std::string(ToString(r.link_status)) + " as the source reports");
    }
    std::vector<std::string> permissions = Permissions(r);
    if (old.permissions != permissions) {
      std::string list;
      for (const std::string& p : permissions) list += (list.empty() ? "" : ", ") + p;
      add("permissions now [" + list + "] as the portal grants them");
    }
    if (r.erased && old.evidence != kErasedEvidence) add("evidence erased with the record");
    plan.events.push_back({EventKind::kUpdated,
                           At(r.person).after.id,
                           {ToSubject(r.id)},
                           std::string(ToString(old.rule)),
                           std::move(reason)});
  }

  void EmitFieldChanges(Plan& plan, const WorkPerson& w) {
    const Person& a = w.after;
    const Person& b = *w.before;
    std::string fields;
    auto note = [&](bool changed, std::string_view name) {
      if (!changed) return;
      if (!fields.empty()) fields += ", ";
      fields += name;
    };
    note(a.email != b.email, "email");
    note(a.given_name != b.given_name, "given_name");
    note(a.family_name != b.family_name, "family_name");
    note(a.display_name != b.display_name, "display_name");
    note(a.origin != b.origin, "origin");
    note(a.memberships != b.memberships, "memberships");
    if (fields.empty()) return;
    plan.events.push_back({EventKind::kUpdated, a.id, SubjectsOf(w), "",
                           "fields changed by survivorship: " + fields});
  }

  // Rules 7 and 8. A person leaving status active is a deactivation: the safeguard counts it.
  void EmitStatusChange(Plan& plan, const WorkPerson& w) {
    PersonStatus before = w.before->status;
    PersonStatus after = w.after.status;
    if (after == before) return;
    std::string reason = after == PersonStatus::kActive ? "a linked source record is active again"
                         : after == PersonStatus::kErased
                             ? "every linked source record is erased on request"
                             : "no linked source record is active any more (archived or deleted)";
    EventKind kind = after == PersonStatus::kActive    ? EventKind::kReactivated
                     : before == PersonStatus::kActive ? EventKind::kDeactivated
                                                       : EventKind::kUpdated;
    if (kind == EventKind::kUpdated) {
      reason = "status " + std::string(ToString(before)) + " -> " + std::string(ToString(after)) +
               ": " + reason;
    }
    plan.events.push_back({kind, w.after.id, SubjectsOf(w), "", std::move(reason)});
    if (kind == EventKind::kDeactivated) ++plan.counts.deactivated;
  }

  // The records a person-level event is about: all of the person's records.
  std::vector<SubjectRef> SubjectsOf(const WorkPerson& w) const {
    std::vector<SubjectRef> out;
    ForEachMember(w, [&](const Record& r) { out.push_back(ToSubject(r.id)); });
    return out;
  }

  // Merge rows (sorted by loser id) and their events, kept per survivor for EmitPersons.
  void EmitMerges(Plan& plan) {
    // The losers' links as they were (Merge::links_before): one pass over all links.
    std::unordered_map<std::string_view, std::vector<const Link*>> loser_links;
    for (int loser : losers_) loser_links.try_emplace(At(loser).after.id);
    for (const Link& l : state_.links) {
      if (auto it = loser_links.find(l.person_id); it != loser_links.end()) {
        it->second.push_back(&l);
      }
    }
    for (int loser : losers_) {  // sorted by id in FinishMerges
      const WorkPerson& w = At(loser);
      const Person& survivor = At(w.merged_into).after;
      std::vector<const Link*>& links = loser_links[w.after.id];
      std::sort(links.begin(), links.end(), [](const Link* a, const Link* b) {
        return std::tie(a->side, a->source, a->remote_id) <
               std::tie(b->side, b->source, b->remote_id);
      });
      std::string reason = MergeReason(w, survivor);
      std::vector<SubjectRef> subjects;
      for (const Link* l : links) subjects.push_back({l->side, l->source, l->remote_id});
      Merge merge;
      merge.loser_id = w.after.id;
      merge.survivor_id = survivor.id;
      merge.reason = reason;
      merge.loser_before = *w.before;
      merge.links_before.reserve(links.size());
      for (const Link* l : links) merge.links_before.push_back(*l);
      plan.merges.push_back(std::move(merge));
      merges_by_survivor_.emplace_back(
          w.merged_into, Event{EventKind::kMerged, survivor.id, std::move(subjects),
                               std::string(ToString(LinkRule::kEmailExact)), std::move(reason)});
      ++plan.counts.merged;
    }
    std::stable_sort(
        merges_by_survivor_.begin(), merges_by_survivor_.end(),
        [&](const auto& a, const auto& b) { return At(a.first).after.id < At(b.first).after.id; });
  }

  std::string MergeReason(const WorkPerson& loser, const Person& survivor) const {
    if (loser.merge_cause == MergeCause::kFinanceDuplicates) {
      return "finance records of person " + loser.after.id + " and person " + survivor.id +
             (loser.merge_key.empty() ? std::string(" belong together")
                                      : " share exact email key " + loser.merge_key) +
             "; the person created first survives";
    }
    return "portal-origin person " + loser.after.id + " merged into finance person " + survivor.id +
           ": its portal user joined by exact email key " + loser.merge_key + " (finance wins)";
  }

  // ---- the plan: review items --------------------------------------------------------------

  void EmitReviewItems(Plan& plan) {
    std::unordered_map<std::string_view, std::vector<int>> duplicates;
    auto problems = email_problems_.cbegin();  // in record order
    for (std::size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      const std::vector<std::string>* record_problems = nullptr;
      if (problems != email_problems_.cend() && problems->first == static_cast<int>(i)) {
        record_problems = &(problems++)->second;
      }
      if (r.key.status == EmailKey::Status::kInvalid || record_problems != nullptr) {
        plan.review_items.push_back(InvalidEmailItem(r, record_problems));
      }
      if (r.side == Side::kPortal && r.key.valid() && r.active) {
        if (Contested(r.key_id)) duplicates[r.key.key].push_back(static_cast<int>(i));
        const std::optional<std::string>& email = At(r.person).after.email;
        if (email != r.key.key) plan.review_items.push_back(EmailDriftItem(r, email));
        if (std::optional<ReviewItem> item = SuggestionItem(r)) {
          plan.review_items.push_back(std::move(*item));
        }
      }
    }
    for (auto& [key, users] : duplicates) {
      plan.review_items.push_back(DuplicateUsersItem(key, users));
    }
    for (const WorkPerson& w : persons_) AddWithoutContactItems(plan, w);
    for (const auto& [record, found] : record_problems_) {
      const Record& r = Rec(record);
      std::string reason;
      for (const std::string& p : found) reason += (reason.empty() ? "" : "; ") + p;
      NoteInvalidRecord(r.side, r.id.source, r.id.remote_id, reason, &At(r.person).after.id);
    }
    for (auto& [key, record] : invalid_records_) {
      plan.review_items.push_back(FinishInvalidRecord(record));
    }
    std::sort(plan.review_items.begin(), plan.review_items.end(),
              [](const ReviewItem& a, const ReviewItem& b) {
                return std::tie(a.kind, a.dedup_key) < std::tie(b.kind, b.dedup_key);
              });
  }

  // An invalid email 1, or parts of the email fields that are not addresses while email 1
  // is fine (a second address "n/a", an invalid email 2): never dropped silently.
  ReviewItem InvalidEmailItem(const Record& r, const std::vector<std::string>* problems) const {
    ReviewItem item;
    item.kind = ReviewKind::kInvalidEmail;
    item.dedup_key = "invalid_email:" + SubjectText(r.id);
    bool email1_problem = r.key.status == EmailKey::Status::kInvalid;
    if (email1_problem) {
      item.reason = "invalid email: " + r.key.reason;
    } else {
      item.reason = r.key.valid() ? "email 1 is " + r.key.key + "; not used: " : "not used: ";
    }
    if (problems != nullptr) {
      for (std::size_t i = 0; i < problems->size(); ++i) {
        const std::string& p = (*problems)[i];
        email1_problem = email1_problem || p.rfind("email 2: ", 0) != 0;
        item.reason += (i > 0 || r.key.status == EmailKey::Status::kInvalid ? "; " : "") + p;
      }
    }
    item.reason = detail::CleanCopy(item.reason, 4 * detail::kMaxFieldBytes);
    item.email = detail::CleanCopy(email1_problem || r.side != Side::kFinance
                                       ? r.raw_email
                                       : std::string_view(state_.finance[r.index].email2));
    item.subjects = {ToSubject(r.id)};
    item.person_ids = {At(r.person).after.id};
    return item;
  }

  // Rule 6: an active portal user with no finance person of its own key, whose key is only
  // a finance record's secondary address (email 2 or a further address in its email field),
  // or whose loose key is a finance record's loose key. Only suggests: no link is made.
  // Users an admin linked by hand, and users already on a finance person, are not asked about.
  std::optional<ReviewItem> SuggestionItem(const Record& r) const {
    const WorkPerson& person = At(r.person);
    if (person.finance_backed || person.orphan_finance) return std::nullopt;
    if (finance_person_by_key_[static_cast<std::size_t>(r.key_id)] != kNone) return std::nullopt;
    if (r.link != kNone &&
        state_.links[static_cast<std::size_t>(r.link)].rule == LinkRule::kManual) {
      return std::nullopt;
    }
    std::vector<int> candidates;
    ReviewKind kind = ReviewKind::kSecondaryEmailMatch;
    auto by_key = [](const std::vector<std::pair<int, int>>& index, int key_id,
                     std::vector<int>& out) {
      auto it = std::lower_bound(index.begin(), index.end(), std::pair<int, int>(key_id, kNone));
      for (; it != index.end() && it->first == key_id; ++it) out.push_back(it->second);
    };
    by_key(secondary_by_key_, r.key_id, candidates);
    std::string loose;
    if (candidates.empty()) {
      kind = ReviewKind::kLooseEmailMatch;
      loose = LooseEmailKey(r.key.key, settings_.loose);
      if (auto it = finance_by_loose_.find(loose); it != finance_by_loose_.end()) {
        candidates = it->second;
      }
      if (loose != r.key.key) {
        if (auto it = key_ids_.find(loose); it != key_ids_.end()) {
          by_key(finance_by_key_, it->second, candidates);
        }
      }
    }
    if (candidates.empty()) return std::nullopt;
    std::sort(candidates.begin(), candidates.end(),
              [&](int a, int b) { return Rec(a).id < Rec(b).id; });
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

    ReviewItem item;
    item.kind = kind;
    item.dedup_key = std::string(ToString(kind)) + ":" + std::string(r.id.source) + ":" +
                     std::string(r.id.remote_id) + ":" + r.key.key;
    std::string records;
    item.subjects.push_back(ToSubject(r.id));
    item.person_ids.push_back(person.after.id);
    for (int c : candidates) {
      const Record& f = Rec(c);
      if (!records.empty()) records += ", ";
      records += SubjectText(f.id) + " (person " + At(f.person).after.id;
      records += kind == ReviewKind::kLooseEmailMatch ? ", email " + f.key.key + ")" : ")";
      item.subjects.push_back(ToSubject(f.id));
      item.person_ids.push_back(At(f.person).after.id);
    }
    if (kind == ReviewKind::kSecondaryEmailMatch) {
      item.reason = "portal user's email key " + r.key.key +
                    " is not any finance record's email 1, but a secondary address (email 2) of " +
                    records + "; no link is made until an admin decides";
    } else {
      item.reason = "portal user's email key " + r.key.key + " has the loose key " + loose +
                    " (dots and +tags ignored where the domain ignores them), like " + records +
                    "; no link is made until an admin decides";
    }
    item.email = r.key.key;
    std::sort(item.subjects.begin() + 1, item.subjects.end());
    std::sort(item.person_ids.begin(), item.person_ids.end());
    item.person_ids.erase(std::unique(item.person_ids.begin(), item.person_ids.end()),
                          item.person_ids.end());
    return item;
  }

  // Rule 7: the person's finance records are all archived, deleted or erased, but one of its
  // portal logins is active. One item per such login (its dedup key names the login, which,
  // unlike a person id, does not depend on history). Never an automatic portal change.
  void AddWithoutContactItems(Plan& plan, const WorkPerson& w) const {
    if (w.after.merged_into) return;
    bool finance = w.orphan_finance;
    bool finance_active = w.orphan_finance_active;
    std::vector<SubjectRef> users;
    std::vector<SubjectRef> finance_records;
    ForEachMember(w, [&](const Record& r) {
      if (r.side == Side::kFinance) {
        finance = true;
        finance_active = finance_active || r.active;
        finance_records.push_back(ToSubject(r.id));
      } else if (r.active) {
        users.push_back(ToSubject(r.id));
      }
    });
    if (!finance || finance_active || users.empty()) return;
    for (const SubjectRef& user : users) {
      ReviewItem item;
      item.kind = ReviewKind::kPortalUserWithoutContact;
      item.dedup_key = "portal_user_without_contact:" + user.source + ":" + user.remote_id;
      item.reason = "portal login " + user.source + ":" + user.remote_id +
                    " is active, but its person " + w.after.id +
                    " has no active finance record any more (archived, deleted or erased); the "
                    "portal is not changed automatically";
      item.email = w.after.email;
      item.subjects.push_back(user);
      item.subjects.insert(item.subjects.end(), finance_records.begin(), finance_records.end());
      item.person_ids = {w.after.id};
      plan.review_items.push_back(std::move(item));
    }
  }

  ReviewItem EmailDriftItem(const Record& r, const std::optional<std::string>& email) const {
    ReviewItem item;
    item.kind = ReviewKind::kEmailDrift;
    item.dedup_key = "email_drift:" + std::string(r.id.source) + ":" + std::string(r.id.remote_id);
    item.reason = "portal user's email key " + r.key.key + " differs from its person's email " +
                  (email ? *email : std::string("(none)"));
    item.email = r.key.key;
    item.subjects = {ToSubject(r.id)};
    item.person_ids = {At(r.person).after.id};
    return item;
  }

  ReviewItem DuplicateUsersItem(std::string_view key, const std::vector<int>& users) const {
    ReviewItem item;
    item.kind = ReviewKind::kDuplicatePortalUsers;
    item.dedup_key = "duplicate_portal_users:" + std::string(key);
    item.reason = std::to_string(users.size()) + " active portal users share exact email key " +
                  std::string(key) + "; none is linked by email until an admin decides";
    item.email = std::string(key);
    for (int i : users) {
      const Record& r = records_[static_cast<std::size_t>(i)];
      item.subjects.push_back(ToSubject(r.id));
      item.person_ids.push_back(At(r.person).after.id);
    }
    std::sort(item.subjects.begin(), item.subjects.end());
    std::sort(item.person_ids.begin(), item.person_ids.end());
    item.person_ids.erase(std::unique(item.person_ids.begin(), item.person_ids.end()),
                          item.person_ids.end());
    return item;
  }

  WorkPerson& At(int index) { return persons_[static_cast<std::size_t>(index)]; }
  const WorkPerson& At(int index) const { return persons_[static_cast<std::size_t>(index)]; }

  const State& state_;
  const Settings& settings_;
  std::vector<WorkPerson> persons_;
  std::unordered_map<std::string_view, int> person_index_;  // ids of the input persons
  std::unordered_map<RecordKey, int, RecordKeyHash> link_index_;
  std::vector<bool> link_used_;
  std::vector<Record> records_;  // finance records first, then portal users
  std::size_t finance_count_ = 0;
  std::unordered_map<std::string_view, int> key_ids_;  // every valid key, email 1 or secondary
  std::vector<std::pair<std::string, int>> secondary_keys_;  // (key, finance record), as loaded
  std::vector<std::pair<int, int>> secondary_by_key_;        // (key id, finance record), sorted
  std::vector<std::pair<int, int>> finance_by_key_;  // (key id of email 1, finance record), sorted
  std::unordered_map<std::string, std::vector<int>> finance_by_loose_;     // loose != exact only
  std::vector<std::pair<int, std::vector<std::string>>> email_problems_;   // (record, problems)
  std::vector<std::pair<int, std::vector<std::string>>> record_problems_;  // other fields
  std::map<std::string, InvalidRecord> invalid_records_;                   // by dedup key
  std::deque<std::string> cleaned_;  // cleaned copies of text fields that needed it
  std::unordered_set<std::uint64_t> separated_before_;  // PairKey of live persons before
  std::unordered_set<std::uint64_t> separated_now_;     // ... after rule 2's merges
  std::vector<int> finance_person_by_key_;              // by key id: the finance person holding it
  std::vector<int> active_users_by_key_;  // by key id: how many active portal users have it
  std::vector<int> members_;
  std::vector<int> losers_;
  std::vector<OrphanMove> orphan_moves_;
  std::vector<std::pair<int, Event>> merges_by_survivor_;
};

}  // namespace

Plan Reconcile(const State& state, const Settings& settings) {
  return Planner(state, settings).Run();
}

namespace {

std::string LinkKeyText(const Link& l) {
  return std::string(ToString(l.side)) + '\x1f' + l.source + '\x1f' + l.remote_id;
}

}  // namespace

Plan UndoMerge(const State& state, const Merge& merge, const Settings& settings) {
  State undone = state;
  std::unordered_map<std::string, std::size_t> person_at;
  for (std::size_t i = 0; i < undone.persons.size(); ++i)
    person_at.emplace(undone.persons[i].id, i);
  auto loser_at = person_at.find(merge.loser_id);
  if (loser_at != person_at.end() && !undone.persons[loser_at->second].merged_into) return Plan{};

  // The survivor and every person it was merged into since: the loser's links may be on
  // any of them by now, and each lists the loser in merged_from.
  std::vector<std::string> chain;
  for (std::string id = merge.survivor_id; chain.size() <= undone.persons.size();) {
    chain.push_back(id);
    auto it = person_at.find(id);
    if (it == person_at.end() || !undone.persons[it->second].merged_into) break;
    id = *undone.persons[it->second].merged_into;
  }
  std::unordered_set<std::string> gone(merge.loser_before.merged_from.begin(),
                                       merge.loser_before.merged_from.end());
  gone.insert(merge.loser_id);
  std::vector<Event> events;
  std::string what = "merge " + (merge.id != 0 ? std::to_string(merge.id) + " " : std::string()) +
                     "of person " + merge.loser_id + " into " + merge.survivor_id + " undone";
  for (const std::string& id : chain) {
    auto it = person_at.find(id);
    if (it == person_at.end()) continue;
    std::vector<std::string>& from = undone.persons[it->second].merged_from;
    std::size_t before = from.size();
    from.erase(std::remove_if(from.begin(), from.end(),
                              [&](const std::string& f) { return gone.count(f) > 0; }),
               from.end());
    if (from.size() != before) {
      events.push_back({EventKind::kUpdated,
                        id,
                        {},
                        "",
                        what + ": person " + merge.loser_id + " leaves merged_from"});
    }
  }

  Person restored = merge.loser_before;
  restored.merged_into.reset();
  if (loser_at != person_at.end()) {
    undone.persons[loser_at->second] = std::move(restored);
  } else {
    undone.persons.push_back(std::move(restored));
  }
  events.push_back({EventKind::kUpdated,
                    merge.loser_id,
                    {},
                    "",
                    what + ": person restored from the merge snapshot"});

  std::unordered_map<std::string, std::size_t> link_at;
  for (std::size_t i = 0; i < undone.links.size(); ++i)
    link_at.emplace(LinkKeyText(undone.links[i]), i);
  const std::unordered_set<std::string> on_chain(chain.begin(), chain.end());
  std::int64_t moved = 0;
  for (const Link& before : merge.links_before) {
    auto it = link_at.find(LinkKeyText(before));
    if (it == link_at.end()) {
      Link link = before;
      link.person_id = merge.loser_id;
      undone.links.push_back(std::move(link));
    } else {
      Link& link = undone.links[it->second];
      if (on_chain.count(link.person_id) == 0) continue;  // moved elsewhere since: stays
      link.person_id = merge.loser_id;
      link.rule = before.rule;
      link.evidence = before.evidence;
    }
    ++moved;
    events.push_back({EventKind::kRelinked,
                      merge.loser_id,
                      {SubjectRef{before.side, before.source, before.remote_id}},
                      std::string(ToString(before.rule)),
                      what + ": link moves back to person " + merge.loser_id});
  }
  undone.keep_separate.push_back({merge.loser_id, merge.survivor_id});

  Plan then = Reconcile(undone, settings);
  State after = Apply(undone, then);

  // The plan relative to `state`: every person and link that differs from it.
  Plan out;
  std::unordered_map<std::string, const Person*> old_persons;
  for (const Person& p : state.persons) old_persons.emplace(p.id, &p);
  for (const Person& p : after.persons) {
    auto it = old_persons.find(p.id);
    if (it == old_persons.end() || !(*it->second == p)) out.persons.push_back(p);
  }
  std::unordered_map<std::string, const Link*> old_links;
  for (const Link& l : state.links) old_links.emplace(LinkKeyText(l), &l);
  for (const Link& l : after.links) {
    auto it = old_links.find(LinkKeyText(l));
    if (it == old_links.end() || !(*it->second == l)) out.links.push_back(l);
  }
  std::sort(out.persons.begin(), out.persons.end(),
            [](const Person& a, const Person& b) { return a.id < b.id; });
  std::sort(out.links.begin(), out.links.end(), [](const Link& a, const Link& b) {
    return std::tie(a.side, a.source, a.remote_id) < std::tie(b.side, b.source, b.remote_id);
  });
  out.merges = std::move(then.merges);
  out.review_items = std::move(then.review_items);
  out.counts = then.counts;
  out.counts.updated = static_cast<std::int64_t>(
      std::count_if(out.persons.begin(), out.persons.end(),
                    [&](const Person& p) { return old_persons.count(p.id) > 0; }));
  out.counts.linked += moved;
  out.events = std::move(events);
  out.events.insert(out.events.end(), std::make_move_iterator(then.events.begin()),
                    std::make_move_iterator(then.events.end()));
  return out;
}

State Apply(State state, const Plan& plan) {
  std::unordered_map<std::string, std::size_t> person_at;
  person_at.reserve(state.persons.size() + plan.persons.size());
  for (std::size_t i = 0; i < state.persons.size(); ++i) person_at.emplace(state.persons[i].id, i);
  for (const Person& p : plan.persons) {
    auto [it, inserted] = person_at.try_emplace(p.id, state.persons.size());
    if (inserted) {
      state.persons.push_back(p);
    } else {
      state.persons[it->second] = p;
    }
  }
  std::unordered_map<std::string, std::size_t> link_at;
  link_at.reserve(state.links.size() + plan.links.size());
  auto link_key = LinkKeyText;
  for (std::size_t i = 0; i < state.links.size(); ++i) link_at.emplace(link_key(state.links[i]), i);
  for (const Link& l : plan.links) {
    auto [it, inserted] = link_at.try_emplace(link_key(l), state.links.size());
    if (inserted) {
      state.links.push_back(l);
    } else {
      state.links[it->second] = l;
    }
  }
  return state;
}

}  // namespace concord::reconcile
