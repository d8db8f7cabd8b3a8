#include "agent/probes/prober.h"

#include "absl/strings/numbers.h"
#include "agent/probes/handlers.h"

namespace reef::agent::probes {
namespace {

// A pod on the node's network has no address of its own: its ports are the node's.
constexpr char kDefaultHost[] = "127.0.0.1";

class RealProber : public Prober {
 public:
  explicit RealProber(runtime::Runtime* runtime) : runtime_(runtime) {}

  ProbeOutcome Run(const reef::v1::Probe& probe, const ProbeTarget& target,
                   absl::Duration timeout) override {
    if (probe.has_exec()) {
      std::vector<std::string> command(probe.exec().command().begin(),
                                       probe.exec().command().end());
      return ExecProbe(*runtime_, target.container_id, command, timeout);
    }
    if (probe.has_http_get()) {
      const reef::v1::HTTPGetAction& action = probe.http_get();
      absl::StatusOr<int> port = ResolvePort(action.port(), target.ports);
      if (!port.ok()) return ProbeOutcome::Error(std::string(port.status().message()));
      HttpGetRequest request;
      if (!action.scheme().empty()) request.scheme = action.scheme();
      request.host = HostFor(action.host(), target);
      request.port = *port;
      request.path = action.path();
      for (const reef::v1::HTTPHeader& h : action.http_headers()) {
        request.headers.emplace_back(h.name(), h.value());
      }
      return HttpGetProbe(request, timeout);
    }
    if (probe.has_tcp_socket()) {
      absl::StatusOr<int> port = ResolvePort(probe.tcp_socket().port(), target.ports);
      if (!port.ok()) return ProbeOutcome::Error(std::string(port.status().message()));
      return TcpProbe(HostFor(probe.tcp_socket().host(), target), *port, timeout);
    }
    return ProbeOutcome::Error("missing probe handler");
  }

 private:
  static std::string HostFor(const std::string& host, const ProbeTarget& target) {
    if (!host.empty()) return host;
    return target.pod_ip.empty() ? kDefaultHost : target.pod_ip;
  }

  runtime::Runtime* runtime_;
};

}  // namespace

std::unique_ptr<Prober> NewProber(runtime::Runtime* runtime) {
  return std::make_unique<RealProber>(runtime);
}

absl::StatusOr<int> ResolvePort(const std::string& port,
                                const std::vector<reef::v1::ContainerPort>& ports) {
  int number = -1;
  bool found = false;
  for (const reef::v1::ContainerPort& p : ports) {
    if (!p.name().empty() && p.name() == port) {
      number = p.container_port();
      found = true;
      break;
    }
  }
  // As the kubelet: a name that matches no port may still be a number in a string.
  if (!found && !absl::SimpleAtoi(reef::ToAbsl(port), &number)) {
    return absl::InvalidArgumentError(reef::StrCat("port ", port, " not found"));
  }
  if (number <= 0 || number > 65535) {
    return absl::InvalidArgumentError(reef::StrCat("invalid port number: ", number));
  }
  return number;
}

}  // namespace reef::agent::probes
