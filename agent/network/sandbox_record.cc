#include "agent/network/sandbox_record.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/files.h"

namespace reef::agent::network {
namespace {

constexpr char kSuffix[] = ".json";
constexpr uint64_t kMaxRecordBytes = 1 << 20;

}  // namespace

SandboxRecords::SandboxRecords(std::string state_dir) : dir_(state_dir + "/sandboxes") {}

std::string SandboxRecords::Path(const std::string& sandbox_id) const {
  return reef::StrCat(dir_, "/", sandbox_id, kSuffix);
}

absl::Status SandboxRecords::Write(const SandboxRecord& r) const {
  RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  nlohmann::json j = {
      {"sandboxId", r.sandbox_id},
      {"containerId", r.container_id},
      {"netns", r.netns_path},
      {"loopbackConfig", r.loopback_config},
      {"bridgeConfig", r.bridge_config},
      {"portmapConfig", r.portmap_config},
      {"complete", r.complete},
      {"result", r.result},
      {"ip", r.ip},
      {"hostVeth", r.host_veth},
  };
  return WriteFileAtomic(Path(r.sandbox_id), j.dump(2) + "\n", 0600);
}

absl::StatusOr<SandboxRecord> SandboxRecords::Read(const std::string& sandbox_id) const {
  std::string path = Path(sandbox_id);
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, kMaxRecordBytes));
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    SandboxRecord r;
    r.sandbox_id = j.at("sandboxId").get<std::string>();
    r.container_id = j.at("containerId").get<std::string>();
    r.netns_path = j.at("netns").get<std::string>();
    r.loopback_config = j.at("loopbackConfig");
    r.bridge_config = j.at("bridgeConfig");
    r.portmap_config = j.value("portmapConfig", nlohmann::json());
    r.complete = j.value("complete", false);
    r.result = j.value("result", nlohmann::json());
    r.ip = j.value("ip", "");
    r.host_veth = j.value("hostVeth", "");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(reef::StrCat(path, ": ", e.what()));
  }
}

absl::Status SandboxRecords::Remove(const std::string& sandbox_id) const {
  std::string path = Path(sandbox_id);
  (void)::unlink((path + ".tmp").c_str());  // left by a crash inside WriteFileAtomic
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(reef::StrCat("remove ", path), errno);
  }
  return absl::OkStatus();
}

std::vector<std::string> SandboxRecords::Ids() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    // WriteFileAtomic's temporary files end differently and are skipped.
    if (name.size() > sizeof kSuffix - 1 && name.ends_with(kSuffix)) {
      ids.push_back(name.substr(0, name.size() - (sizeof kSuffix - 1)));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace reef::agent::network
