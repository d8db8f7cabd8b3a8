#include "api/manifest/quantity.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace reef::manifest {
namespace {

constexpr absl::string_view kExamples = "(use e.g. 250m, 0.5, 64Mi, 1G, 1e3)";

// INT64_MAX milli, in nanos: the largest magnitude whose MilliValue() fits in int64.
const absl::int128 kMaxNanos =
    absl::int128(std::numeric_limits<int64_t>::max()) * 1000000;
// Digits of kMaxNanos (9223372036854775807000000); longer integers are out of range.
constexpr size_t kMaxNanoDigits = 25;
// Exponents are clamped here while parsing: far beyond any representable value, yet
// small enough that exponent arithmetic cannot overflow int64.
constexpr int64_t kExponentClamp = 1'000'000'000'000'000;

// Debian's abseil keeps absl::string_view distinct from std::string_view.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(std::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("quantity \"", absl::CEscape(Absl(text)), "\": ", why));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Value multiplier of a suffix: 10^decimal_exponent * 2^binary_exponent.
struct Suffix {
  int64_t decimal_exponent = 0;
  int binary_exponent = 0;
};

std::optional<Suffix> ParseSuffix(std::string_view s) {
  if (s.empty()) return Suffix{};
  if (s.size() == 2 && s[1] == 'i') {
    switch (s[0]) {
      case 'K': return Suffix{0, 10};
      case 'M': return Suffix{0, 20};
      case 'G': return Suffix{0, 30};
      case 'T': return Suffix{0, 40};
      case 'P': return Suffix{0, 50};
      case 'E': return Suffix{0, 60};
      default: return std::nullopt;
    }
  }
  if (s.size() == 1) {
    // A lone "E" is exa, not an exponent; a lone "e" is nothing (as in Kubernetes).
    switch (s[0]) {
      case 'n': return Suffix{-9, 0};
      case 'u': return Suffix{-6, 0};
      case 'm': return Suffix{-3, 0};
      case 'k': return Suffix{3, 0};
      case 'M': return Suffix{6, 0};
      case 'G': return Suffix{9, 0};
      case 'T': return Suffix{12, 0};
      case 'P': return Suffix{15, 0};
      case 'E': return Suffix{18, 0};
      default: return std::nullopt;
    }
  }
  if (s[0] != 'e' && s[0] != 'E') return std::nullopt;
  size_t pos = 1;
  bool negative = false;
  if (s[pos] == '+' || s[pos] == '-') {
    negative = s[pos] == '-';
    ++pos;
  }
  if (pos == s.size()) return std::nullopt;
  int64_t exponent = 0;
  for (; pos < s.size(); ++pos) {
    if (!IsDigit(s[pos])) return std::nullopt;
    exponent = exponent * 10 + (s[pos] - '0');
    if (exponent > kExponentClamp) exponent = kExponentClamp;
  }
  return Suffix{negative ? -exponent : exponent, 0};
}

// digits (decimal, most significant first) *= multiplier, in place.
void MultiplyDigits(std::string& digits, int multiplier) {
  int carry = 0;
  for (size_t i = digits.size(); i-- > 0;) {
    const int product = (digits[i] - '0') * multiplier + carry;
    digits[i] = static_cast<char>('0' + product % 10);
    carry = product / 10;
  }
  std::string prefix;
  for (; carry > 0; carry /= 10) {
    prefix.insert(prefix.begin(), static_cast<char>('0' + carry % 10));
  }
  digits.insert(0, prefix);
}

// ceil(n / d) for d > 0; truncating division already rounds negatives up.
int64_t CeilDiv(absl::int128 n, int64_t d) {
  absl::int128 q = n / d;
  if (n > 0 && n % d != 0) ++q;
  return static_cast<int64_t>(q);
}

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      return Invalid(text, "must not contain whitespace");
    }
  }

  size_t pos = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    ++pos;
  }
  const size_t int_begin = pos;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  const std::string_view int_digits = text.substr(int_begin, pos - int_begin);
  std::string_view frac_digits;
  if (pos < text.size() && text[pos] == '.') {
    const size_t frac_begin = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    frac_digits = text.substr(frac_begin, pos - frac_begin);
  }
  if (int_digits.empty() && frac_digits.empty()) {
    return Invalid(text, absl::StrCat("must start with a number ", kExamples));
  }
  const std::string_view rest = text.substr(pos);
  if (!rest.empty() && rest[0] == '.') {
    return Invalid(text, "more than one decimal point");
  }
  const std::optional<Suffix> suffix = ParseSuffix(rest);
  if (!suffix.has_value()) {
    return Invalid(text, absl::StrCat("unknown suffix \"", absl::CEscape(Absl(rest)), "\" ",
                                      kExamples));
  }

  // The value is digits * 2^binary_exponent * 10^shift nanos. Arbitrary-precision
  // decimal digits keep this exact however many digits the user wrote.
  std::string digits = absl::StrCat(Absl(int_digits), Absl(frac_digits));
  const size_t first_nonzero = digits.find_first_not_of('0');
  if (first_nonzero == std::string::npos) return Quantity(0, std::string(text));
  digits.erase(0, first_nonzero);
  for (int b = suffix->binary_exponent; b > 0; b -= 10) {
    MultiplyDigits(digits, 1 << (b < 10 ? b : 10));
  }
  const int64_t shift =
      suffix->decimal_exponent + 9 - static_cast<int64_t>(frac_digits.size());

  // Split into whole nanos and a sub-nano remainder, which rounds away from zero.
  std::string_view whole = digits;
  size_t trailing_zeros = 0;
  bool round_up = false;
  if (shift < 0) {
    const uint64_t cut = static_cast<uint64_t>(-shift);
    if (cut >= digits.size()) {
      whole = {};
      round_up = true;  // digits are non-zero, so the whole value is a sub-nano sliver
    } else {
      whole = std::string_view(digits).substr(0, digits.size() - cut);
      round_up = std::string_view(digits).substr(whole.size()).find_first_not_of('0') !=
                 std::string_view::npos;
    }
  } else {
    trailing_zeros = static_cast<size_t>(shift);
  }

  auto too_large = [text] {
    return Invalid(text, absl::StrCat("magnitude too large; the largest supported is ",
                                      std::numeric_limits<int64_t>::max(), "m (about 8Pi)"));
  };
  // whole has no leading zeros, so its length bounds its magnitude.
  if (trailing_zeros > kMaxNanoDigits || whole.size() + trailing_zeros > kMaxNanoDigits) {
    return too_large();
  }
  absl::int128 nanos = 0;
  for (char c : whole) nanos = nanos * 10 + (c - '0');
  for (size_t i = 0; i < trailing_zeros; ++i) nanos *= 10;
  if (round_up) ++nanos;
  if (nanos > kMaxNanos) return too_large();
  return Quantity(negative ? -nanos : nanos, std::string(text));
}

