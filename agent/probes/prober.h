#pragma once
// A Prober runs one probe once, as the kubelet does: exec (through the Runtime),
// httpGet and tcpSocket. It does not keep state; thresholds and schedules are the
// ProbeManager's (probe_manager.h).
//
// Thread safety: Run may be called from many threads at once.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/runtime/runtime.h"
#include "reef/v1/core.pb.h"

namespace reef::agent::probes {

struct ProbeTarget {
  std::string container_id;  // the runtime id (for exec)
  // httpGet/tcpSocket host when the probe names none. Empty: 127.0.0.1, which is
  // right for a pod on the node's network.
  std::string pod_ip;
  std::vector<reef::v1::ContainerPort> ports;  // to resolve named ports
};

// The kubelet's three results. kError (its "Unknown") is a probe that could not be
// carried out (a named port that does not exist, the runtime failing to exec): the
// kubelet throws it away rather than count it against the container.
enum class ProbeResult { kSuccess, kFailure, kError };

struct ProbeOutcome {
  ProbeResult result = ProbeResult::kError;
  // In the kubelet's words: "HTTP probe failed with statuscode: 500",
  // "dial tcp 10.88.0.5:80: connect: connection refused", an exec probe's output.
  std::string message;

  bool success() const { return result == ProbeResult::kSuccess; }
  static ProbeOutcome Success(std::string message = "") {
    return {ProbeResult::kSuccess, std::move(message)};
  }
  static ProbeOutcome Failure(std::string message) {
    return {ProbeResult::kFailure, std::move(message)};
  }
  static ProbeOutcome Error(std::string message) {
    return {ProbeResult::kError, std::move(message)};
  }
};

class Prober {
 public:
  virtual ~Prober() = default;
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Runs the probe's handler (exec, httpGet or tcpSocket) once, within `timeout`.
  virtual ProbeOutcome Run(const reef::v1::Probe& probe, const ProbeTarget& target,
                           absl::Duration timeout) = 0;

 protected:
  Prober() = default;
};

// The real prober. exec: the command through runtime->Exec, exit 0 = success.
// httpGet: libcurl, HTTP or HTTPS without checking the certificate, host default the
// pod IP, path and httpHeaders, 200-399 = success, redirects followed only on the same
// host (a redirect elsewhere counts as success), no proxy. tcpSocket: a connect within
// the timeout = success. `runtime` must outlive the prober.
std::unique_ptr<Prober> NewProber(runtime::Runtime* runtime);

// Resolves an httpGet/tcpSocket port: a number, or the name of one of `ports`
// (kubelet: ResolveContainerPort). InvalidArgument when it is neither, or out of range.
absl::StatusOr<int> ResolvePort(const std::string& port,
                                const std::vector<reef::v1::ContainerPort>& ports);

}  // namespace reef::agent::probes
