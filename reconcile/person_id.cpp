#include "reconcile/person_id.hpp"

#include <array>
#include <cstdint>

namespace concord::reconcile::detail {
namespace {

__extension__ using Uint128 = unsigned __int128;

// FNV-1a, 128-bit parameters from the FNV reference (draft-eastlake-fnv).
constexpr Uint128 kFnvOffset =
    (static_cast<Uint128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
constexpr Uint128 kFnvPrime = (static_cast<Uint128>(0x0000000001000000ULL) << 64) | 0x13BULL;

class Fnv1a128 {
 public:
  // Each field is followed by a separator byte that never occurs in text ids, so
  // ("ab","c") and ("a","bc") hash differently.
  void Field(std::string_view text) {
    for (unsigned char c : text) Byte(c);
    Byte(0x1F);
  }
  Uint128 value() const { return hash_; }

 private:
  void Byte(unsigned char c) {
    hash_ ^= c;
    hash_ *= kFnvPrime;
  }
  Uint128 hash_ = kFnvOffset;
};

// FNV-1a spreads a change in the last bytes over few output bits, so ids of records with
// similar remote ids would look alike. A final avalanche (MurmurHash3's fmix64, each half
// mixed with the other) makes every input bit affect every output bit.
std::uint64_t Fmix64(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

Uint128 Avalanche(Uint128 h) {
  auto hi = static_cast<std::uint64_t>(h >> 64);
  auto lo = static_cast<std::uint64_t>(h);
  lo ^= Fmix64(hi);
  hi ^= Fmix64(lo);
  lo ^= Fmix64(hi);
  return (static_cast<Uint128>(hi) << 64) | lo;
}

}  // namespace

std::string DerivePersonId(std::string_view tenant_id, Side side, std::string_view source,
                           std::string_view remote_id, int attempt) {
  Fnv1a128 fnv;
  fnv.Field("concord.person.v1");
  fnv.Field(tenant_id);
  fnv.Field(ToString(side));
  fnv.Field(source);
  fnv.Field(remote_id);
  if (attempt > 0) fnv.Field(std::to_string(attempt));
  Uint128 h = Avalanche(fnv.value());

  std::array<unsigned char, 16> bytes{};
  for (int i = 15; i >= 0; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(h & 0xFF);
    h >>= 8;
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x80);  // version 8
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // variant 10

  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 0x0F];
  }
  return id;
}

}  // namespace concord::reconcile::detail
