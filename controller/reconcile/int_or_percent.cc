#include "controller/reconcile/int_or_percent.h"

#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace reef::reconcile {

int32_t ScaledValue(std::string_view value, int32_t total, bool round_up) {
  bool percent = !value.empty() && value.back() == '%';
  if (percent) value.remove_suffix(1);
  int64_t n = 0;
  if (!absl::SimpleAtoi(ToAbsl(value), &n) || n < 0) return 0;
  if (!percent) return static_cast<int32_t>(n);
  int64_t scaled = n * total;
  return static_cast<int32_t>(round_up ? (scaled + 99) / 100 : scaled / 100);
}

Fenceposts ResolveFenceposts(std::string_view max_surge, std::string_view max_unavailable,
                             int32_t desired) {
  Fenceposts f{ScaledValue(max_surge, desired, true), ScaledValue(max_unavailable, desired, false)};
  if (f.max_surge == 0 && f.max_unavailable == 0) f.max_unavailable = 1;
  return f;
}

}  // namespace reef::reconcile
