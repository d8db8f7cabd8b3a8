#include "cli/client.h"

#include <grpc/support/log.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/client_config.h"

namespace reef::cli {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);

struct ConfigLocation {
  std::string path;
  std::string source;  // "--config", "REEFCONFIG", "the default"
};

absl::StatusOr<ConfigLocation> ConfigPath(const GlobalOptions& options) {
  if (!options.config.empty()) return ConfigLocation{options.config, "--config"};
  if (const char* p = std::getenv("REEFCONFIG"); p && *p) return ConfigLocation{p, "REEFCONFIG"};
  if (const char* home = std::getenv("HOME"); home && *home) {
    return ConfigLocation{reef::StrCat(home, "/.reef/config"), "the default"};
  }
  return absl::NotFoundError(
      "no Reef config: pass --config FILE or set REEFCONFIG (reef-controller writes DATA_DIR/admin.conf)");
}

// Whether a plain TCP connection to HOST:PORT opens within `timeout`: tells a TLS
// failure (something answers) from a controller that is not there.
bool TcpReachable(const std::string& server, std::chrono::milliseconds timeout) {
  size_t colon = server.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = server.substr(0, colon), port = server.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints = {};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool reachable = false;
  for (addrinfo* a = found; a != nullptr && !reachable; a = a->ai_next) {
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      reachable = true;
    } else if (errno == EINPROGRESS) {
      pollfd p = {fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      reachable = poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
                  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return reachable;
}

// gRPC logs failed TLS handshakes and the like on stderr; reefctl says what went
// wrong in one line of its own. GRPC_VERBOSITY set brings gRPC's lines back.
void QuietGrpcLogs() {
  static const bool quiet = [] {
    const char* verbosity = std::getenv("GRPC_VERBOSITY");
    if (verbosity == nullptr || *verbosity == '\0') gpr_set_log_function([](gpr_log_func_args*) {});
    return true;
  }();
  (void)quiet;
}

}  // namespace

absl::StatusOr<ClientConfig> ResolveConfig(const GlobalOptions& options) {
  ASSIGN_OR_RETURN(ConfigLocation where, ConfigPath(options));
  auto file = ClientConfigFile::Load(where.path);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status()) && where.source == "the default") {
      return absl::NotFoundError(reef::StrCat(
          "no Reef config: ", where.path,
          " does not exist; pass --config FILE or set REEFCONFIG (reef-controller writes DATA_DIR/admin.conf)"));
    }
    return absl::Status(file.status().code(),
                        reef::StrCat("Reef config (from ", where.source, "): ", file.status().message()));
  }
  ClientConfig config{file->server, where.path, where.path, file->ca_pem, file->certificate_pem, file->key_pem};
  if (!options.server.empty()) {
    config.server = options.server;
    config.source = "--server";
  } else if (const char* env = std::getenv("REEF_SERVER"); env && *env) {
    config.server = env;
    config.source = "REEF_SERVER";
  }
  return config;
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const GlobalOptions& options) {
  ASSIGN_OR_RETURN(ClientConfig config, ResolveConfig(options));
  QuietGrpcLogs();
  auto client = std::make_unique<Client>();
  client->config_ = config;
  client->timeout_seconds_ = options.request_timeout_seconds;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);  // large lists
  args.SetMaxSendMessageSize(8 * 1024 * 1024);
  // Reconnect quickly when a watch loses its controller for a moment.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // A watch on a path that silently drops packets notices within ~40 s.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10 * 1000);
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = config.ca_pem;
  tls.pem_cert_chain = config.certificate_pem;
  tls.pem_private_key = config.key_pem;
  client->channel_ = grpc::CreateCustomChannel(config.server, grpc::SslCredentials(tls), args);
  client->stub_ = reef::v1::ApiService::NewStub(client->channel_);
  RETURN_IF_ERROR(client->WaitConnected(kConnectTimeout));
  return client;
}

absl::Status Client::WaitConnected(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::system_clock::now() + timeout;
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      if (TcpReachable(config_.server, std::chrono::seconds(1))) {
        return absl::UnavailableError(reef::StrCat(
            "the TLS handshake with the Reef controller at ", config_.server, " (from ", config_.source,
            ") failed: its certificate is not signed by the CA in ", config_.config_path,
            ", or does not cover that address (see reef-controller --tls-san)"));
      }
      return absl::UnavailableError(reef::StrCat(
          "cannot reach the Reef controller at ", config_.server, " (from ", config_.source,
          "): connection refused or unreachable; is reef-controller running?"));
    }
    if (!channel_->WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError(reef::StrCat(
          "cannot reach the Reef controller at ", config_.server, " (from ", config_.source,
          "): no answer within ", std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
          "s"));
    }
    state = channel_->GetState(true);
  }
  return absl::OkStatus();
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds_));
  return ctx;
}

std::unique_ptr<grpc::ClientContext> Client::StreamContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  // A stream resumed after the controller went away waits for it to come back rather
  // than failing at once.
  ctx->set_wait_for_ready(true);
  return ctx;
}

absl::Status Client::Explain(const grpc::Status& status, std::string_view what) const {
  if (status.ok()) return absl::OkStatus();
  auto code = static_cast<absl::StatusCode>(status.error_code());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::Status(code, reef::StrCat(what, ": lost the Reef controller at ", config_.server,
                                             ": ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::Status(code, reef::StrCat(what, ": the controller at ", config_.server,
                                             " did not answer within ", timeout_seconds_, "s"));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::Status(code, reef::StrCat(what, ": request too large: ", status.error_message()));
    default:
      return absl::Status(code, status.error_message());
  }
}

absl::StatusOr<reef::v1::Object> Client::GetObject(std::string_view kind, const std::string& ns,
                                                   const std::string& name) const {
  reef::v1::GetRequest request;
  request.set_kind(std::string(kind));
  request.set_namespace_(ns);
  request.set_name(name);
  reef::v1::Object object;
  auto ctx = Context();
  grpc::Status status = stub_->Get(ctx.get(), request, &object);
  if (!status.ok()) return Explain(status, "get");
  return object;
}

absl::StatusOr<reef::v1::ListResponse> Client::ListObjects(std::string_view kind,
                                                           const std::string& ns,
                                                           const std::string& selector) const {
  reef::v1::ListRequest request;
  request.set_kind(std::string(kind));
  request.set_namespace_(ns);
  request.set_label_selector(selector);
  reef::v1::ListResponse response;
  auto ctx = Context();
  grpc::Status status = stub_->List(ctx.get(), request, &response);
  if (!status.ok()) return Explain(status, "list");
  return response;
}

}  // namespace reef::cli
