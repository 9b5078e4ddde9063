#include "reconcile/model.hpp"

#include <array>
#include <utility>

namespace concord::reconcile {
namespace {

template <typename Enum, std::size_t N>
using Names = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Names<Side, 2> kSideNames{{{Side::kFinance, "finance"}, {Side::kPortal, "portal"}}};
constexpr Names<LinkStatus, 4> kLinkStatusNames{{{LinkStatus::kActive, "active"},
                                                 {LinkStatus::kArchived, "archived"},
                                                 {LinkStatus::kDeleted, "deleted"},
                                                 {LinkStatus::kErased, "erased"}}};
constexpr Names<LinkRule, 4> kLinkRuleNames{{{LinkRule::kEmailExact, "email_exact"},
                                             {LinkRule::kNoEmail, "no_email"},
                                             {LinkRule::kPortalOrigin, "portal_origin"},
                                             {LinkRule::kManual, "manual"}}};
constexpr Names<PersonStatus, 3> kPersonStatusNames{{{PersonStatus::kActive, "active"},
                                                     {PersonStatus::kInactive, "inactive"},
                                                     {PersonStatus::kErased, "erased"}}};
constexpr Names<Origin, 2> kOriginNames{
    {{Origin::kFinance, "finance"}, {Origin::kPortal, "portal"}}};
constexpr Names<ReviewKind, 7> kReviewKindNames{
    {{ReviewKind::kInvalidEmail, "invalid_email"},
     {ReviewKind::kDuplicatePortalUsers, "duplicate_portal_users"},
     {ReviewKind::kEmailDrift, "email_drift"},
     {ReviewKind::kSecondaryEmailMatch, "secondary_email_match"},
     {ReviewKind::kLooseEmailMatch, "loose_email_match"},
     {ReviewKind::kPortalUserWithoutContact, "portal_user_without_contact"},
     {ReviewKind::kInvalidRecord, "invalid_record"}}};
constexpr Names<EventKind, 10> kEventKindNames{{{EventKind::kCreated, "created"},
                                                {EventKind::kLinked, "linked"},
                                                {EventKind::kRelinked, "relinked"},
                                                {EventKind::kMerged, "merged"},
                                                {EventKind::kUpdated, "updated"},
                                                {EventKind::kDeactivated, "deactivated"},
                                                {EventKind::kReactivated, "reactivated"},
                                                {EventKind::kReviewOpened, "review_opened"},
                                                {EventKind::kReviewClosed, "review_closed"},
                                                {EventKind::kQuarantined, "quarantined"}}};

template <typename Enum, std::size_t N>
std::string_view NameOf(const Names<Enum, N>& names, Enum value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

template <typename Enum, std::size_t N>
std::optional<Enum> ValueOf(const Names<Enum, N>& names, std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(Side v) { return NameOf(kSideNames, v); }
std::string_view ToString(LinkStatus v) { return NameOf(kLinkStatusNames, v); }
std::string_view ToString(LinkRule v) { return NameOf(kLinkRuleNames, v); }
std::string_view ToString(PersonStatus v) { return NameOf(kPersonStatusNames, v); }
std::string_view ToString(Origin v) { return NameOf(kOriginNames, v); }
std::string_view ToString(ReviewKind v) { return NameOf(kReviewKindNames, v); }
std::string_view ToString(EventKind v) { return NameOf(kEventKindNames, v); }

std::optional<Side> ParseSide(std::string_view t) { return ValueOf(kSideNames, t); }
std::optional<LinkStatus> ParseLinkStatus(std::string_view t) {
  return ValueOf(kLinkStatusNames, t);
}
std::optional<LinkRule> ParseLinkRule(std::string_view t) { return ValueOf(kLinkRuleNames, t); }
std::optional<PersonStatus> ParsePersonStatus(std::string_view t) {
  return ValueOf(kPersonStatusNames, t);
}
std::optional<Origin> ParseOrigin(std::string_view t) { return ValueOf(kOriginNames, t); }
std::optional<ReviewKind> ParseReviewKind(std::string_view t) {
  return ValueOf(kReviewKindNames, t);
}
std::optional<EventKind> ParseEventKind(std::string_view t) { return ValueOf(kEventKindNames, t); }

}  // namespace concord::reconcile
