#pragma once
// Debian's abseil (20220623) is built with its own absl::string_view rather than
// std::string_view, so absl::StrCat does not take a std::string_view. reef::StrCat
// does: it converts those arguments and forwards the rest unchanged.

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace reef {

template <typename T>
decltype(auto) AsAlphaNum(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_convertible_v<const T&, absl::string_view>) {
    std::string_view v = value;
    return absl::string_view(v.data(), v.size());
  } else {
    return (value);
  }
}

template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(AsAlphaNum(args)...);
}

inline absl::string_view ToAbsl(std::string_view v) { return absl::string_view(v.data(), v.size()); }
inline std::string_view ToStd(absl::string_view v) { return std::string_view(v.data(), v.size()); }

}  // namespace reef
