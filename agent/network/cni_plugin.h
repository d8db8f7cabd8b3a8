#pragma once
// One CNI plugin call: the plugin binary exec'd with CNI_* in its environment and the
// network config on stdin (CNI spec 1.0.0, "Execution Protocol").

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "common/status.h"

namespace reef::agent::network {

struct CniCall {
  std::string command;       // "ADD" or "DEL"
  std::string container_id;  // unique per sandbox; names the plugins' iptables chains
  std::string netns;         // the netns file; "" on a DEL whose namespace is gone
  std::string ifname;        // "eth0", "lo"
};

// Fails, naming the Debian package, unless every plugin in `types` is an executable
// file in bin_dir.
absl::Status CheckPlugins(const std::string& bin_dir, const std::vector<std::string>& types);

// Runs bin_dir/<config["type"]> and returns its result (null when it prints nothing, as
// DEL does). A failure reads "bridge ADD: <the plugin's msg>: <details>"; the plugin's
// "try again later" code (11) becomes Unavailable, anything else Internal.
absl::StatusOr<nlohmann::json> RunCniPlugin(const std::string& bin_dir, const CniCall& call,
                                            const nlohmann::json& config, absl::Duration timeout);

// The message of a failed call from what it printed: the CNI error object on stdout if
// there is one, otherwise stderr (a panicking plugin), otherwise the exit code.
std::string CniErrorMessage(int exit_code, const std::string& out, const std::string& err);

}  // namespace reef::agent::network
