#pragma once
// `reefctl describe`: an object as a person reads it, laid out like `kubectl
// describe` (aligned "Key:  value" lines, nested sections indented by two spaces,
// <none> for what is empty), followed by the events that concern it.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "reef/v1/api.pb.h"

namespace reef::cli {

// Describes `object` (any kind). `events` are reef.v1.Event objects about it (others
// are ignored), printed oldest first in the closing "Events:" table; `now` gives
// their ages. Returns "" for an Object with no kind set.
std::string DescribeObject(const reef::v1::Object& object,
                           const std::vector<reef::v1::Object>& events, absl::Time now);

// A Node as DescribeObject describes it, plus kubectl's Non-terminated Pods and
// Allocated resources sections computed from `pods` (any pods: those not bound to
// the node are ignored).
std::string DescribeNode(const reef::v1::Object& node, const std::vector<reef::v1::Object>& pods,
                         const std::vector<reef::v1::Object>& events, absl::Time now);

}  // namespace reef::cli