int64_t Quantity::MilliValue() const { return CeilDiv(nanos_, 1'000'000); }

int64_t Quantity::Value() const { return CeilDiv(nanos_, 1'000'000'000); }

std::string FormatQuantity(int64_t milli_value, QuantityFormat format) {
  if (milli_value == 0) return "0";
  const bool negative = milli_value < 0;
  // In uint64 so that INT64_MIN has a magnitude too.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(milli_value)
                                : static_cast<uint64_t>(milli_value);
  const char* sign = negative ? "-" : "";
  if (format == QuantityFormat::kBinarySI && magnitude % 1000 == 0 && magnitude >= 1024 * 1000) {
    static constexpr const char* kBinarySuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    uint64_t value = magnitude / 1000;
    size_t suffix = 0;
    while (value % 1024 == 0 && suffix + 1 < std::size(kBinarySuffixes)) {
      value /= 1024;
      ++suffix;
    }
    return absl::StrCat(sign, value, kBinarySuffixes[suffix]);
  }
  // Decimal: drop factors of ten in steps of three, from milli up.
  static constexpr const char* kDecimalSuffixes[] = {"m", "", "k", "M", "G", "T", "P", "E"};
  size_t suffix = 0;
  while (magnitude % 1000 == 0 && suffix + 1 < std::size(kDecimalSuffixes)) {
    magnitude /= 1000;
    ++suffix;
  }
  return absl::StrCat(sign, magnitude, kDecimalSuffixes[suffix]);
}

QuantityFormat FormatOf(const Quantity& q) {
  const std::string text = q.ToString();
  return text.size() >= 2 && text.back() == 'i' ? QuantityFormat::kBinarySI
                                                : QuantityFormat::kDecimalSI;
}

}  // namespace reef::manifest
