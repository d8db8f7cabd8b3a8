#pragma once
// The three probe handlers behind NewProber (prober.h), one file each. Internal to
// agent/probes; tests call them directly against loopback servers.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/probes/prober.h"
#include "agent/runtime/runtime.h"

namespace reef::agent::probes {

// Runs the command in the container: exit 0 = success; the failure message is its
// output (as the kubelet reports "Liveness probe failed: cat: can't open ..."), or
// `command "..." exited with N` when it printed nothing.
ProbeOutcome ExecProbe(runtime::Runtime& runtime, const std::string& container_id,
                       const std::vector<std::string>& command, absl::Duration timeout);

struct HttpGetRequest {
  std::string scheme = "HTTP";  // HTTP or HTTPS
  std::string host;             // a name or an address (IPv6 without brackets)
  int port = 80;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
};
ProbeOutcome HttpGetProbe(const HttpGetRequest& request, absl::Duration timeout);

ProbeOutcome TcpProbe(const std::string& host, int port, absl::Duration timeout);

// "host:port", with brackets around an IPv6 address (Go's net.JoinHostPort).
std::string JoinHostPort(const std::string& host, int port);

}  // namespace reef::agent::probes
