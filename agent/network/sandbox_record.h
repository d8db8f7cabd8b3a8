#pragma once
// What Reef keeps on disk per sandbox, under <state_dir>/sandboxes/<id>.json: the exact
// configs passed to ADD, written before the first plugin runs, and the bridge's result
// once every step is done. DEL needs the same configs (portmap only removes what its
// runtimeConfig names), so a sandbox can be torn down after a crash or restart.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace reef::agent::network {

struct SandboxRecord {
  std::string sandbox_id;
  std::string container_id;  // CNI_CONTAINERID: the agent's prefix + the sandbox id
  std::string netns_path;
  nlohmann::json loopback_config;
  nlohmann::json bridge_config;
  nlohmann::json portmap_config;  // null when the sandbox maps no ports
  // Set when Setup finished: the bridge's result and the pod IP read from it.
  bool complete = false;
  nlohmann::json result;
  std::string ip;
  std::string host_veth;
};

class SandboxRecords {
 public:
  explicit SandboxRecords(std::string state_dir);

  // Atomically replaces the record (creating the folder on first use).
  absl::Status Write(const SandboxRecord& record) const;
  // NotFound when there is none; InvalidArgument (naming the file) when it does not parse.
  absl::StatusOr<SandboxRecord> Read(const std::string& sandbox_id) const;
  // Idempotent.
  absl::Status Remove(const std::string& sandbox_id) const;
  // The ids with a record, sorted.
  std::vector<std::string> Ids() const;

 private:
  std::string Path(const std::string& sandbox_id) const;

  std::string dir_;
};

}  // namespace reef::agent::network
