#pragma once
// One error currency for Reef: absl::Status / absl::StatusOr, with two macros that
// Debian's abseil (20220623) does not ship yet.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

#define REEF_CONCAT_INNER_(a, b) a##b
#define REEF_CONCAT_(a, b) REEF_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status reef_status_ = (expr);              \
    if (!reef_status_.ok()) return reef_status_;       \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates an absl::StatusOr<T>; on error returns its
// status, otherwise moves the value into `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(REEF_CONCAT_(reef_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

namespace reef {

// Prefixes a status message with context, keeping its code:
// Annotate(s, "fetch manifest") -> "fetch manifest: <original message>".
inline absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), reef::StrCat(context, ": ", status.message()));
}

}  // namespace reef
