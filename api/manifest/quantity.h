#pragma once
// Kubernetes resource quantities ("250m", "0.5", "64Mi", "1G", "1e3"), parsed the way
// k8s.io/apimachinery resource.Quantity parses them, but held exactly so that
// comparisons never depend on floating point.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"

namespace reef::manifest {

class Quantity {
 public:
  // Zero, spelled "0", so manifest structs can default-construct quantity fields.
  Quantity() = default;

  // Grammar: [+-]? (digits | digits "." digits? | "." digits) suffix, where suffix is
  // one of Ki Mi Gi Ti Pi Ei, n u m (none) k M G T P E, or a decimal exponent
  // [eE][+-]?digits. Negative values parse; callers decide whether they are allowed.
  // Like Kubernetes, a non-zero value finer than 1n is rounded away from zero to 1n.
  // Fails (InvalidArgument) on malformed text and on magnitudes whose MilliValue()
  // would not fit in an int64 (above 9223372036854775807m, about 8Pi).
  static absl::StatusOr<Quantity> Parse(std::string_view text);

  // The value in thousandths, rounded up (towards +infinity), like k8s MilliValue().
  int64_t MilliValue() const;
  // The value rounded up (towards +infinity) to an integer, like k8s Value().
  int64_t Value() const;
  bool IsNegative() const { return nanos_ < 0; }
  bool IsZero() const { return nanos_ == 0; }

  // The text this quantity was parsed from, unchanged (not canonicalized).
  std::string ToString() const { return text_; }

  // Compare numeric values exactly: 0.5 == 500m, 1e3 == 1k, 1Gi > 1G. The spelling
  // is ignored.
  friend bool operator==(const Quantity& a, const Quantity& b) {
    return a.nanos_ == b.nanos_;
  }
  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    if (a.nanos_ < b.nanos_) return std::strong_ordering::less;
    if (b.nanos_ < a.nanos_) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
  }

 private:
  Quantity(absl::int128 nanos, std::string text) : nanos_(nanos), text_(std::move(text)) {}

  // Value in units of 1e-9; |nanos_| <= INT64_MAX * 1e6 keeps MilliValue() in range.
  absl::int128 nanos_ = 0;
  std::string text_ = "0";
};

// How Kubernetes spells a quantity it computed itself (a sum of requests, a node's
// capacity) rather than one a person wrote.
enum class QuantityFormat {
  kDecimalSI,  // cpu and counts: 1500m, 2, 64k
  kBinarySI,   // bytes: 64Mi, 8039364Ki
};

// The canonical text of a value given in thousandths, as k8s Quantity.String() prints
// it: the largest suffix that keeps the number whole. kBinarySI falls back to decimal
// for values below 1024 or with a fractional part, as Kubernetes does:
// 1500 gives "1500m" and 2000 gives "2" in kDecimalSI; 1000 * 64Mi gives "64Mi" and
// 1000 * 1536 gives "1536" in kBinarySI.
std::string FormatQuantity(int64_t milli_value, QuantityFormat format);

// The format `q` was written in: kBinarySI for the Ki, Mi, ... suffixes. A sum keeps
// the format of its first term, as in Kubernetes.
QuantityFormat FormatOf(const Quantity& q);

}  // namespace reef::manifest
