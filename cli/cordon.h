#pragma once
// Cordoning, shared by `reefctl cordon`, `uncordon` and `drain`.

#include <string>

#include "cli/client.h"

namespace reef::cli {

// Sets spec.unschedulable of the node (conflict-safe) and prints what happened as
// kubectl does: "node/pi-1 cordoned", "node/pi-1 already cordoned", "... uncordoned".
absl::Status SetUnschedulable(Client& client, const std::string& node, bool unschedulable);

}  // namespace reef::cli
