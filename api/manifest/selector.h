#pragma once
// Label selectors: the string form `reefctl get -l` and the API take
// ("app=web,tier!=db,env in (a,b),!legacy") and the LabelSelector message of
// Deployments and DaemonSets, both compiled to one matcher.

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "google/protobuf/map.h"
#include "reef/v1/meta.pb.h"

namespace reef::manifest {

class Selector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  // The empty selector matches everything.
  Selector() = default;
  static absl::StatusOr<Selector> Parse(std::string_view text);
  static absl::StatusOr<Selector> FromProto(const reef::v1::LabelSelector& selector);

  bool Matches(const google::protobuf::Map<std::string, std::string>& labels) const;
  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return requirements_.empty(); }
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace reef::manifest
